package eventhub

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"os"
	"regexp"
	"strconv"
	"strings"

	"github.com/castellan-itdr/castellan/sinks/secret"
)

// Start positions for a consumer group without committed offsets.
const (
	StartEarliest = "earliest"
	StartLatest   = "latest"
)

// Defaults.
const (
	DefaultConsumerGroup  = "castellan"
	DefaultBatchSize      = 500
	DefaultMaxPollRecords = 500
	// EventHubsKafkaPort is the port of Event Hubs' Kafka endpoint.
	EventHubsKafkaPort = 9093
	// ConnectionStringUser is the SASL PLAIN user name Event Hubs expects
	// when the password is a connection string.
	ConnectionStringUser = "$ConnectionString"
)

// Config configures the eventhub source: Entra diagnostic logs read from an
// Azure Event Hub through its Kafka endpoint, or from any Kafka topic.
type Config struct {
	// ConnectionString is an Event Hubs connection string:
	// "Endpoint=sb://NAMESPACE.servicebus.windows.net/;SharedAccessKeyName=..;
	// SharedAccessKey=..;EntityPath=HUB". It sets the broker
	// (NAMESPACE.servicebus.windows.net:9093), SASL PLAIN and TLS. Exclusive
	// with Brokers.
	ConnectionString secret.Secret `yaml:"connection_string"`
	// Brokers are host:port seeds of a plain Kafka cluster. Exclusive with
	// ConnectionString.
	Brokers []string `yaml:"brokers"`
	// Topic is the topic to read. With a connection string it defaults to
	// the EntityPath; it is required for a namespace-level connection string
	// and for Brokers.
	Topic string `yaml:"topic"`
	// ConsumerGroup is the Kafka consumer group (for Event Hubs, a consumer
	// group created on the hub; "$Default" always exists).
	ConsumerGroup string `yaml:"consumer_group"`
	// TLS configures transport security.
	TLS TLSConfig `yaml:"tls"`
	// SASL configures PLAIN authentication for Brokers. With a connection
	// string it is derived and must not be set.
	SASL SASLConfig `yaml:"sasl"`
	// StartAt is where a consumer group without committed offsets starts:
	// earliest (default) or latest.
	StartAt string `yaml:"start_at"`
	// BatchSize caps the events per batch handed to the pipeline. A batch
	// holds whole messages, so one message with more records goes alone.
	BatchSize int `yaml:"batch_size"`
	// MaxPollRecords caps the Kafka messages taken per poll.
	MaxPollRecords int `yaml:"max_poll_records"`
}

// TLSConfig configures TLS to the brokers.
type TLSConfig struct {
	// Enabled turns TLS on. Unset means on with a connection string (Event
	// Hubs requires it) and off with Brokers.
	Enabled *bool `yaml:"enabled"`
	// CAFile is a PEM bundle trusted in addition to the system roots.
	CAFile string `yaml:"ca_file"`
	// InsecureSkipVerify disables server verification (tests only).
	InsecureSkipVerify bool `yaml:"insecure_skip_verify"`
}

// SASLConfig is SASL PLAIN authentication for a plain Kafka cluster.
type SASLConfig struct {
	Username string        `yaml:"username"`
	Password secret.Secret `yaml:"password"`
}

// NewDefaultConfig returns the defaults: group "castellan", start at the
// earliest offset, batches of 500 events, polls of 500 messages.
func NewDefaultConfig() *Config {
	return &Config{
		ConsumerGroup:  DefaultConsumerGroup,
		StartAt:        StartEarliest,
		BatchSize:      DefaultBatchSize,
		MaxPollRecords: DefaultMaxPollRecords,
	}
}

// Validate reports every problem, each as "field: problem". It never
// prints the connection string, its key or the SASL password.
func (c *Config) Validate() error {
	var errs []error
	_, err := c.endpoint()
	if err != nil {
		errs = append(errs, err)
	}
	if c.ConsumerGroup == "" {
		errs = append(errs, errors.New("consumer_group: required"))
	}
	switch c.StartAt {
	case StartEarliest, StartLatest:
	default:
		errs = append(errs, fmt.Errorf("start_at: must be earliest or latest, not %q", c.StartAt))
	}
	if c.BatchSize <= 0 {
		errs = append(errs, errors.New("batch_size: must be > 0"))
	}
	if c.MaxPollRecords <= 0 {
		errs = append(errs, errors.New("max_poll_records: must be > 0"))
	}
	if c.TLS.CAFile != "" {
		if _, err := os.Stat(c.TLS.CAFile); err != nil {
			errs = append(errs, fmt.Errorf("tls.ca_file: %w", err))
		}
	}
	return errors.Join(errs...)
}

// endpoint is where and how the source connects, resolved from Config.
type endpoint struct {
	brokers []string
	topic   string
	tls     bool
	// saslUser/saslPass are SASL PLAIN credentials; empty user means none.
	saslUser string
	saslPass string
}

