package ldap

import (
	"net/netip"
	"testing"
	"time"

	"github.com/castellan-itdr/castellan/mappings/network"
	"github.com/castellan-itdr/castellan/mappings/schema"
)

func TestFilterRendering(t *testing.T) {
	// (&(objectClass=user)(!(cn=a*b\2a))(servicePrincipalName=*)(userAccountControl:1.2.840.113556.1.4.803:=2))
	and := []byte{0xa0}
	eq := []byte("\xa3\x13\x04\x0bobjectClass\x04\x04user")
	sub := []byte("\xa4\x0f\x04\x02cn\x30\x09\x80\x01a\x81\x01b\x82\x01*")
	not := append([]byte{0xa2, byte(len(sub))}, sub...)
	pres := []byte("\x87\x14servicePrincipalName")
	ext := []byte("\xa9\x2f\x81\x16\x31\x2e\x32\x2e\x38\x34\x30\x2e\x31\x31\x33\x35\x35\x36\x2e\x31\x2e\x34\x2e\x38\x30\x33\x82\x12userAccountControl\x83\x01\x32")
	body := append(append(append(append([]byte{}, eq...), not...), pres...), ext...)
	and = append(and, byte(len(body)))
	and = append(and, body...)
	got, err := Filter(and)
	want := `(&(objectClass=user)(!(cn=a*b*\2a))(servicePrincipalName=*)(userAccountControl:1.2.840.113556.1.4.803:=2))`
	if err != nil || got != want {
		t.Fatalf("got %q %v\nwant %q", got, err, want)
	}
	// Nesting past the cap is malformed.
	nest := func(levels int) []byte {
		b := []byte("\x87\x01a")
		for range levels {
			b = append([]byte{0xa2, byte(len(b))}, b...)
		}
		return b
	}
	if _, err := Filter(nest(10)); err != nil {
		t.Fatalf("10 levels: %v", err)
	}
	if _, err := Filter(nest(40)); err == nil {
		t.Fatal("40 levels accepted")
	}
}

func TestSecretRedaction(t *testing.T) {
	// ModifyRequest body: DN, changes { replace unicodePwd: "secret" }.
	body := []byte("\x04\x05CN=ab\x30\x1c\x30\x1a\x0a\x01\x02\x30\x15\x04\x0aunicodePwd\x31\x07\x04\x05s3cr3")
	o, err := ParseModify(body)
	if err != nil {
		t.Fatal(err)
	}
	if len(o.Changes) != 1 || o.Changes[0].Op != "replace" || o.Changes[0].Values[0] != Redacted {
		t.Fatalf("%+v", o)
	}
}

// FuzzLDAP feeds arbitrary bytes as LDAP messages in both directions and
// to every request decoder.
func FuzzLDAP(f *testing.F) {
	f.Add([]byte("\x30\x1d\x02\x01\x01\x60\x18\x02\x01\x03\x04\x0ealice@lab.test\x80\x03pwd"))
	f.Add([]byte("\x30\x0c\x02\x01\x01\x61\x07\x0a\x01\x31\x04\x00\x04\x00"))
	f.Add([]byte("\x30\x25\x02\x01\x02\x63\x20\x04\x00\x0a\x01\x00\x0a\x01\x00\x02\x01\x00\x02\x01\x00\x01\x01\x00\x87\x0bobjectClass\x30\x00"))
	f.Fuzz(func(t *testing.T, b []byte) {
		if m, err := ParseMessage(b); err == nil {
			_, _ = ParseBind(m.Body)
			_, _ = ParseSearch(m.Body)
			_, _ = ParseModify(m.Body)
			_, _ = ParseAdd(m.Body)
			_, _ = ParseResult(m.Body)
		}
		_, _ = Filter(b)
		c := network.NewConv(network.Flow{Transport: network.TCP, Client: netip.MustParseAddrPort("10.0.0.5:50000"),
			Server: netip.MustParseAddrPort("10.0.0.1:389")}, network.NewEnv(func(ev schema.Event) {
			if ev.Original["cleartext"] == "true" && len(ev.Original["BindDN"]) > 3*len(b) { // U+FFFD replaces bad bytes
				t.Fatal("bind DN longer than the input allows")
			}
		}, nil, 1<<20))
		h := New().NewHandler(c)
		ts := time.Unix(1, 0)
		h.Data(network.ToServer, ts, b)
		h.Data(network.ToClient, ts, b)
		h.Close(ts)
	})
}
