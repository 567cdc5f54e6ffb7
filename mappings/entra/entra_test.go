package entra

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
	"unicode"

	"github.com/castellan-itdr/castellan/mappings/schema"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden.json")

const testTenant = "4b9ae7e1-2a8f-4c6e-9a1e-5f0d3c2b1a00"

var testMapper = Mapper{TenantID: testTenant}

// graphMappers maps a testdata file prefix to its resource mapper.
var graphMappers = map[string]func([]byte) (schema.Event, error){
	"signIns":          testMapper.FromSignIn,
	"directoryAudits":  testMapper.FromDirectoryAudit,
	"riskDetections":   testMapper.FromRiskDetection,
	"riskyUsers":       testMapper.FromRiskyUser,
	"diagnosticRecord": testMapper.FromDiagnosticRecord,
}

// result is one mapped record of a testdata file.
type result struct {
	Record int           `json:"record"`
	Event  *schema.Event `json:"event,omitempty"`
	Error  string        `json:"error,omitempty"`
}

// graphValues returns the "value" items of a Graph collection page.
func graphValues(t testing.TB, path string) []json.RawMessage {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var page struct {
		Value []json.RawMessage `json:"value"`
	}
	if err := json.Unmarshal(b, &page); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	if len(page.Value) == 0 {
		t.Fatalf("%s: no records", path)
	}
	return page.Value
}

// diagnosticRecords returns the records of an Event Hubs body.
func diagnosticRecords(t testing.TB, path string) []json.RawMessage {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	recs, err := SplitDiagnostic(b)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return recs
}

// mapFile maps every record of a testdata file.
func mapFile(t testing.TB, path string) []result {
	t.Helper()
	base := filepath.Base(path)
	var recs []json.RawMessage
	var fn func([]byte) (schema.Event, error)
	if strings.HasSuffix(base, ".diagnostic.json") {
		recs, fn = diagnosticRecords(t, path), testMapper.FromDiagnosticRecord
	} else {
		recs, fn = graphValues(t, path), graphMappers[strings.TrimSuffix(base, ".graph.json")]
		if fn == nil {
			t.Fatalf("%s: no mapper for this file", path)
		}
	}
	out := make([]result, 0, len(recs))
	for i, r := range recs {
		ev, err := fn(r)
		if err != nil {
			if !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrUnsupportedCategory) {
				t.Fatalf("%s record %d: error wraps no sentinel: %v", path, i, err)
			}
			out = append(out, result{Record: i, Error: err.Error()})
			continue
		}
		out = append(out, result{Record: i, Event: &ev})
	}
	return out
}

