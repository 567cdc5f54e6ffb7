package splunk

import (
	"errors"
	"fmt"
	"net/url"
	"os"
	"regexp"
	"time"

	"github.com/castellan-itdr/castellan/sinks/delivery"
	"github.com/castellan-itdr/castellan/sinks/secret"
)

// Type is the sink type name used in config keys.
const Type = "splunk"

// Config configures the Splunk HEC sink.
type Config struct {
	// Endpoint is the HEC base URL, e.g. https://splunk:8088 (the path
	// /services/collector/event is added unless the URL already has a
	// /services/collector path).
	Endpoint string `yaml:"endpoint"`
	// Token is the HEC token (sent as "Authorization: Splunk <token>").
	Token secret.Secret `yaml:"token"`
	// Index overrides the token's default index.
	Index string `yaml:"index"`
	// Source and Host set the events' source and host metadata.
	Source string `yaml:"source"`
	Host   string `yaml:"host"`
	// SourcetypePrefix makes the sourcetypes <prefix>:<kind>; default
	// "castellan" (castellan:alert, ...), which the Splunk app expects.
	SourcetypePrefix string `yaml:"sourcetype_prefix"`
	// UseAck waits for indexer acknowledgement (token with useACK; Splunk
	// Enterprise, sticky sessions behind a load balancer).
	UseAck bool `yaml:"use_ack"`
	// Channel is the X-Splunk-Request-Channel GUID; default a random one per
	// process.
	Channel string `yaml:"channel"`
	// AckTimeout is how long to wait for acks before resending a batch.
	AckTimeout time.Duration `yaml:"ack_timeout"`
	// TLS configures server verification.
	TLS TLSConfig `yaml:"tls"`
	// MaxBatchBytes caps one HEC request body; default 800 KB, below HEC's
	// historical 1,000,000-byte max_content_length.
	MaxBatchBytes int `yaml:"max_batch_bytes"`
	// Timeout bounds one HTTP request.
	Timeout time.Duration `yaml:"timeout"`
	// Select chooses record kinds and a minimum severity.
	Select delivery.Selection `yaml:",inline"`
}

// TLSConfig configures how the HEC server certificate is verified.
type TLSConfig struct {
	// CAFile is a PEM bundle trusted in addition to the system roots.
	CAFile string `yaml:"ca_file"`
	// InsecureSkipVerify disables verification (tests only).
	InsecureSkipVerify bool `yaml:"insecure_skip_verify"`
}

// NewDefaultConfig returns the defaults.
func NewDefaultConfig() *Config {
	return &Config{
		SourcetypePrefix: "castellan",
		AckTimeout:       time.Minute,
		MaxBatchBytes:    800_000,
		Timeout:          30 * time.Second,
	}
}

var (
	guidRE = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)
	// Splunk index and sourcetype names: no spaces or quotes.
	nameRE = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_:.\-]*$`)
)

// Validate reports every problem, with its key.
func (c *Config) Validate() error {
	var errs []error
	if c.Endpoint == "" {
		errs = append(errs, errors.New("endpoint: required"))
	} else if u, err := url.Parse(c.Endpoint); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		errs = append(errs, fmt.Errorf("endpoint: want an http(s) URL such as https://splunk:8088, got %q", c.Endpoint))
	}
	if c.Token == "" {
		errs = append(errs, errors.New("token: required (the HEC token, e.g. ${env:HEC_TOKEN})"))
	}
	if c.Index != "" && !nameRE.MatchString(c.Index) {
		errs = append(errs, fmt.Errorf("index: invalid name %q", c.Index))
	}
	if c.SourcetypePrefix == "" || !nameRE.MatchString(c.SourcetypePrefix) {
		errs = append(errs, fmt.Errorf("sourcetype_prefix: invalid %q", c.SourcetypePrefix))
	}
	if c.Channel != "" && !guidRE.MatchString(c.Channel) {
		errs = append(errs, fmt.Errorf("channel: must be a GUID, got %q", c.Channel))
	}
	if c.UseAck && c.AckTimeout <= 0 {
		errs = append(errs, errors.New("ack_timeout: must be > 0 with use_ack"))
	}
	if c.MaxBatchBytes < 1024 {
		errs = append(errs, fmt.Errorf("max_batch_bytes: must be >= 1024, got %d", c.MaxBatchBytes))
	}
	if c.Timeout <= 0 {
		errs = append(errs, errors.New("timeout: must be > 0"))
	}
	if c.TLS.CAFile != "" {
		if _, err := os.Stat(c.TLS.CAFile); err != nil {
			errs = append(errs, fmt.Errorf("tls.ca_file: %w", err))
		}
	}
	if err := c.Select.Validate(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}
