package eventhub

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
	"github.com/twmb/franz-go/pkg/sasl"
	"github.com/twmb/franz-go/pkg/sasl/plain"

	"github.com/castellan-itdr/castellan/connector/component"
	"github.com/castellan-itdr/castellan/connector/config"
	"github.com/castellan-itdr/castellan/sinks/secret"
)

// testKey is a shared access key; no error or log line may contain it.
const testKey = "S3cr3tK3yZ9q+/AbCdEfGhIjKlMnOpQrStUvWxYz0123="

const testCS = "Endpoint=sb://contoso.servicebus.windows.net/;SharedAccessKeyName=castellan-listen;SharedAccessKey=" + testKey + ";EntityPath=entra-logs"

func TestParseConnectionString(t *testing.T) {
	good := []struct {
		name, in string
		want     ConnectionString
	}{
		{"hub level", testCS, ConnectionString{Host: "contoso.servicebus.windows.net", KeyName: "castellan-listen", Key: testKey, EntityPath: "entra-logs"}},
		{"trailing semicolon, any key case, no slash",
			"endpoint=sb://contoso.servicebus.windows.net;sharedaccesskeyname=k;SHAREDACCESSKEY=" + testKey + ";",
			ConnectionString{Host: "contoso.servicebus.windows.net", KeyName: "k", Key: testKey}},
		{"SAS token",
			"Endpoint=sb://ns.servicebus.windows.net/;SharedAccessSignature=SharedAccessSignature sr=x&sig=" + testKey + ";EntityPath=hub",
			ConnectionString{Host: "ns.servicebus.windows.net", Signature: secret.Secret("SharedAccessSignature sr=x&sig=" + testKey), EntityPath: "hub"}},
	}
	for _, tt := range good {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseConnectionString(tt.in)
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("got %#v\nwant %#v", got, tt.want)
			}
		})
	}
	key := ";SharedAccessKeyName=k;SharedAccessKey=" + testKey
	bad := []struct {
		name, in string
		want     []string
	}{
		{"empty", "", []string{"part 1 is empty", "Endpoint: required", "SharedAccessKeyName: required", "SharedAccessKey: required"}},
		{"no endpoint", "SharedAccessKeyName=k;SharedAccessKey=" + testKey, []string{"Endpoint: required"}},
		{"https endpoint", "Endpoint=https://ns.servicebus.windows.net/" + key, []string{"Endpoint: must start with sb://"}},
		{"endpoint with port", "Endpoint=sb://ns.servicebus.windows.net:5671/" + key, []string{"Endpoint: no port expected"}},
		{"endpoint with path", "Endpoint=sb://ns.servicebus.windows.net/hub" + key, []string{"Endpoint: want sb://HOST/"}},
		{"endpoint without host", "Endpoint=sb:///" + key, []string{"Endpoint: no host"}},
		{"bad host", "Endpoint=sb://ns..windows.net/" + key, []string{"Endpoint: invalid host name"}},
		{"unknown key", "Endpoint=sb://ns.servicebus.windows.net/" + key + ";TransportType=Amqp", []string{`unknown key "TransportType"`}},
		{"duplicate", "Endpoint=sb://a.b/;Endpoint=sb://c.d/" + key, []string{"Endpoint given twice"}},
		{"not key=value", "Endpoint=sb://ns.servicebus.windows.net/" + key + ";garbage", []string{"part 4 is not Key=Value"}},
		{"empty part", "Endpoint=sb://ns.servicebus.windows.net/;;SharedAccessKeyName=k;SharedAccessKey=" + testKey, []string{"part 2 is empty"}},
		{"no key", "Endpoint=sb://ns.servicebus.windows.net/;SharedAccessKeyName=k", []string{"SharedAccessKey: required"}},
		{"no key name", "Endpoint=sb://ns.servicebus.windows.net/;SharedAccessKey=" + testKey, []string{"SharedAccessKeyName: required"}},
		{"key and SAS", "Endpoint=sb://ns.servicebus.windows.net/" + key + ";SharedAccessSignature=sig", []string{"cannot be combined"}},
		{"bad entity path", "Endpoint=sb://ns.servicebus.windows.net/" + key + ";EntityPath=a b", []string{"EntityPath: not a valid event hub name"}},
		{"comma separated", "Endpoint=sb://ns.servicebus.windows.net/,SharedAccessKeyName=k,SharedAccessKey=" + testKey, []string{"Endpoint: want sb://HOST/", "SharedAccessKey: required"}},
		{"key-like unknown key", "Endpoint=sb://ns.servicebus.windows.net/" + key + ";" + testKey[:20] + "=x", []string{"part 4 has an unknown key"}},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseConnectionString(tt.in)
			if err == nil {
				t.Fatal("accepted")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
			if strings.Contains(err.Error(), testKey[:12]) {
				t.Errorf("error shows the key: %q", err)
			}
		})
	}
}