func TestGolden(t *testing.T) {
	files, err := filepath.Glob("testdata/*.json")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, f := range files {
		if strings.HasSuffix(f, ".golden.json") {
			continue
		}
		n++
		t.Run(filepath.Base(f), func(t *testing.T) {
			got, err := json.MarshalIndent(mapFile(t, f), "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, '\n')
			golden := strings.TrimSuffix(f, ".json") + ".golden.json"
			if *update {
				if err := os.WriteFile(golden, got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run with -update)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("%s differs from %s (run with -update and review the diff)\n%s", f, golden, got)
			}
		})
	}
	if n < 6 {
		t.Fatalf("only %d testdata inputs", n)
	}
}

// TestGraphAndDiagnosticIdentical: the same record through Graph and
// through Event Hubs maps to the same event — hand-written diagnostic files
// and every Graph record wrapped in an envelope with re-cased properties.
func TestGraphAndDiagnosticIdentical(t *testing.T) {
	pairs := []struct{ graph, diag string }{
		{"signIns", "signIns"}, {"directoryAudits", "directoryAudits"},
		{"riskDetections", "risk"}, {"riskyUsers", "risk"},
	}
	categories := map[string]string{
		"signIns": "SignInLogs", "directoryAudits": "AuditLogs",
		"riskDetections": "UserRiskEvents", "riskyUsers": "RiskyUsers",
	}
	for _, p := range pairs {
		byID := map[string]schema.Event{}
		for _, r := range mapFile(t, "testdata/"+p.diag+".diagnostic.json") {
			if r.Event != nil {
				byID[r.Event.ID] = *r.Event
			}
		}
		matched := 0
		for i, raw := range graphValues(t, "testdata/"+p.graph+".graph.json") {
			g, err := graphMappers[p.graph](raw)
			if err != nil {
				t.Fatalf("%s %d: %v", p.graph, i, err)
			}
			if d, ok := byID[g.ID]; ok {
				matched++
				// Diagnostic records may carry beta-only properties
				// (userAgent, tenantId, authenticationDetails) that Graph
				// v1.0 lacks: those may only add to the event.
				d.Original = maps.Clone(d.Original)
				for k := range d.Original {
					if _, ok := g.Original[k]; !ok {
						delete(d.Original, k)
					}
				}
				if g.Cloud.UserAgent == "" {
					d.Cloud.UserAgent = ""
				}
				if !reflect.DeepEqual(g, d) {
					t.Errorf("%s %d: graph and diagnostic events differ\ngraph: %s\ndiag:  %s", p.graph, i, js(g), js(d))
				}
			}
			// Every record, upper-cased and wrapped, with the tenant only in
			// the envelope.
			env := map[string]any{
				"time": "1999-01-01T00:00:00Z", "category": categories[p.graph],
				"TenantId": testTenant, "properties": upperKeys(t, raw),
			}
			b, _ := json.Marshal(env)
			d, err := Mapper{}.FromDiagnosticRecord(b)
			if err != nil {
				t.Fatalf("%s %d wrapped: %v", p.graph, i, err)
			}
			if p.graph == "signIns" {
				// The diagnostic category says what Graph derives.
				g.Event.Channel, g.Cloud.Category = d.Event.Channel, d.Cloud.Category
			}
			if !reflect.DeepEqual(g, d) {
				t.Errorf("%s %d wrapped: events differ\ngraph: %s\ndiag:  %s", p.graph, i, js(g), js(d))
			}
		}
		if matched == 0 {
			t.Errorf("%s: no record of the diagnostic file matches a Graph record", p.graph)
		}
	}
}

// upperKeys re-encodes a JSON object with every key's first letter upper
// case, as some diagnostic exports spell them.
func upperKeys(t testing.TB, raw []byte) any {
	t.Helper()
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatal(err)
	}
	var up func(any) any
	up = func(v any) any {
		switch x := v.(type) {
		case map[string]any:
			m := make(map[string]any, len(x))
			for k, e := range x {
				r := []rune(k)
				r[0] = unicode.ToUpper(r[0])
				m[string(r)] = up(e)
			}
			return m
		case []any:
			for i := range x {
				x[i] = up(x[i])
			}
		}
		return v
	}
	return up(v)
}

func js(v any) string { b, _ := json.Marshal(v); return string(b) }

