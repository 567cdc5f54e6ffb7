package elastic

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/castellan-itdr/castellan/sinks/delivery"
	"github.com/castellan-itdr/castellan/sinks/secret"
)

// Type is the sink type name used in config keys.
const Type = "elastic"

// Config configures the Elasticsearch sink.
type Config struct {
	// Addresses are the Elasticsearch node URLs (https://es01:9200). Set
	// either Addresses or CloudID.
	Addresses []string `yaml:"addresses"`
	// CloudID is the Elastic Cloud deployment id (name:base64…).
	CloudID string `yaml:"cloud_id"`
	// APIKey is an Elasticsearch API key: the "encoded" value Kibana shows
	// (base64 of id:key), or "id:key" as-is. Set either APIKey or
	// Username and Password.
	APIKey secret.Secret `yaml:"api_key"`
	// Username and Password are for basic authentication.
	Username string        `yaml:"username"`
	Password secret.Secret `yaml:"password"`
	// Namespace is the data stream namespace: logs-castellan.alert-<namespace>.
	Namespace string `yaml:"namespace"`
	// InstallTemplates installs the castellan component and index templates
	// at start (default true). Set false when an administrator manages them.
	InstallTemplates bool `yaml:"install_templates"`
	// TLS configures server certificate verification.
	TLS TLSConfig `yaml:"tls"`
	// FlushBytes caps the body of one _bulk request; a larger batch is sent
	// as several sequential requests. Default 5 MB.
	FlushBytes int `yaml:"flush_bytes"`
	// Timeout bounds one _bulk request. Default 30s.
	Timeout time.Duration `yaml:"timeout"`
	// Select chooses record kinds and a minimum severity.
	Select delivery.Selection `yaml:",inline"`
}

// TLSConfig configures how the server certificate is verified.
type TLSConfig struct {
	// CAFile is a PEM file of the CA(s) that signed the server certificate
	// (for a self-signed cluster); the system pool is used when empty.
	CAFile string `yaml:"ca_file"`
	// InsecureSkipVerify disables verification. For tests only.
	InsecureSkipVerify bool `yaml:"insecure_skip_verify"`
}

// Defaults.
const (
	DefaultNamespace  = "default"
	DefaultFlushBytes = 5 << 20
	DefaultTimeout    = 30 * time.Second
)

// NewDefaultConfig returns the defaults: namespace "default", templates
// installed, 5 MB requests, 30s timeout, alerts and incidents.
func NewDefaultConfig() *Config {
	return &Config{Namespace: DefaultNamespace, InstallTemplates: true, FlushBytes: DefaultFlushBytes, Timeout: DefaultTimeout}
}

// Validate reports every problem. It makes no network call.
func (c *Config) Validate() error {
	var errs []error
	switch {
	case len(c.Addresses) == 0 && c.CloudID == "":
		errs = append(errs, errors.New("addresses: set addresses or cloud_id"))
	case len(c.Addresses) > 0 && c.CloudID != "":
		errs = append(errs, errors.New("cloud_id: set addresses or cloud_id, not both"))
	}
	for i, a := range c.Addresses {
		u, err := url.Parse(a)
		switch {
		case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "":
			errs = append(errs, fmt.Errorf("addresses[%d]: want an http(s)://host:port URL", i))
		case u.User != nil:
			// Never echo the address: it holds a password.
			errs = append(errs, fmt.Errorf("addresses[%d]: must not embed credentials; use username and password or api_key", i))
		}
	}
	if c.CloudID != "" && !strings.Contains(c.CloudID, ":") {
		errs = append(errs, errors.New("cloud_id: want <name>:<base64>, as shown in the Elastic Cloud console"))
	}
	basic := c.Username != "" || c.Password != ""
	switch {
	case c.APIKey != "" && basic:
		errs = append(errs, errors.New("api_key: set api_key or username and password, not both"))
	case c.APIKey == "" && !basic:
		errs = append(errs, errors.New("api_key: required (or username and password)"))
	case basic && c.Username == "":
		errs = append(errs, errors.New("username: required with password"))
	case basic && c.Password == "":
		errs = append(errs, errors.New("password: required with username"))
	}
	if err := validNamespace(c.Namespace); err != nil {
		errs = append(errs, fmt.Errorf("namespace: %w", err))
	}
	if c.FlushBytes < 0 {
		errs = append(errs, errors.New("flush_bytes: must be >= 0"))
	}
	if c.Timeout < 0 {
		errs = append(errs, errors.New("timeout: must be >= 0"))
	}
	if err := c.Select.Validate(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// validNamespace applies the data stream naming scheme: lower case, no
// dashes, none of \/*?"<>|,#: or space, at most 100 bytes.
func validNamespace(ns string) error {
	switch {
	case ns == "":
		return errors.New("required")
	case len(ns) > 100:
		return errors.New("at most 100 bytes")
	case strings.ToLower(ns) != ns:
		return errors.New("must be lower case")
	case strings.ContainsAny(ns, "-\\/*?\"<>|,#: "):
		return errors.New(`must not contain - \ / * ? " < > | , # : or space`)
	}
	return nil
}
