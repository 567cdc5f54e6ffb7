package schema

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"
)

// fillAll sets every leaf of v to a non-zero value.
func fillAll(v reflect.Value) {
	switch v.Kind() {
	case reflect.Struct:
		if v.Type() == reflect.TypeOf(time.Time{}) {
			v.Set(reflect.ValueOf(time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)))
			return
		}
		for i := 0; i < v.NumField(); i++ {
			fillAll(v.Field(i))
		}
	case reflect.String:
		v.SetString("x")
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Int:
		v.SetInt(7)
	case reflect.Float64:
		v.SetFloat(1.5)
	case reflect.Slice:
		v.Set(reflect.ValueOf([]string{"a", "b"}))
	case reflect.Map:
		v.Set(reflect.ValueOf(map[string]string{"TargetUserName": "x"}))
	}
}

// leafPaths flattens a JSON object into dotted leaf paths.
func leafPaths(prefix string, m map[string]any, out *[]string) {
	for k, v := range m {
		p := k
		if prefix != "" {
			p = prefix + "." + k
		}
		if sub, ok := v.(map[string]any); ok && k != "original" {
			leafPaths(p, sub, out)
			continue
		}
		*out = append(*out, p)
	}
}

// Every JSON field of a fully populated Event is readable through Field and
// documented in docs/schema.md; every Field path exists in the JSON.
func TestFieldTableMatchesJSONAndDocs(t *testing.T) {
	var ev Event
	fillAll(reflect.ValueOf(&ev).Elem())
	ev.Event.Kind = KindLogon
	data, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	var paths []string
	leafPaths("", m, &paths)
	sort.Strings(paths)
	inJSON := map[string]bool{}
	for _, p := range paths {
		inJSON[p] = true
		switch p {
		case "kind", "@timestamp", "original":
			continue
		}
		g, ok := Field(p)
		if !ok {
			t.Errorf("JSON field %s has no Field getter", p)
			continue
		}
		if g(&ev) == "" {
			t.Errorf("Field(%s) reads empty from a populated event", p)
		}
	}
	for _, p := range FieldPaths() {
		if !inJSON[p] {
			t.Errorf("Field path %s is not a JSON field", p)
		}
	}
	if g, ok := Field("original.TargetUserName"); !ok || g(&ev) != "x" {
		t.Error("original.* lookup")
	}
	if _, ok := Field("user.nme"); ok {
		t.Error("unknown path resolved")
	}

	doc, err := os.ReadFile(filepath.Join("..", "..", "docs", "schema.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range FieldPaths() {
		// A row may document siblings together: "`target.user.name`, `.domain`".
		parent, leaf := p, p
		if i := strings.LastIndexByte(p, '.'); i >= 0 {
			parent, leaf = p[:i], p[i:]
		}
		if !strings.Contains(string(doc), "`"+p+"`") && !(strings.Contains(string(doc), "`"+parent+".") && strings.Contains(string(doc), "`"+leaf+"`")) {
			t.Errorf("docs/schema.md does not document %s", p)
		}
	}
}

func TestRecordsMarshalWithKindFirst(t *testing.T) {
	cases := map[string]any{
		"event":    Event{ID: "e"},
		"alert":    Alert{ID: "a", Severity: SeverityHigh},
		"incident": Incident{ID: "i"},
		"finding":  Finding{ID: "f"},
		"action":   Action{ID: "x"},
	}
	for kind, v := range cases {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(string(b), `{"kind":"`+kind+`","id":`) {
			t.Errorf("%s marshals as %s", kind, b)
		}
	}
	var a Alert
	if err := json.Unmarshal([]byte(`{"kind":"alert","id":"a","severity":"critical"}`), &a); err != nil || a.Severity != SeverityCritical {
		t.Fatalf("round trip: %+v %v", a, err)
	}
}

func TestStableIDs(t *testing.T) {
	if EventID("windows", "DC01", "Security", "1") != EventID("windows", "dc01", "security", "1") {
		t.Error("event id depends on host/channel case")
	}
	if StableID("a", "bc") == StableID("ab", "c") {
		t.Error("parts are not separated")
	}
	if AlertID("r", "k", "e") == AlertID("r", "k", "f") {
		t.Error("alert id ignores evidence")
	}
}

func TestSeverity(t *testing.T) {
	for _, n := range []string{"informational", "low", "medium", "high", "critical"} {
		s, err := ParseSeverity(n)
		if err != nil || s.String() != n {
			t.Errorf("%s: %v %v", n, s, err)
		}
	}
	if _, err := ParseSeverity("severe"); err == nil {
		t.Error("accepted unknown severity")
	}
	if SeverityHigh.Raise() != SeverityCritical || SeverityCritical.Raise() != SeverityCritical {
		t.Error("Raise")
	}
}