// TestSignInFields checks the documented sign-in fields on the reference
// example and the failure variants, independent of the golden files.
func TestSignInFields(t *testing.T) {
	vals := graphValues(t, "testdata/signIns.graph.json")
	ev, err := testMapper.FromSignIn(vals[0])
	if err != nil {
		t.Fatal(err)
	}
	want := schema.Event{
		ID:        schema.EventID("entra", testTenant, "signIn", "66ea54eb-6301-4ee5-be62-ff5a759b0100"),
		Timestamp: time.Date(2020, 3, 13, 19, 15, 41, 619583300, time.UTC),
		Event: schema.EventMeta{Kind: schema.KindCloudSignin, Code: "0", Action: "sign-in", Outcome: "success",
			Provider: Provider, Channel: "SignInLogs", Dataset: "entra", RecordID: "66ea54eb-6301-4ee5-be62-ff5a759b0100"},
		User:   schema.User{Name: "testaccount1", Domain: "contoso.com", ID: "26be570a-ae82-4189-b4e2-a37c6808512d", UPN: "testaccount1@contoso.com"},
		Source: schema.Endpoint{IP: "131.107.159.37"},
		Auth:   schema.Auth{Protocol: "oauth"},
		Cloud: schema.Cloud{App: "Graph explorer", AppID: "de8bc8b5-d9f9-48b1-a8ad-b748da725064", ClientApp: "Browser",
			RiskLevel: "none", RiskState: "none", CAStatus: "notApplied", Country: "US", City: "Redmond",
			Latitude: 47.68050003051758, Longitude: -122.12094116210938,
			Category: "SignInLogs", CorrelationID: "d79f5bee-5860-4832-928f-3133e22ae912", IsInteractive: true,
			TenantID: testTenant},
	}
	orig := ev.Original
	ev.Original = nil
	if !reflect.DeepEqual(ev, want) {
		t.Errorf("got  %s\nwant %s", js(ev), js(want))
	}
	for k, v := range map[string]string{
		"status.errorCode": "0", "location.geoCoordinates.latitude": "47.68050003051758",
		"appliedConditionalAccessPolicies.0.result": "notEnabled", "deviceDetail.browser": "Edge 80.0.361",
	} {
		if orig[k] != v {
			t.Errorf("Original[%q] = %q, want %q", k, orig[k], v)
		}
	}
	for _, k := range []string{"status.failureReason", "deviceDetail.isCompliant"} {
		if _, ok := orig[k]; ok {
			t.Errorf("Original keeps null %q", k)
		}
	}

	legacy, _ := testMapper.FromSignIn(vals[1])
	if legacy.Event.Outcome != "failure" || legacy.Cloud.ErrorCode != 50126 || legacy.Auth.Protocol != "legacy" ||
		!strings.HasPrefix(legacy.Event.Reason, "Error validating credentials") || legacy.User.Name != "Alice.Smith" ||
		legacy.User.Domain != "contoso.com" || legacy.Cloud.Category != CategoryNonInteractive || legacy.Cloud.CAStatus != "failure" {
		t.Errorf("legacy failure: %s", js(legacy))
	}
	risky, _ := testMapper.FromSignIn(vals[2])
	if risky.Cloud.RiskLevel != "medium" || risky.Cloud.RiskEventType != "unfamiliarFeatures,anonymizedIPAddress" ||
		!risky.Cloud.DeviceCompliant || risky.Cloud.DeviceID == "" || risky.Source.IP != "2001:db8::1:2" || risky.Cloud.ErrorCode != 50074 {
		t.Errorf("risky: %s", js(risky))
	}
	mfa, _ := testMapper.FromSignIn(vals[3])
	if mfa.Original["authenticationRequirement"] != "multiFactorAuthentication" ||
		mfa.Original["authenticationDetails.1.authenticationMethod"] != "Mobile app notification" ||
		mfa.Event.Reason != "" {
		t.Errorf("mfa details: %s", js(mfa))
	}
}