// endpoint resolves the brokers, topic, TLS and SASL settings, reporting
// every problem with the connection fields.
func (c *Config) endpoint() (endpoint, error) {
	var errs []error
	var ep endpoint
	hasCS := c.ConnectionString != ""
	switch {
	case hasCS && len(c.Brokers) > 0:
		errs = append(errs, errors.New("brokers: set either connection_string or brokers, not both"))
	case !hasCS && len(c.Brokers) == 0:
		errs = append(errs, errors.New("connection_string: one of connection_string or brokers is required"))
	}
	if hasCS {
		cs, err := ParseConnectionString(c.ConnectionString.Value())
		if err != nil {
			for _, e := range unjoin(err) {
				errs = append(errs, fmt.Errorf("connection_string: %w", e))
			}
		} else {
			ep.brokers = []string{net.JoinHostPort(cs.Host, strconv.Itoa(EventHubsKafkaPort))}
			ep.topic = cs.EntityPath
			ep.saslUser = ConnectionStringUser
			ep.saslPass = c.ConnectionString.Value()
			switch {
			case c.Topic != "" && cs.EntityPath != "" && c.Topic != cs.EntityPath:
				errs = append(errs, fmt.Errorf("topic: %q differs from the connection string's EntityPath %q", c.Topic, cs.EntityPath))
			case c.Topic != "":
				ep.topic = c.Topic
			case cs.EntityPath == "":
				errs = append(errs, errors.New("topic: required with a namespace-level connection string (no EntityPath)"))
			}
		}
		ep.tls = true
		if c.TLS.Enabled != nil && !*c.TLS.Enabled {
			errs = append(errs, errors.New("tls.enabled: Event Hubs requires TLS"))
		}
		if c.SASL.Username != "" || c.SASL.Password != "" {
			errs = append(errs, errors.New("sasl: derived from connection_string; do not set it"))
		}
	}
	if len(c.Brokers) > 0 {
		for i, b := range c.Brokers {
			host, port, err := net.SplitHostPort(b)
			if err != nil || host == "" {
				errs = append(errs, fmt.Errorf("brokers[%d]: want host:port, got %q", i, b))
				continue
			}
			if p, err := strconv.Atoi(port); err != nil || p <= 0 || p > 65535 {
				errs = append(errs, fmt.Errorf("brokers[%d]: invalid port %q", i, port))
			}
		}
		ep.brokers = c.Brokers
		ep.topic = c.Topic
		if c.Topic == "" {
			errs = append(errs, errors.New("topic: required with brokers"))
		}
		ep.tls = c.TLS.Enabled != nil && *c.TLS.Enabled
		switch {
		case c.SASL.Username != "" && c.SASL.Password == "":
			errs = append(errs, errors.New("sasl.password: required with sasl.username"))
		case c.SASL.Username == "" && c.SASL.Password != "":
			errs = append(errs, errors.New("sasl.username: required with sasl.password"))
		}
		ep.saslUser, ep.saslPass = c.SASL.Username, c.SASL.Password.Value()
	}
	if c.Topic != "" && !validTopic(c.Topic) {
		errs = append(errs, fmt.Errorf("topic: invalid name %q", c.Topic))
	}
	if !ep.tls && (c.TLS.CAFile != "" || c.TLS.InsecureSkipVerify) {
		errs = append(errs, errors.New("tls: ca_file and insecure_skip_verify need TLS enabled"))
	}
	return ep, errors.Join(errs...)
}

// validTopic reports whether s is a legal Kafka topic name.
func validTopic(s string) bool {
	if len(s) > 249 || s == "." || s == ".." {
		return false
	}
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '.', r == '_', r == '-':
		default:
			return false
		}
	}
	return true
}

// tlsConfig builds the client TLS configuration.
func (c *Config) tlsConfig() (*tls.Config, error) {
	tc := &tls.Config{MinVersion: tls.VersionTLS12, InsecureSkipVerify: c.TLS.InsecureSkipVerify} //nolint:gosec // opt-in, documented as tests only
	if c.TLS.CAFile != "" {
		pem, err := os.ReadFile(c.TLS.CAFile)
		if err != nil {
			return nil, fmt.Errorf("tls.ca_file: %w", err)
		}
		pool, err := x509.SystemCertPool()
		if err != nil || pool == nil {
			pool = x509.NewCertPool()
		}
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("tls.ca_file %s: no PEM certificates", c.TLS.CAFile)
		}
		tc.RootCAs = pool
	}
	return tc, nil
}

// ConnectionString is a parsed Event Hubs connection string. Key and
// Signature are secrets.
type ConnectionString struct {
	// Host is the namespace host, e.g. "contoso.servicebus.windows.net".
	Host string
	// KeyName is SharedAccessKeyName (empty with a SAS token).
	KeyName string
	// Key is SharedAccessKey.
	Key secret.Secret
	// Signature is SharedAccessSignature, the alternative to KeyName + Key.
	Signature secret.Secret
	// EntityPath is the event hub (the Kafka topic); empty for a
	// namespace-level connection string.
	EntityPath string
}

