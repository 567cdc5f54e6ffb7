package dcefake

import (
	"encoding/json"
	"testing"

	"github.com/castellan-itdr/castellan/mappings/asim"
)

func alertCols() map[string]string {
	m := map[string]string{}
	for _, c := range asim.Tables()[1].Columns {
		m[c.Name] = c.Type
	}
	return m
}

func TestValidateScanner(t *testing.T) {
	cols := alertCols()
	good := []string{
		`[]`, ` [ ] `, `[{}]`,
		`[{"EventId":"a\"b\u00e9","RiskScore":-12,"Entities":{"users":["x",{"y":[true,false,null,1.5e3]}]},"TimeGenerated":"2025-01-01T00:00:00.123Z"}]`,
		`[{"EventId":"a"} , {"EventId":"b","Severity":null}]`,
	}
	for _, g := range good {
		_, ids, err := validate([]byte(g), cols, true)
		if err != nil {
			t.Errorf("%s: %v", g, err)
		}
		var arr []map[string]any
		if json.Unmarshal([]byte(g), &arr) != nil || len(arr) != len(ids) {
			t.Errorf("%s: %d ids", g, len(ids))
		}
	}
	bad := []string{
		``, `{}`, `[`, `[{"EventId":"x",}]`, `[{"EventId":"x"}`, `[{"EventId":"x"}] junk`, `[{"RiskScore":01}]`,
		`[{"Entities":{"a":[1,2,]}}]`, `[{"EventId":"a\q"}]`, `[{"EventId":"a` + "\n" + `"}]`, `[1]`, `[{"EventId":tru}]`,
		`[{"RiskScore":1.5}]`, `[{"EventId":1}]`, `[{"TimeGenerated":"2025-13-01"}]`, `[{"Nope":1}]`, `[{"Event\u0049d":"x"}]`,
	}
	for _, b := range bad {
		if _, _, err := validate([]byte(b), cols, false); err == nil {
			t.Errorf("%q accepted", b)
		}
	}
	_, ids, _ := validate([]byte(`[{"EventId":"a\"b"}]`), cols, false)
	if ids[0] != `a"b` {
		t.Errorf("escaped EventId %q", ids[0])
	}
}

// FuzzValidate: whatever the scanner accepts is valid JSON of as many
// objects as ids.
func FuzzValidate(f *testing.F) {
	f.Add([]byte(`[{"EventId":"a","Entities":{"u":[1,"x",null]}}]`))
	f.Add([]byte(`[{"EventId":"a\u0041"},{}]`))
	cols := alertCols()
	f.Fuzz(func(t *testing.T, b []byte) {
		_, ids, err := validate(b, cols, false)
		if err != nil {
			return
		}
		var arr []map[string]json.RawMessage
		if jerr := json.Unmarshal(b, &arr); jerr != nil || len(arr) != len(ids) {
			t.Fatalf("accepted %q: json says %v (%d objects, %d ids)", b, jerr, len(arr), len(ids))
		}
	})
}
