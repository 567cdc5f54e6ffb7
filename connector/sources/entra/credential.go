package entra

import (
	"github.com/Azure/azure-sdk-for-go/sdk/azcore"

	"github.com/castellan-itdr/castellan/connector/sources/entra/entracred"
)

// endpoints of the configured cloud: the Graph base URL (with version).
type endpoints struct {
	graphURL string
}

// endpointsOf resolves the cloud and the graph_url override of cfg.
func endpointsOf(cfg *Config) endpoints {
	return endpoints{graphURL: cfg.GraphEndpoint()}
}

// newCredential builds the configured credential (package entracred, the
// same construction as response.entra's). It reads the certificate file
// (client_certificate) but makes no network call: tokens are requested on
// first use. opts may carry a test transport.
func newCredential(cfg *Config, opts azcore.ClientOptions) (azcore.TokenCredential, error) {
	return entracred.New(cfg.Settings, opts)
}
