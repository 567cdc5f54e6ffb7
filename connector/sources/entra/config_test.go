package entra

import (
	"bytes"
	"os"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"
)

// TestREADMEExample decodes the README's example strictly over the
// defaults, as the connector's config loader does, and validates it.
func TestREADMEExample(t *testing.T) {
	b, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	i := strings.Index(s, "    tenant_id:")
	j := strings.Index(s[i:], "```")
	if i < 0 || j < 0 {
		t.Fatal("no example block")
	}
	var block strings.Builder
	for _, l := range strings.Split(s[i:i+j], "\n") {
		block.WriteString(strings.TrimPrefix(l, "    ") + "\n")
	}
	t.Setenv("GRAPH_SECRET", "x")
	c := NewDefaultConfig()
	dec := yaml.NewDecoder(bytes.NewReader([]byte(block.String())))
	dec.KnownFields(true)
	if err := dec.Decode(c); err != nil {
		t.Fatalf("%v\n%s", err, block.String())
	}
	// ${env:…} is substituted by the config loader; here the raw text.
	if c.Auth.ClientSecret.Value() != "${env:GRAPH_SECRET}" || c.Overlap != 15*time.Minute || len(c.Resources) != 3 {
		t.Errorf("decoded %+v", c)
	}
	if err := c.Validate(); err != nil {
		t.Error(err)
	}
}
