package entra

import (
	"errors"
	"fmt"
	"time"

	"github.com/castellan-itdr/castellan/connector/sources/entra/entraauth"
)

// Authentication methods (auth.method), from package entraauth.
const (
	AuthClientSecret      = entraauth.AuthClientSecret
	AuthClientCertificate = entraauth.AuthClientCertificate
	AuthManagedIdentity   = entraauth.AuthManagedIdentity
	AuthWorkloadIdentity  = entraauth.AuthWorkloadIdentity
)

// Clouds (cloud), from package entraauth.
const (
	CloudPublic = entraauth.CloudPublic
	CloudUSGov  = entraauth.CloudUSGov
	CloudChina  = entraauth.CloudChina
)

// Resource names (resources).
const (
	ResourceSignIns          = "signins"
	ResourceDirectoryAudits  = "directory_audits"
	ResourceRiskDetections   = "risk_detections"
	ResourceRiskyUsers       = "risky_users"
	maxPageSizeSignIns       = 1000
	maxPageSizeRiskDetection = 500
)

// AllResources lists every resource, in polling order.
var AllResources = []string{ResourceSignIns, ResourceDirectoryAudits, ResourceRiskDetections, ResourceRiskyUsers}

// Config configures the entra source: Microsoft Graph polled for sign-ins,
// directory audits and Identity Protection risk.
type Config struct {
	// Settings are the tenant, the app and its credential, and the cloud:
	// tenant_id, client_id, auth, cloud, graph_url, authority_host, the
	// same keys as response.entra. The tenant id also enters event ids (a
	// GUID keeps them equal to the Event Hubs source's).
	entraauth.Settings `yaml:",inline"`
	// Resources to poll: signins, directory_audits, risk_detections,
	// risky_users. Default all.
	Resources []string `yaml:"resources"`
	// PollInterval is the time between polls. Default 1m.
	PollInterval time.Duration `yaml:"poll_interval"`
	// Overlap is how far before the newest record already handed off each
	// poll queries again, for records Graph ingests late. Default 10m.
	Overlap time.Duration `yaml:"overlap"`
	// PageSize is $top. Default 1000 (risk detections at most 500).
	PageSize int `yaml:"page_size"`
	// StartAt is how far back the first poll (no checkpoint) reaches.
	// Default 24h.
	StartAt time.Duration `yaml:"start_at"`
	// Users configures the users poll (see UsersConfig); default on, 6h.
	Users UsersConfig `yaml:"users"`
}

// Auth configures the credential (entraauth.Auth).
type Auth = entraauth.Auth

// NewDefaultConfig returns the defaults: public cloud, client-secret
// auth, every resource, poll every minute with 10 minutes of overlap,
// pages of 1000, a first poll reaching 24 hours back.
func NewDefaultConfig() *Config {
	return &Config{
		Settings:     entraauth.Default(),
		Resources:    append([]string(nil), AllResources...),
		PollInterval: time.Minute,
		Overlap:      10 * time.Minute,
		PageSize:     1000,
		StartAt:      24 * time.Hour,
	}
}

// Validate reports every problem, each as "field: problem". It reads no
// file and opens no connection except to check that a certificate file
// exists.
func (c *Config) Validate() error {
	var errs []error
	add := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }
	if err := c.Settings.Validate(); err != nil {
		errs = append(errs, err)
	}
	seen := map[string]bool{}
	for i, r := range c.Resources {
		if _, ok := resources[r]; !ok {
			add("resources[%d]: unknown resource %q (signins, directory_audits, risk_detections, risky_users)", i, r)
		} else if seen[r] {
			add("resources[%d]: %q listed twice", i, r)
		}
		seen[r] = true
	}
	if c.PollInterval < time.Second {
		add("poll_interval: must be at least 1s, not %s", c.PollInterval)
	}
	if c.Overlap < 0 {
		add("overlap: must not be negative")
	}
	if c.PageSize < 1 || c.PageSize > maxPageSizeSignIns {
		add("page_size: must be 1..%d, not %d", maxPageSizeSignIns, c.PageSize)
	}
	if c.StartAt <= 0 {
		add("start_at: must be positive, not %s", c.StartAt)
	}
	errs = append(errs, c.Users.validate()...)
	return errors.Join(errs...)
}

// resourceList is the configured resources, or all.
func (c *Config) resourceList() []string {
	if len(c.Resources) == 0 {
		return AllResources
	}
	return c.Resources
}

func isLoopback(host string) bool { return entraauth.IsLoopback(host) }