func TestAuditFields(t *testing.T) {
	vals := graphValues(t, "testdata/directoryAudits.graph.json")
	ev, err := FromDirectoryAudit(vals[0])
	if err != nil {
		t.Fatal(err)
	}
	if ev.Event.Kind != schema.KindCloudAudit || ev.Event.Action != "add-member-to-group" || ev.Event.Outcome != "success" ||
		ev.User.UPN != "bob@wingtiptoysonline.com" || ev.User.ID != "728309ae-4b2d-4c4a-8f3e-9d5e6f7a8b9c" || ev.Source.IP != "127.0.0.1" ||
		ev.Target.Group != (schema.Group{Name: "Example.com", ID: "ef7e527d-6c92-4234-8c6d-cf6fdfb57f95"}) ||
		ev.Target.User.UPN != "bob@contoso.com" || ev.Target.User.Name != "bob" ||
		ev.Directory.Attribute != "Action Client Name" || ev.Directory.NewValue != "DirectorySync" || ev.Directory.OldValue != "" ||
		ev.Directory.Operation != "add" || ev.Directory.Object.Class != "Group" ||
		ev.Cloud.Category != "UserManagement" || ev.Cloud.Operation != "Add member to group" ||
		!ev.Timestamp.Equal(time.Date(2018, 1, 9, 21, 20, 2, 721537400, time.UTC)) || ev.Cloud.TenantID != "" {
		t.Errorf("audit 0: %s", js(ev))
	}
	if ev.Original["targetResources.0.modifiedProperties.0.newValue"] != `"DirectorySync"` {
		t.Errorf("modifiedProperties not kept raw in Original: %v", ev.Original)
	}
	app, _ := FromDirectoryAudit(vals[1])
	if app.User.Name != "Provisioning Agent" || app.User.ID != "33334444-5555-4666-8777-88889999aaaa" ||
		app.Cloud.AppID != "22223333-4444-5555-6666-777788889999" || app.Directory.Attribute != "StrongAuthenticationMethod" ||
		app.Directory.OldValue != `[{"MethodType":6,"Default":true}]` || app.Directory.Operation != "modify" {
		t.Errorf("app-initiated audit: %s", js(app))
	}
	fail, _ := FromDirectoryAudit(vals[2])
	if fail.Event.Outcome != "failure" || fail.Event.Reason == "" || fail.Target.User.ID != "0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0" ||
		fail.Directory.Object.Name != "Global Administrator" || fail.Directory.NewValue != "Global Administrator" {
		t.Errorf("failed audit: %s", js(fail))
	}
}

func TestRiskFields(t *testing.T) {
	vals := graphValues(t, "testdata/riskDetections.graph.json")
	ev, err := FromRiskDetection(vals[0])
	if err != nil {
		t.Fatal(err)
	}
	if ev.Event.Kind != schema.KindCloudRisk || ev.Event.Action != "risk-detection" || ev.Cloud.RiskEventType != "unfamiliarFeatures" ||
		ev.Cloud.RiskLevel != "medium" || ev.Cloud.RiskState != "remediated" || ev.User.UPN != "olack@adatum.com" ||
		!strings.HasPrefix(ev.Cloud.UserAgent, "Mozilla/5.0") || ev.Cloud.City != "Seattle" ||
		!ev.Timestamp.Equal(time.Date(2018, 9, 5, 0, 11, 27, 773602000, time.UTC)) ||
		ev.Original["additionalInfo.0.key"] != "userAgent" {
		t.Errorf("risk detection: %s", js(ev))
	}
	// A state change of the same detection is a new event.
	var m map[string]any
	_ = json.Unmarshal(vals[0], &m)
	m["lastUpdatedDateTime"] = "2018-09-06T00:00:00Z"
	m["riskState"] = "dismissed"
	b, _ := json.Marshal(m)
	ev2, _ := FromRiskDetection(b)
	if ev2.ID == ev.ID || ev2.Event.RecordID != ev.Event.RecordID {
		t.Errorf("state change ids: %s vs %s", ev.ID, ev2.ID)
	}
	ru, err := FromRiskyUser(graphValues(t, "testdata/riskyUsers.graph.json")[0])
	if err != nil {
		t.Fatal(err)
	}
	if ru.Event.Kind != schema.KindCloudRisk || ru.Event.Action != "risky-user-state" || ru.User.ID != "c2b6c2b9-dddc-acd0-2b39-d519d803dbc3" ||
		ru.User.Name != "alexw" || ru.Cloud.RiskLevel != "high" || ru.Cloud.RiskState != "atRisk" || ru.Original["isDeleted"] != "false" {
		t.Errorf("risky user: %s", js(ru))
	}
}