// Known connection string keys, by lower-case name.
var csKeys = map[string]string{
	"endpoint":              "Endpoint",
	"sharedaccesskeyname":   "SharedAccessKeyName",
	"sharedaccesskey":       "SharedAccessKey",
	"sharedaccesssignature": "SharedAccessSignature",
	"entitypath":            "EntityPath",
}

// ParseConnectionString parses an Event Hubs connection string strictly:
// ";"-separated Key=Value pairs (keys case-insensitive, each at most once),
// an sb:// Endpoint with a host and no path, and either SharedAccessKeyName
// with SharedAccessKey or SharedAccessSignature. Errors name keys and
// positions, never values of secrets.
func ParseConnectionString(s string) (ConnectionString, error) {
	var cs ConnectionString
	var errs []error
	seen := map[string]bool{}
	vals := map[string]string{}
	segs := strings.Split(strings.TrimSpace(s), ";")
	for i, seg := range segs {
		if strings.TrimSpace(seg) == "" {
			if i == len(segs)-1 && i > 0 {
				continue // one trailing ";"
			}
			errs = append(errs, fmt.Errorf("part %d is empty", i+1))
			continue
		}
		k, v, ok := strings.Cut(seg, "=")
		k = strings.TrimSpace(k)
		if !ok || k == "" {
			errs = append(errs, fmt.Errorf("part %d is not Key=Value", i+1))
			continue
		}
		name, known := csKeys[strings.ToLower(k)]
		if !known {
			if identRE.MatchString(k) {
				errs = append(errs, fmt.Errorf("unknown key %q", k))
			} else {
				errs = append(errs, fmt.Errorf("part %d has an unknown key", i+1))
			}
			continue
		}
		if seen[name] {
			errs = append(errs, fmt.Errorf("%s given twice", name))
			continue
		}
		seen[name] = true
		vals[name] = strings.TrimSpace(v)
	}
	if ep, ok := vals["Endpoint"]; !ok || ep == "" {
		errs = append(errs, errors.New("Endpoint: required (sb://NAMESPACE.servicebus.windows.net/)"))
	} else if host, err := parseEndpoint(ep); err != nil {
		errs = append(errs, fmt.Errorf("Endpoint: %w", err))
	} else {
		cs.Host = host
	}
	cs.KeyName = vals["SharedAccessKeyName"]
	cs.Key = secret.Secret(vals["SharedAccessKey"])
	cs.Signature = secret.Secret(vals["SharedAccessSignature"])
	hasName, hasKey, hasSig := seen["SharedAccessKeyName"], seen["SharedAccessKey"], seen["SharedAccessSignature"]
	switch {
	case hasSig && (hasName || hasKey):
		errs = append(errs, errors.New("SharedAccessSignature: cannot be combined with SharedAccessKeyName/SharedAccessKey"))
	case hasSig:
		if cs.Signature == "" {
			errs = append(errs, errors.New("SharedAccessSignature: empty"))
		}
	default:
		if cs.KeyName == "" {
			errs = append(errs, errors.New("SharedAccessKeyName: required"))
		}
		if cs.Key == "" {
			errs = append(errs, errors.New("SharedAccessKey: required"))
		}
	}
	if p, ok := vals["EntityPath"]; ok {
		if p == "" || !validTopic(p) {
			errs = append(errs, errors.New("EntityPath: not a valid event hub name (letters, digits, '.', '_', '-')"))
		}
		cs.EntityPath = p
	}
	if err := errors.Join(errs...); err != nil {
		return ConnectionString{}, err
	}
	return cs, nil
}

// parseEndpoint checks "sb://host[/]" and returns the host.
func parseEndpoint(ep string) (string, error) {
	rest, ok := strings.CutPrefix(ep, "sb://")
	if !ok {
		return "", errors.New("must start with sb://")
	}
	rest = strings.TrimSuffix(rest, "/")
	if rest == "" {
		return "", errors.New("no host")
	}
	if strings.ContainsAny(rest, "/?#@ ") {
		return "", errors.New("want sb://HOST/ without path, user or query")
	}
	if strings.Contains(rest, ":") {
		return "", fmt.Errorf("no port expected (the Kafka endpoint is always port %d)", EventHubsKafkaPort)
	}
	for _, label := range strings.Split(rest, ".") {
		if label == "" || len(label) > 63 {
			return "", errors.New("invalid host name")
		}
	}
	return rest, nil
}

// unjoin lists the errors of an errors.Join.
func unjoin(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}

// identRE matches a plausible key name, safe to echo in an error.
var identRE = regexp.MustCompile(`^[A-Za-z]{1,40}$`)