func TestConfigValidate(t *testing.T) {
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(caFile, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	off, on := false, true
	tests := []struct {
		name string
		mod  func(*Config)
		want []string
	}{
		{"connection string", func(c *Config) { c.ConnectionString = testCS }, nil},
		{"connection string, same topic, ca file", func(c *Config) {
			c.ConnectionString, c.Topic, c.TLS.CAFile = testCS, "entra-logs", caFile
		}, nil},
		{"namespace-level string with topic", func(c *Config) {
			c.ConnectionString = secret.Secret(strings.TrimSuffix(testCS, ";EntityPath=entra-logs"))
			c.Topic = "insights-logs-auditlogs"
		}, nil},
		{"brokers", func(c *Config) { c.Brokers, c.Topic = []string{"kafka-1:9092", "[::1]:9092"}, "entra" }, nil},
		{"brokers with tls and sasl", func(c *Config) {
			c.Brokers, c.Topic, c.TLS.Enabled, c.TLS.CAFile = []string{"kafka:9093"}, "entra", &on, caFile
			c.SASL = SASLConfig{Username: "u", Password: "p"}
		}, nil},
		{"nothing", func(*Config) {}, []string{"connection_string: one of connection_string or brokers is required"}},
		{"both", func(c *Config) { c.ConnectionString, c.Brokers = testCS, []string{"k:9092"} },
			[]string{"brokers: set either connection_string or brokers, not both"}},
		{"namespace-level string without topic", func(c *Config) {
			c.ConnectionString = secret.Secret(strings.TrimSuffix(testCS, ";EntityPath=entra-logs"))
		}, []string{"topic: required with a namespace-level connection string"}},
		{"topic differs from EntityPath", func(c *Config) { c.ConnectionString, c.Topic = testCS, "other" },
			[]string{`topic: "other" differs from the connection string's EntityPath "entra-logs"`}},
		{"tls off for event hubs", func(c *Config) { c.ConnectionString, c.TLS.Enabled = testCS, &off },
			[]string{"tls.enabled: Event Hubs requires TLS"}},
		{"sasl with connection string", func(c *Config) { c.ConnectionString, c.SASL.Username = testCS, "u" },
			[]string{"sasl: derived from connection_string"}},
		{"bad connection string", func(c *Config) { c.ConnectionString = "Endpoint=https://x/;SharedAccessKey=" + testKey },
			[]string{"connection_string: Endpoint: must start with sb://", "connection_string: SharedAccessKeyName: required"}},
		{"many", func(c *Config) {
			c.Brokers = []string{"nohost", "h:0", ":9092"}
			c.ConsumerGroup = ""
			c.StartAt = "beginning"
			c.BatchSize = 0
			c.MaxPollRecords = -1
			c.TLS.CAFile = "/nonexistent/ca.pem"
			c.SASL.Username = "u"
			c.Topic = "bad topic"
		}, []string{
			`brokers[0]: want host:port, got "nohost"`, `brokers[1]: invalid port "0"`, `brokers[2]: want host:port`,
			"consumer_group: required", "start_at: must be earliest or latest", "batch_size: must be > 0",
			"max_poll_records: must be > 0", "tls.ca_file:", "sasl.password: required with sasl.username",
			`topic: invalid name "bad topic"`, "tls: ca_file and insecure_skip_verify need TLS enabled",
		}},
		{"brokers without topic", func(c *Config) { c.Brokers = []string{"k:9092"} }, []string{"topic: required with brokers"}},
		{"password without user", func(c *Config) { c.Brokers, c.Topic, c.SASL.Password = []string{"k:9092"}, "t", "p" },
			[]string{"sasl.username: required with sasl.password"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := NewDefaultConfig()
			tt.mod(c)
			err := c.Validate()
			if len(tt.want) == 0 {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
			if strings.Contains(err.Error(), testKey[:12]) || strings.Contains(fmt.Sprintf("%+v %#v", c, c), testKey[:12]) {
				t.Error("the key is printed")
			}
		})
	}
}

func TestEndpointFromConnectionString(t *testing.T) {
	c := NewDefaultConfig()
	c.ConnectionString = testCS
	ep, err := c.endpoint()
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(ep.brokers, []string{"contoso.servicebus.windows.net:9093"}) || ep.topic != "entra-logs" || !ep.tls {
		t.Errorf("endpoint = %v %q tls=%v", ep.brokers, ep.topic, ep.tls)
	}
	if ep.saslUser != "$ConnectionString" || ep.saslPass != testCS {
		t.Errorf("sasl user %q, password is the connection string: %v", ep.saslUser, ep.saslPass == testCS)
	}

	// The client is built with exactly these settings.
	src, err := New(c, component.SourceSettings{ID: "eventhub/x", Next: &fakeConsumer{}})
	if err != nil {
		t.Fatal(err)
	}
	opts, err := src.clientOpts()
	if err != nil {
		t.Fatal(err)
	}
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	if got := cl.OptValue(kgo.SeedBrokers); !slices.Equal(got.([]string), []string{"contoso.servicebus.windows.net:9093"}) {
		t.Errorf("seed brokers %v", got)
	}
	if got := cl.OptValue(kgo.ConsumerGroup); got != "castellan" {
		t.Errorf("group %v", got)
	}
	if got := cl.OptValue(kgo.ConsumeTopics); !slices.Equal(got.([]string), []string{"entra-logs"}) {
		t.Errorf("topics %v", got)
	}
	for name, opt := range map[string]any{"DisableAutoCommit": kgo.DisableAutoCommit, "BlockRebalanceOnPoll": kgo.BlockRebalanceOnPoll} {
		if cl.OptValue(opt) != true {
			t.Errorf("%s not set", name)
		}
	}
	if tc, _ := cl.OptValue(kgo.DialTLSConfig).(*tls.Config); tc == nil || tc.InsecureSkipVerify {
		t.Errorf("TLS config %v", tc)
	}
	mechs, _ := cl.OptValue(kgo.SASL).([]sasl.Mechanism)
	if len(mechs) != 1 || mechs[0].Name() != "PLAIN" {
		t.Fatalf("SASL mechanisms %v", mechs)
	}
	_, msg, err := mechs[0].Authenticate(context.Background(), "contoso.servicebus.windows.net:9093")
	if err != nil {
		t.Fatal(err)
	}
	if want := "\x00$ConnectionString\x00" + testCS; string(msg) != want {
		t.Error("PLAIN message is not \\0$ConnectionString\\0<connection string>")
	}
}

// tlsPair returns a self-signed certificate for the Event Hubs host and
// 127.0.0.1, and the path of its PEM (the CA file).
func tlsPair(t *testing.T, host string) (tls.Certificate, string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: host},
		DNSNames:              []string{host},
		IPAddresses:           []net.IP{net.ParseIP("127.0.0.1")},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, caFile
}

// eventHubsCluster is a kfake cluster that, like Event Hubs' Kafka
// endpoint, requires TLS and SASL PLAIN with user $ConnectionString and
// the connection string cs as password.
func eventHubsCluster(t *testing.T, cs string) (*kfake.Cluster, string) {
	t.Helper()
	cert, caFile := tlsPair(t, "contoso.servicebus.windows.net")
	c := newCluster(t, 1,
		kfake.TLS(&tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}),
		kfake.SeedTopics(1, "entra-logs"), kfake.EnableSASL(), kfake.Superuser("PLAIN", ConnectionStringUser, cs))
	return c, caFile
}