func TestDiagnostic(t *testing.T) {
	recs := diagnosticRecords(t, "testdata/signIns.diagnostic.json")
	sp, err := FromDiagnosticRecord(recs[3])
	if err != nil {
		t.Fatal(err)
	}
	if sp.User.Name != "backup-runner" || sp.User.ID != "99990000-aaaa-4bbb-8ccc-ddddeeeeffff" || sp.Cloud.Category != CategoryServicePrincipal ||
		sp.Event.Outcome != "failure" || sp.Cloud.ErrorCode != 7000215 || sp.Cloud.TenantID != testTenant {
		t.Errorf("service principal sign-in: %s", js(sp))
	}
	ua, _ := FromDiagnosticRecord(recs[2])
	if !strings.HasPrefix(ua.Cloud.UserAgent, "Mozilla/5.0") {
		t.Errorf("userAgent of a diagnostic sign-in: %s", js(ua))
	}
	if _, err := FromDiagnosticRecord(recs[4]); !errors.Is(err, ErrUnsupportedCategory) {
		t.Errorf("ProvisioningLogs: %v", err)
	}
	for name, in := range map[string]string{
		"no category":   `{"time":"2020-01-01T00:00:00Z","properties":{}}`,
		"no properties": `{"category":"SignInLogs","time":"2020-01-01T00:00:00Z"}`,
		"no id":         `{"category":"SignInLogs","properties":{"createdDateTime":"2020-01-01T00:00:00Z"}}`,
		"bad time":      `{"category":"AuditLogs","properties":{"id":"x","activityDateTime":"yesterday"}}`,
		"array":         `[]`,
		"trailing":      `{"category":"SignInLogs"} {}`,
	} {
		if _, err := FromDiagnosticRecord([]byte(in)); !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: %v, want ErrMalformed", name, err)
		}
	}
	// A resource without a time of its own takes the envelope's.
	ev, err := FromDiagnosticRecord([]byte(`{"category":"signinlogs","time":"2020-01-02T03:04:05Z","resultType":"50053","properties":{"id":"x"}}`))
	if err != nil || !ev.Timestamp.Equal(time.Date(2020, 1, 2, 3, 4, 5, 0, time.UTC)) || ev.Cloud.ErrorCode != 50053 || ev.Event.Channel != "SignInLogs" {
		t.Errorf("envelope fallback: %v %s", err, js(ev))
	}
	// properties re-encoded as a string by a forwarder.
	ev, err = FromDiagnosticRecord([]byte(`{"category":"RiskyUsers","properties":"{\"id\":\"u1\",\"riskLastUpdatedDateTime\":\"2020-01-01T00:00:00Z\",\"riskLevel\":\"low\"}"}`))
	if err != nil || ev.Cloud.RiskLevel != "low" {
		t.Errorf("string properties: %v %s", err, js(ev))
	}
}

func TestSplitDiagnostic(t *testing.T) {
	recs, err := SplitDiagnostic([]byte(`{"Records":[{"a":1},{"b":2}]}`))
	if err != nil || len(recs) != 2 || string(recs[1]) != `{"b":2}` {
		t.Errorf("got %q, %v", recs, err)
	}
	for _, in := range []string{``, `[]`, `{}`, `{"records":{}}`, `{"records":[]} x`, `{"records":[1,`} {
		if _, err := SplitDiagnostic([]byte(in)); !errors.Is(err, ErrMalformed) {
			t.Errorf("%q: %v, want ErrMalformed", in, err)
		}
	}
	if _, err := SplitDiagnostic(make([]byte, MaxBodyBytes+1)); !errors.Is(err, ErrMalformed) {
		t.Errorf("oversize body: %v", err)
	}
}

func TestLegacyClients(t *testing.T) {
	for c, want := range map[string]bool{
		"Browser": false, "Mobile Apps and Desktop clients": false, "Exchange ActiveSync": true,
		"IMAP4": true, "SMTP": true, "pop3": true, "Authenticated SMTP": true, "Other clients": true, "": false,
	} {
		if got := IsLegacyClient(c); got != want {
			t.Errorf("IsLegacyClient(%q) = %v", c, got)
		}
	}
}

