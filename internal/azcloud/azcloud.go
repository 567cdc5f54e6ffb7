// Package azcloud is the one list of the Azure clouds and Entra ID
// credential methods that Castellan's Azure components (the Entra source
// and responder, the Sentinel sink) accept in their config, and the azcore
// configuration of each cloud. It sits outside connector and sinks so both
// may import it.
package azcloud

import "github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"

// Clouds (config key cloud).
const (
	Public = "public"
	USGov  = "usgov"
	China  = "china"
)

// Credential methods (config key auth.method).
const (
	AuthClientSecret      = "client_secret"
	AuthClientCertificate = "client_certificate"
	AuthManagedIdentity   = "managed_identity"
	AuthWorkloadIdentity  = "workload_identity"
)

// Configuration returns the azcore configuration (Entra authority and
// service endpoints) of the named cloud; ok is false, with the zero
// configuration, for a name that is not one of the clouds. An empty name
// is not resolved here: callers apply their default first.
func Configuration(name string) (c cloud.Configuration, ok bool) {
	switch name {
	case Public:
		return cloud.AzurePublic, true
	case USGov:
		return cloud.AzureGovernment, true
	case China:
		return cloud.AzureChina, true
	}
	return cloud.Configuration{}, false
}