// redirect sends dials of the Event Hubs host to the fake cluster and does
// TLS with the source's own configuration, verifying the dialed host name.
func redirect(t *testing.T, src *Source, fake string) []kgo.Opt {
	t.Helper()
	tc, err := src.cfg.tlsConfig()
	if err != nil {
		t.Fatal(err)
	}
	dial := func(ctx context.Context, network, addr string) (net.Conn, error) {
		host, _, err := net.SplitHostPort(addr)
		if err != nil {
			return nil, err
		}
		if addr == "contoso.servicebus.windows.net:9093" {
			addr = fake
		}
		c := tc.Clone()
		c.ServerName = host
		return (&tls.Dialer{Config: c}).DialContext(ctx, network, addr)
	}
	return []kgo.Opt{kgo.DialTLSConfig(nil), kgo.Dialer(dial)}
}

func TestEventHubsEndToEnd(t *testing.T) {
	c, caFile := eventHubsCluster(t, testCS)
	cfg := NewDefaultConfig()
	cfg.ConnectionString = testCS
	cfg.TLS.CAFile = caFile
	h := newHarness(t, cfg, &fakeConsumer{})
	h.src.extraOpts = redirect(t, h.src, c.ListenAddrs()[0])
	if err := h.src.Start(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	// The hub's topic is the EntityPath; produce to it over TLS + SASL too.
	prod, err := kgo.NewClient(append(redirect(t, h.src, c.ListenAddrs()[0]),
		kgo.SeedBrokers("contoso.servicebus.windows.net:9093"),
		kgo.SASL(plain.Auth{User: ConnectionStringUser, Pass: testCS}.AsMechanism()))...)
	if err != nil {
		t.Fatal(err)
	}
	defer prod.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := prod.ProduceSync(ctx, &kgo.Record{Topic: "entra-logs", Value: signIns("eh", 3)}).FirstErr(); err != nil {
		t.Fatal(err)
	}
	checkExactlyOnce(t, waitEvents(t, h.fake, 3), ids("eh", 3))
	h.stop(t)
	if strings.Contains(h.logs.String(), testKey[:12]) {
		t.Error("the key is logged")
	}
}

func TestEventHubsWrongKey(t *testing.T) {
	wrong := strings.Replace(testCS, testKey, "V3ryWr0ngK3yAbCdEfGh=", 1)
	for _, answer := range []string{"auth error", "connection closed"} {
		t.Run(answer, func(t *testing.T) {
			c, caFile := eventHubsCluster(t, testCS)
			if answer == "auth error" {
				// Answer a bad PLAIN exchange the way Kafka does, with
				// SASL_AUTHENTICATION_FAILED (kfake itself hangs up).
				c.ControlKey(int16(kmsg.SASLAuthenticate), func(req kmsg.Request) (kmsg.Response, error, bool) {
					c.KeepControl()
					r := req.(*kmsg.SASLAuthenticateRequest)
					if strings.Contains(string(r.SASLAuthBytes), testKey) {
						return nil, nil, false
					}
					resp := r.ResponseKind().(*kmsg.SASLAuthenticateResponse)
					resp.ErrorCode = kerr.SaslAuthenticationFailed.Code
					return resp, nil, true
				})
			}
			cfg := NewDefaultConfig()
			cfg.ConnectionString = secret.Secret(wrong)
			cfg.TLS.CAFile = caFile
			h := newHarness(t, cfg, &fakeConsumer{})
			h.src.extraOpts = redirect(t, h.src, c.ListenAddrs()[0])
			host := &fatalHost{}
			if err := h.src.Start(context.Background(), host); err != nil {
				t.Fatal(err)
			}
			if answer == "auth error" {
				waitFor(t, "a fatal report", func() bool { return host.first() != nil })
				if err := host.first(); !errors.Is(err, kerr.SaslAuthenticationFailed) ||
					!strings.Contains(err.Error(), "contoso.servicebus.windows.net:9093: authentication failed") {
					t.Errorf("fatal error %q", err)
				}
			} else {
				waitFor(t, "a warning", func() bool { return strings.Contains(h.logs.String(), "cannot reach the brokers") })
				if host.first() != nil {
					t.Errorf("a connection failure is fatal: %v", host.first())
				}
			}
			h.stop(t)
			logs := h.logs.String()
			if host.first() != nil {
				logs += host.first().Error()
			}
			for _, k := range []string{"V3ryWr0ngK3y", testKey[:12], "SharedAccessKey="} {
				if strings.Contains(logs, k) {
					t.Errorf("%q is printed:\n%s", k, logs)
				}
			}
		})
	}
}

// The configuration file decoder (strict keys, ${env:…}, secrets, *bool)
// reads this source's settings as the README shows them.
func TestDecodeYAML(t *testing.T) {
	t.Setenv("ENTRA_EVENTHUB_CONNECTION_STRING", testCS)
	reg := config.Registry{Sources: map[string]func() config.Validator{Type: func() config.Validator { return NewDefaultConfig() }}}
	doc := `
sources:
  eventhub/entra:
    connection_string: "${env:ENTRA_EVENTHUB_CONNECTION_STRING}"
    consumer_group: castellan
  eventhub/kafka:
    brokers: ["kafka-1:9092", "kafka-2:9092"]
    topic: entra-diagnostics
    start_at: latest
    tls: { enabled: true, insecure_skip_verify: true }
    sasl: { username: castellan, password: pw }
    batch_size: 100
    max_poll_records: 50
`
	cfg, err := config.Parse([]byte(doc), "castellan.yaml", reg)
	if err != nil {
		t.Fatal(err)
	}
	eh := cfg.Sources["eventhub/entra"].Config.(*Config)
	if eh.ConnectionString.Value() != testCS || eh.ConsumerGroup != "castellan" || eh.StartAt != StartEarliest {
		t.Errorf("eventhub/entra = %+v", eh)
	}
	if err := eh.Validate(); err != nil {
		t.Error(err)
	}
	k := cfg.Sources["eventhub/kafka"].Config.(*Config)
	if k.TLS.Enabled == nil || !*k.TLS.Enabled || !k.TLS.InsecureSkipVerify || k.SASL.Password.Value() != "pw" ||
		k.BatchSize != 100 || k.MaxPollRecords != 50 || k.StartAt != StartLatest || len(k.Brokers) != 2 {
		t.Errorf("eventhub/kafka = %+v", k)
	}
	if err := k.Validate(); err != nil {
		t.Error(err)
	}
	if _, err := config.Parse([]byte("sources:\n  eventhub:\n    conection_string: x\n"), "", reg); err == nil ||
		!strings.Contains(err.Error(), "conection_string") {
		t.Errorf("unknown key: %v", err)
	}
}