func TestOriginalCapped(t *testing.T) {
	m := map[string]any{"id": "x", "createdDateTime": "2020-01-01T00:00:00Z", "userPrincipalName": strings.Repeat("é", MaxOriginalValue)}
	pol := make([]any, 300)
	for i := range pol {
		pol[i] = map[string]any{"id": i, "result": "notApplied"}
	}
	m["appliedConditionalAccessPolicies"] = pol
	b, _ := json.Marshal(m)
	ev, err := FromSignIn(b)
	if err != nil {
		t.Fatal(err)
	}
	if len(ev.Original) != MaxOriginalFields+1 || ev.Original["original_truncated"] == "" {
		t.Errorf("original has %d fields (%s truncated)", len(ev.Original), ev.Original["original_truncated"])
	}
	if v := ev.Original["userPrincipalName"]; len(v) > MaxOriginalValue || len(v) < MaxOriginalValue-1 {
		t.Errorf("value of %d bytes", len(v))
	}
	if ev.Original["id"] != "x" {
		t.Error("top-level field dropped before nested ones")
	}
}

func TestMalformed(t *testing.T) {
	deep := strings.Repeat(`{"a":`, 100) + "1" + strings.Repeat("}", 100)
	for name, in := range map[string]string{
		"empty": ``, "not json": `nope`, "null": `null`, "array": `[{"id":"x"}]`, "deep": deep,
		"no id": `{"createdDateTime":"2020-01-01T00:00:00Z"}`, "no time": `{"id":"x"}`,
		"bad time": `{"id":"x","createdDateTime":"13/03/2020"}`,
	} {
		if _, err := FromSignIn([]byte(in)); !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: %v, want ErrMalformed", name, err)
		}
	}
	if _, err := FromSignIn(make([]byte, MaxRecordBytes+1)); !errors.Is(err, ErrMalformed) {
		t.Errorf("oversize: %v", err)
	}
}

func TestCanonical(t *testing.T) {
	for in, want := range map[string]string{
		"CreatedDateTime": "createdDateTime", "RISKEVENTTYPES_V2": "riskEventTypes_v2", "ID": "id", "somethingNew": "somethingNew",
	} {
		if got := Canonical(in); got != want {
			t.Errorf("Canonical(%q) = %q", in, got)
		}
	}
}

func FuzzMap(f *testing.F) {
	for _, p := range []string{"signIns", "directoryAudits", "riskDetections", "riskyUsers"} {
		for _, v := range graphValues(f, "testdata/"+p+".graph.json") {
			f.Add([]byte(v))
		}
	}
	for _, p := range []string{"signIns", "directoryAudits", "risk"} {
		b, err := os.ReadFile("testdata/" + p + ".diagnostic.json")
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
		for _, r := range diagnosticRecords(f, "testdata/"+p+".diagnostic.json") {
			f.Add([]byte(r))
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		check := func(ev schema.Event, err error) {
			if err != nil {
				if !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrUnsupportedCategory) {
					t.Fatalf("error wraps no sentinel: %v", err)
				}
				return
			}
			if ev.ID == "" || len(ev.Original) > MaxOriginalFields+1 {
				t.Fatalf("bad event: %s", js(ev))
			}
			for _, v := range ev.Original {
				if len(v) > MaxOriginalValue {
					t.Fatalf("original value of %d bytes", len(v))
				}
			}
		}
		check(FromSignIn(b))
		check(FromDirectoryAudit(b))
		check(FromRiskDetection(b))
		check(FromRiskyUser(b))
		check(FromDiagnosticRecord(b))
		check(FromAny(b))
		if ev, err := FromSignIn(b); err == nil && (ev.Cloud.Latitude < -90 || ev.Cloud.Latitude > 90 || ev.Cloud.Longitude < -180 || ev.Cloud.Longitude > 180) {
			t.Fatalf("geo out of range: %v, %v", ev.Cloud.Latitude, ev.Cloud.Longitude)
		}
		if recs, err := SplitDiagnostic(b); err == nil {
			for _, r := range recs {
				check(FromDiagnosticRecord(r))
			}
		}
	})
}
