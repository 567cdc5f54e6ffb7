// Package entra is the Entra ID directory of package connector/respond:
// response actions through Microsoft Graph (msgraph-sdk-go), kept in its
// own package so that only what acts on Entra pays the SDK's build cost.
//
// Actions (reference siem-and-graph-apis.md §4.5): disable_user and
// enable_user (PATCH /users/{id} {"accountEnabled": false|true}),
// revoke_sessions (POST /users/{id}/revokeSignInSessions),
// confirm_compromised and dismiss_risk (POST
// /identityProtection/riskyUsers/confirmCompromised|dismiss {"userIds":
// [id]}). Each reads the user (and its risk) before and after.
package entra
