package rules_test

import (
	"io"
	"os"
	"path"
	"path/filepath"
	"strings"
	"testing"

	"github.com/castellan-itdr/castellan/detections/engine"
	"github.com/castellan-itdr/castellan/detections/rules"
	"github.com/castellan-itdr/castellan/mappings/mitre"
	"github.com/castellan-itdr/castellan/mappings/schema"
)

// repoRoot walks up from the working directory to the folder holding go.mod;
// rule sample paths are relative to it.
func repoRoot(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("go.mod not found above the working directory")
		}
		dir = parent
	}
}

// enrich marks domain controllers and honeytokens the way the connector's
// enrichment does from its config (SampleEntities).
var enrich = rules.SampleEntities().Enrich

func decode(line []byte) (schema.Event, error) { return rules.DecodeSample(line) }

func TestBuiltinRules(t *testing.T) {
	rs, err := rules.Load()
	if err != nil {
		t.Fatal(err)
	}
	if len(rs) == 0 {
		t.Fatal("no rules")
	}
	root := repoRoot(t)
	open := func(p string) (io.ReadCloser, error) { return os.Open(filepath.Join(root, filepath.FromSlash(p))) }
	for _, r := range rs {
		t.Run(r.ID, func(t *testing.T) {
			if err := engine.Check(r); err != nil {
				t.Error(err)
			}
			// The folder is the tactic's shortname.
			ta, _ := mitre.LookupTactic(r.Tactic)
			if dir := path.Dir(r.File); dir != ta.Shortname {
				t.Errorf("%s: folder %q, want the tactic shortname %q", r.File, dir, ta.Shortname)
			}
			for _, tt := range r.Tests {
				if !strings.HasPrefix(tt.Sample, "samples/rules/"+r.ID+"/") {
					t.Errorf("sample %s is not under samples/rules/%s/", tt.Sample, r.ID)
				}
			}
			for _, res := range engine.RunTests(r, open, decode, enrich) {
				if !res.Passed() {
					t.Error(res.String())
				}
			}
		})
	}
}

func TestEmbedMatchesTree(t *testing.T) {
	onDisk, err := filepath.Glob("*/*.yml")
	if err != nil {
		t.Fatal(err)
	}
	rs, err := rules.Load()
	if err != nil {
		t.Fatal(err)
	}
	if len(onDisk) != len(rs) {
		t.Errorf("%d rule files on disk, %d embedded", len(onDisk), len(rs))
	}
}
