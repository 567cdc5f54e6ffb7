package entra

import (
	"errors"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/castellan-itdr/castellan/connector/component"
)

// Type is the source type name used in configuration ("entra/contoso").
const Type = "entra"

// New validates cfg, builds the credential and the Graph client, and
// returns a source that is not yet started. No network call is made:
// tokens and data are requested by the first poll.
func New(cfg *Config, set component.SourceSettings) (*Source, error) {
	cred, err := validCredential(cfg)
	if err != nil {
		return nil, err
	}
	pager, err := NewGraphPager(cred, endpointsOf(cfg).graphURL)
	if err != nil {
		return nil, errors.Join(errors.New("entra: graph client"), err)
	}
	return newSource(cfg, set, pager)
}

// NewWithPager is New with a caller-supplied Pager instead of the Graph
// client (replay tools, tests). cfg's credential settings are validated
// but not used.
func NewWithPager(cfg *Config, set component.SourceSettings, pager Pager) (*Source, error) {
	if err := validate(cfg); err != nil {
		return nil, err
	}
	return newSource(cfg, set, pager)
}

// validate rejects a nil or invalid config.
func validate(cfg *Config) error {
	if cfg == nil {
		return errors.New("entra: nil config")
	}
	if err := cfg.Validate(); err != nil {
		return errors.Join(errors.New("entra: invalid config"), err)
	}
	return nil
}

// validCredential validates cfg and builds its credential (no network
// call).
func validCredential(cfg *Config) (azcore.TokenCredential, error) {
	if err := validate(cfg); err != nil {
		return nil, err
	}
	cred, err := newCredential(cfg, azcore.ClientOptions{})
	if err != nil {
		return nil, errors.Join(errors.New("entra: credential"), err)
	}
	return cred, nil
}
