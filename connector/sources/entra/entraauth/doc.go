// Package entraauth is the one shape of the Entra ID app settings — tenant,
// client, credential method and cloud — shared by every part of Castellan
// that talks to Microsoft Graph: the entra source and posture collector
// (connector/sources/entra) and the Entra response directory
// (response.entra, connector/respond/entra).
//
// It holds only the settings, their defaults and their validation, and
// imports no Azure SDK, so that connector/config can embed it and stay
// light. Package entracred builds the azidentity credential from it.
package entraauth
