package sigma

import (
	"encoding/base64"
	"errors"
	"os"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/castellan-itdr/castellan/mappings/schema"
	"github.com/castellan-itdr/castellan/mappings/windows"
)

var t0 = time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)

// winEvent builds a Windows event the way mappings/windows does: typed
// envelope plus the raw fields (and EventID / Channel / Computer) in
// Original.
func winEvent(id, channel string, at time.Time, fields map[string]string) schema.Event {
	orig := map[string]string{"EventID": id, "Channel": channel, "Computer": "dc01.corp.local"}
	for k, v := range fields {
		orig[k] = v
	}
	provider := windows.ProviderSecurity
	switch channel {
	case chanSysmon:
		provider = "Microsoft-Windows-Sysmon"
	case chanSystem:
		provider = windows.ProviderSCM
	}
	ev := schema.Event{
		ID:        schema.StableID("test", id, channel, at.String(), fields["n"]),
		Timestamp: at,
		Event:     schema.EventMeta{Kind: schema.KindOther, Code: id, Channel: channel, Provider: provider},
		Host:      schema.Host{Name: "dc01.corp.local"},
		User:      schema.User{Name: fields["SubjectUserName"], Domain: fields["SubjectDomainName"]},
		Original:  orig,
	}
	return ev
}

func secEvent(id string, fields map[string]string) schema.Event {
	return winEvent(id, chanSecurity, t0, fields)
}

func mustParse(t *testing.T, src string) []*Rule {
	t.Helper()
	rules, err := ParseFile([]byte(src), "inline.yml")
	if err != nil {
		t.Fatalf("ParseFile: %v", err)
	}
	return rules
}

func mustSet(t *testing.T, rules []*Rule, o Options) *Set {
	t.Helper()
	s, err := NewSet(rules, o)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// run returns the alerts of every event, in order.
func run(s *Set, evs ...schema.Event) []schema.Alert {
	var out []schema.Alert
	for i := range evs {
		s.Process(&evs[i], func(a schema.Alert) { out = append(out, a) })
	}
	return out
}

func ruleIDs(as []schema.Alert) []string {
	var ids []string
	for _, a := range as {
		ids = append(ids, a.Rule.ID)
	}
	return ids
}

// selRule wraps a selection body (indented 8 spaces) into a Security rule.
func selRule(body string) string {
	return "title: t\nid: r1\nlogsource:\n    product: windows\n    service: security\ndetection:\n    selection:\n" +
		body + "\n    condition: selection\nlevel: high\n"
}

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

func utf16le(s string) string {
	b := make([]byte, 0, 2*len(s))
	for _, c := range s {
		b = append(b, byte(c), 0)
	}
	return string(b)
}

func TestModifiers(t *testing.T) {
	encoded := b64("xx IEX (New-Object Net.WebClient).DownloadString yy")
	cases := []struct {
		name   string
		body   string
		fields map[string]string
		want   bool
	}{
		{"equal ignores case", "        TargetUserName: 'ADMINistrator'", map[string]string{"TargetUserName": "administrator"}, true},
		{"equal whole value", "        TargetUserName: 'admin'", map[string]string{"TargetUserName": "administrator"}, false},
		{"cased", "        TargetUserName|cased: 'Admin'", map[string]string{"TargetUserName": "admin"}, false},
		{"cased equal", "        TargetUserName|cased: 'Admin'", map[string]string{"TargetUserName": "Admin"}, true},
		{"number", "        LogonType: 3", map[string]string{"LogonType": "3"}, true},
		{"hex scalar keeps text", "        Status: 0xC000006A", map[string]string{"Status": "0xc000006a"}, true},
		{"list is or", "        LogonType:\n            - 2\n            - 10", map[string]string{"LogonType": "10"}, true},
		{"star wildcard", "        ServiceName: 'evil*svc'", map[string]string{"ServiceName": "EVIL-backdoor-SVC"}, true},
		{"question wildcard", "        ServiceName: 'sv?'", map[string]string{"ServiceName": "svc"}, true},
		{"question needs a char", "        ServiceName: 'svc?'", map[string]string{"ServiceName": "svc"}, false},
		{"escaped star literal", `        ServiceName: 'a\*b'`, map[string]string{"ServiceName": "a*b"}, true},
		{"escaped star no wildcard", `        ServiceName: 'a\*b'`, map[string]string{"ServiceName": "axxb"}, false},
		{"backslash kept", `        ObjectName|endswith: '\lsass.exe'`, map[string]string{"ObjectName": `C:\Windows\System32\LSASS.EXE`}, true},
		{"double backslash is one", `        ShareName: '\\*\IPC$'`, map[string]string{"ShareName": `\*\IPC$`}, true},
		{"contains", "        CommandLine|contains: 'sekurlsa'", map[string]string{"CommandLine": "mimikatz SEKURLSA::logonpasswords"}, true},
		{"contains miss", "        CommandLine|contains: 'sekurlsa'", map[string]string{"CommandLine": "notepad"}, false},
		{"startswith", "        CommandLine|startswith: 'cmd'", map[string]string{"CommandLine": "CMD.exe /c"}, true},
		{"endswith ?", "        AccessMask|endswith: '1?'", map[string]string{"AccessMask": "0x10"}, true},
		{"contains all", "        CommandLine|contains|all:\n            - 'a1'\n            - 'b2'", map[string]string{"CommandLine": "x b2 y a1"}, true},
		{"contains all miss", "        CommandLine|contains|all:\n            - 'a1'\n            - 'b2'", map[string]string{"CommandLine": "x a1"}, false},
		{"contains many", "        CommandLine|contains:\n            - 'alpha'\n            - 'Beta'\n            - 'gamma'\n            - 'äx'\n            - '\\\\pipe'", map[string]string{"CommandLine": "xx BETA yy"}, true},
		{"contains many backslash", "        CommandLine|contains:\n            - 'alpha'\n            - 'Beta'\n            - 'gamma'\n            - '\\pipe\\'", map[string]string{"CommandLine": `\\.\PIPE\x`}, true},
		{"contains many unicode", "        CommandLine|contains:\n            - 'alpha'\n            - 'Beta'\n            - 'gamma'\n            - 'Äx'", map[string]string{"CommandLine": "1äX2"}, true},
		{"contains many miss", "        CommandLine|contains:\n            - 'alpha'\n            - 'Beta'\n            - 'gamma'", map[string]string{"CommandLine": "alphbetgamm"}, false},
		{"contains unicode", "        CommandLine|contains: 'ÄBC'", map[string]string{"CommandLine": "xxäbcxx"}, true},
		{"re", "        ServiceName|re: '^[a-z]{4}$'", map[string]string{"ServiceName": "abcd"}, true},
		{"re is cased", "        ServiceName|re: '^[a-z]{4}$'", map[string]string{"ServiceName": "ABCD"}, false},
		{"re i", "        ServiceName|re|i: '^[a-z]{4}$'", map[string]string{"ServiceName": "ABCD"}, true},
		{"re m", "        ServiceName|re|m: '^b$'", map[string]string{"ServiceName": "a\nb"}, true},
		{"re s", "        ServiceName|re|s: 'a.b'", map[string]string{"ServiceName": "a\nb"}, true},
		{"base64", "        Payload|base64: 'hello'", map[string]string{"Payload": b64("hello")}, true},
		{"base64 contains", "        Payload|base64|contains: 'hello'", map[string]string{"Payload": "x" + b64("hello") + "y"}, true},
		{"base64offset 0", "        Payload|base64offset|contains: 'IEX (New-Object Net.WebClient)'", map[string]string{"Payload": encoded}, true},
		{"base64offset 1", "        Payload|base64offset|contains: 'IEX (New-Object Net.WebClient)'", map[string]string{"Payload": b64("x IEX (New-Object Net.WebClient) z")}, true},
		{"base64offset 2", "        Payload|base64offset|contains: 'IEX (New-Object Net.WebClient)'", map[string]string{"Payload": b64("xyz IEX (New-Object Net.WebClient) z")}, true},
		{"base64offset miss", "        Payload|base64offset|contains: 'IEX (New-Object Net.WebClient)'", map[string]string{"Payload": b64("nothing to see here at all")}, false},
		{"wide base64offset", "        Payload|wide|base64offset|contains: 'ping'", map[string]string{"Payload": b64(utf16le("xping 1"))}, true},
		{"utf16le base64", "        Payload|utf16le|base64: 'ab'", map[string]string{"Payload": b64("a\x00b\x00")}, true},
		{"utf16be base64", "        Payload|utf16be|base64: 'ab'", map[string]string{"Payload": b64("\x00a\x00b")}, true},
		{"utf16 bom base64", "        Payload|utf16|base64: 'ab'", map[string]string{"Payload": b64("\xff\xfea\x00b\x00")}, true},
		{"windash dash", "        CommandLine|windash|contains: ' -enc '", map[string]string{"CommandLine": "powershell -enc AAA"}, true},
		{"windash slash", "        CommandLine|windash|contains: ' -enc '", map[string]string{"CommandLine": "powershell /enc AAA"}, true},
		{"windash en dash", "        CommandLine|windash|contains: ' -enc '", map[string]string{"CommandLine": "powershell \u2013enc AAA"}, true},
		{"windash miss", "        CommandLine|windash|contains: ' -enc '", map[string]string{"CommandLine": "powershell +enc AAA"}, false},
		{"cidr v4", "        IpAddress|cidr:\n            - '10.0.0.0/8'\n            - '192.168.0.0/16'", map[string]string{"IpAddress": "192.168.4.2"}, true},
		{"cidr mapped", "        IpAddress|cidr: '10.0.0.0/8'", map[string]string{"IpAddress": "::ffff:10.1.2.3"}, true},
		{"cidr v6", "        IpAddress|cidr: 'fe80::/10'", map[string]string{"IpAddress": "fe80::1"}, true},
		{"cidr miss", "        IpAddress|cidr: '10.0.0.0/8'", map[string]string{"IpAddress": "11.0.0.1"}, false},
		{"cidr not an ip", "        IpAddress|cidr: '10.0.0.0/8'", map[string]string{"IpAddress": "-"}, false},
		{"exists true", "        IpAddress|exists: true", map[string]string{"IpAddress": "1.2.3.4"}, true},
		{"exists true absent", "        IpAddress|exists: true", map[string]string{}, false},
		{"exists false", "        IpAddress|exists: false", map[string]string{}, true},
		{"gt", "        LogonType|gt: 3", map[string]string{"LogonType": "10"}, true},
		{"gte", "        LogonType|gte: 10", map[string]string{"LogonType": "10"}, true},
		{"lt", "        LogonType|lt: 3", map[string]string{"LogonType": "10"}, false},
		{"lte hex", "        Status|lte: 16", map[string]string{"Status": "0x10"}, true},
		{"gt not a number", "        LogonType|gt: 3", map[string]string{"LogonType": "x"}, false},
		{"fieldref equal", "        SubjectUserName|fieldref: TargetUserName", map[string]string{"SubjectUserName": "Bob", "TargetUserName": "bob"}, true},
		{"fieldref differ", "        SubjectUserName|fieldref: TargetUserName", map[string]string{"SubjectUserName": "bob", "TargetUserName": "alice"}, false},
		{"null absent", "        IpAddress: null", map[string]string{}, true},
		{"null empty", "        IpAddress: null", map[string]string{"IpAddress": ""}, true},
		{"null present", "        IpAddress: null", map[string]string{"IpAddress": "1.2.3.4"}, false},
		{"empty string", "        IpAddress: ''", map[string]string{"IpAddress": ""}, true},
		{"absent never equals", "        IpAddress: '*'", map[string]string{}, false},
		{"star any present", "        IpAddress: '*'", map[string]string{"IpAddress": "x"}, true},
		{"field name case-insensitive", "        targetusername: 'bob'", map[string]string{"TargetUserName": "bob"}, true},
		{"schema path", "        host.name: 'DC01.corp.local'", map[string]string{}, true},
		{"alias Computer", "        Computer: 'dc01.corp.local'", map[string]string{}, true},
		{"alias Provider_Name", "        Provider_Name: 'Microsoft-Windows-Security-Auditing'", map[string]string{}, true},
		{"alias Channel", "        Channel: 'security'", map[string]string{}, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := mustSet(t, mustParse(t, selRule(tc.body)), Options{})
			got := len(run(s, secEvent("4624", tc.fields))) == 1
			if got != tc.want {
				t.Errorf("match = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestConditions(t *testing.T) {
	det := `    sel_a:
        A: '1'
    sel_b:
        B: '1'
    filter_x:
        X: '1'
    _hidden:
        H: '1'
`
	cases := []struct {
		cond string
		ev   map[string]string
		want bool
	}{
		{"sel_a and sel_b", map[string]string{"A": "1", "B": "1"}, true},
		{"sel_a and sel_b", map[string]string{"A": "1"}, false},
		{"sel_a or sel_b", map[string]string{"B": "1"}, true},
		{"sel_a and not filter_x", map[string]string{"A": "1", "X": "1"}, false},
		{"sel_a and not filter_x", map[string]string{"A": "1"}, true},
		{"not sel_a", map[string]string{}, true},
		{"sel_a or sel_b and filter_x", map[string]string{"A": "1"}, true}, // and binds tighter
		{"(sel_a or sel_b) and filter_x", map[string]string{"A": "1"}, false},
		{"1 of sel_*", map[string]string{"B": "1"}, true},
		{"all of sel_*", map[string]string{"B": "1"}, false},
		{"all of sel_*", map[string]string{"A": "1", "B": "1"}, true},
		{"1 of them", map[string]string{"X": "1"}, true},
		{"1 of them", map[string]string{"H": "1"}, false}, // underscore items are not in them
		{"all of them", map[string]string{"A": "1", "B": "1", "X": "1"}, true},
		{"2 of them", map[string]string{"A": "1", "X": "1"}, true},
		{"2 of them", map[string]string{"A": "1"}, false},
		{"sel_a AND NOT filter_x", map[string]string{"A": "1"}, true},
		{"not (sel_a or sel_b)", map[string]string{"B": "1"}, false},
		{"1 of sel_? and not 1 of filter*", map[string]string{"A": "1"}, true},
	}
	for _, tc := range cases {
		src := "title: t\nid: c\nlogsource:\n    product: windows\n    service: security\ndetection:\n" + det + "    condition: " + tc.cond + "\n"
		s := mustSet(t, mustParse(t, src), Options{})
		if got := len(run(s, secEvent("1", tc.ev))) == 1; got != tc.want {
			t.Errorf("%s on %v = %v, want %v", tc.cond, tc.ev, got, tc.want)
		}
	}
	// A list of conditions is an OR.
	src := "title: t\nid: c\nlogsource:\n    product: windows\n    service: security\ndetection:\n" + det +
		"    condition:\n        - sel_a\n        - sel_b\n"
	s := mustSet(t, mustParse(t, src), Options{})
	if len(run(s, secEvent("1", map[string]string{"B": "1"}))) != 1 {
		t.Error("condition list: want an OR")
	}
}

func TestListOfMapsAndKeywords(t *testing.T) {
	src := `title: t
id: k
logsource:
    product: windows
    service: security
detection:
    selection:
        - EventID: 4624
          LogonType: 9
        - EventID: 4648
    keywords:
        - 'mimikatz'
        - 'kerberos::golden'
    condition: selection and keywords
`
	s := mustSet(t, mustParse(t, src), Options{})
	cases := []struct {
		id     string
		fields map[string]string
		want   bool
	}{
		{"4624", map[string]string{"LogonType": "9", "ProcessName": `C:\t\MIMIKATZ.exe`}, true},
		{"4624", map[string]string{"LogonType": "3", "ProcessName": `C:\t\mimikatz.exe`}, false},
		{"4648", map[string]string{"CommandLine": "kerberos::golden /user:x"}, true},
		{"4648", map[string]string{"CommandLine": "notepad"}, false},
	}
	for _, tc := range cases {
		if got := len(run(s, secEvent(tc.id, tc.fields))) == 1; got != tc.want {
			t.Errorf("%s %v = %v, want %v", tc.id, tc.fields, got, tc.want)
		}
	}
	// '|all' keyword map
	src = selRule("        '|all':\n            - 'alpha'\n            - 'beta'")
	s = mustSet(t, mustParse(t, src), Options{})
	if len(run(s, secEvent("1", map[string]string{"X": "alpha", "Y": "xbetax"}))) != 1 {
		t.Error("|all keywords over two fields: want a match")
	}
	if len(run(s, secEvent("1", map[string]string{"X": "alpha"}))) != 0 {
		t.Error("|all keywords with one missing: want no match")
	}
}

func TestUnsupportedReported(t *testing.T) {
	cases := []struct {
		name, src, want string
		unsupported     bool
	}{
		{"expand", selRule("        IpAddress|expand: '%admins%'"), "modifier expand", true},
		{"unknown modifier", selRule("        IpAddress|frobnicate: 'x'"), "modifier frobnicate", true},
		{"lookahead", selRule("        CommandLine|re: 'a(?=b)'"), "Go RE2", true},
		{"encoding alone", selRule("        CommandLine|wide: 'a'"), "modifier utf16le", true},
		{"pipe aggregation", strings.Replace(selRule("        EventID: 1"), "condition: selection", "condition: selection | count() by X > 3", 1), "aggregation", true},
		{"timeframe", strings.Replace(selRule("        EventID: 1"), "    condition:", "    timeframe: 5m\n    condition:", 1), "timeframe", true},
		{"product", strings.Replace(selRule("        EventID: 1"), "product: windows", "product: linux", 1), "product", true},
		{"service", strings.Replace(selRule("        EventID: 1"), "service: security", "service: nosuch", 1), "service", true},
		{"category", strings.Replace(selRule("        EventID: 1"), "service: security", "category: nosuch", 1), "category", true},
		{"nested map", selRule("        A:\n            B: 1"), "nested map", true},
		{"corr lt", "title: c\nid: c\ncorrelation:\n    type: event_count\n    rules: [x]\n    timespan: 5m\n    condition:\n        lt: 3\n", "lt", true},
		{"corr aliases", "title: c\nid: c\ncorrelation:\n    type: event_count\n    rules: [x]\n    aliases: {}\n    timespan: 5m\n    condition:\n        gte: 3\n", "aliases", true},
		{"corr type", "title: c\nid: c\ncorrelation:\n    type: value_sum\n    rules: [x]\n    timespan: 5m\n    condition:\n        gte: 3\n", "correlation type", true},
		{"corr months", "title: c\nid: c\ncorrelation:\n    type: event_count\n    rules: [x]\n    timespan: 2M\n    condition:\n        gte: 3\n", "timespan", true},
		{"missing condition", "title: t\nid: m\ndetection:\n    selection:\n        A: 1\n", "condition", false},
		{"unknown item", strings.Replace(selRule("        A: 1"), "condition: selection", "condition: selection and not nothere", 1), "nothere", false},
		{"unbalanced", strings.Replace(selRule("        A: 1"), "condition: selection", "condition: (selection", 1), ")", false},
		{"dangling of", strings.Replace(selRule("        A: 1"), "condition: selection", "condition: 1 of zzz*", 1), "matches no", false},
		{"bad level", strings.Replace(selRule("        A: 1"), "level: high", "level: urgent", 1), "level", false},
		{"bad cidr", selRule("        IpAddress|cidr: '10.0.0/33'"), "cidr", false},
		{"bad exists", selRule("        IpAddress|exists: maybe"), "exists", false},
		{"no id", "title: t\ndetection:\n    s:\n        A: 1\n    condition: s\n", "id", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rules, err := ParseFile([]byte(tc.src), "x.yml")
			if err == nil || len(rules) != 0 {
				t.Fatalf("want an error and no rule, got %d rules, err %v", len(rules), err)
			}
			var re *RuleError
			if !errors.As(err, &re) {
				t.Fatalf("error %T is not a *RuleError", err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not name %q", err, tc.want)
			}
			if re.Unsupported() != tc.unsupported {
				t.Errorf("Unsupported() = %v, want %v (%v)", re.Unsupported(), tc.unsupported, err)
			}
		})
	}
}

func TestLoadTestdata(t *testing.T) {
	rules, problems, err := Load(os.DirFS("testdata"), "rules")
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, r := range rules {
		ids = append(ids, r.ID)
	}
	sort.Strings(ids)
	want := []string{
		"7c1f0a52-0000-4000-8000-000000000001", "7c1f0a52-0000-4000-8000-000000000002",
		"7c1f0a52-0000-4000-8000-000000000003", "7c1f0a52-0000-4000-8000-000000000010",
		"7c1f0a52-0000-4000-8000-000000000011", "7c1f0a52-0000-4000-8000-000000000020",
		"7c1f0a52-0000-4000-8000-000000000021", "7c1f0a52-0000-4000-8000-000000000030",
		"7c1f0a52-0000-4000-8000-000000000031", "7c1f0a52-0000-4000-8000-000000000032",
		"7c1f0a52-0000-4000-8000-000000000033", "7c1f0a52-0000-4000-8000-000000000040",
		"7c1f0a52-0000-4000-8000-000000000041",
	}
	if !slices.Equal(ids, want) {
		t.Errorf("loaded %v\nwant %v", ids, want)
	}
	wantProblems := map[string]string{
		"rules/bad/aggregation.yml":          "aggregation",
		"rules/bad/broken.yml":               "yaml",
		"rules/bad/dangling_correlation.yml": "unknown rule \"does_not_exist\"",
		"rules/bad/expand.yml":               "modifier expand",
		"rules/bad/linux.yml":                "product \"linux\"",
		"rules/bad/lookahead.yml":            "RE2",
		"rules/bad/unknown_item.yml":         "unknown detection item \"filter\"",
	}
	if len(problems) != len(wantProblems) {
		t.Errorf("%d problems, want %d: %+v", len(problems), len(wantProblems), problems)
	}
	for _, p := range problems {
		w, ok := wantProblems[p.File]
		if !ok || !strings.Contains(p.Reason, w) {
			t.Errorf("problem %+v: want reason containing %q", p, w)
		}
		if p.File != "rules/bad/broken.yml" && p.RuleID == "" {
			t.Errorf("problem %+v: missing rule id", p)
		}
	}
	// action: global merged into both documents
	for _, r := range rules {
		if r.ID == "7c1f0a52-0000-4000-8000-000000000040" && (r.Title != "Test - global part" || r.Logsource.Service != "system") {
			t.Errorf("global not merged: %+v", r)
		}
		if r.ID == "7c1f0a52-0000-4000-8000-000000000041" && r.Title != "Test - global part, second" {
			t.Errorf("title override lost: %q", r.Title)
		}
	}
	s := mustSet(t, rules, Options{})
	got := run(s, winEvent("7045", chanSystem, t0, map[string]string{"ImagePath": `C:\Windows\PSEXESVC.exe`}))
	if !slices.Equal(ruleIDs(got), []string{"7c1f0a52-0000-4000-8000-000000000040"}) {
		t.Errorf("global rule: got %v", ruleIDs(got))
	}
}

func TestRuleMetadataAndAlert(t *testing.T) {
	rules, _, err := Load(os.DirFS("testdata/rules"), ".")
	if err != nil {
		t.Fatal(err)
	}
	var r *Rule
	for _, x := range rules {
		if x.ID == "7c1f0a52-0000-4000-8000-000000000001" {
			r = x
		}
	}
	if r == nil {
		t.Fatal("dcsync rule not loaded")
	}
	if r.Technique != "T1098" || r.Tactic != "TA0003" || r.Severity != schema.SeverityHigh || r.Status != "test" ||
		r.Author != "Castellan tests" || len(r.References) != 1 || len(r.Falsepositives) != 1 || r.File != "dcsync_rights.yml" {
		t.Errorf("metadata: %+v", r)
	}
	s := mustSet(t, []*Rule{r}, Options{})
	ev := secEvent("5136", map[string]string{
		"AttributeLDAPDisplayName": "nTSecurityDescriptor", "ObjectClass": "domainDNS",
		"AttributeValue":  "O:BAG:BAD:(OA;;CR;1131F6AA-9C07-11D1-F79F-00C04FC2DCD2;;S-1-5-21-1-2-3-1105)",
		"SubjectUserName": "eve", "SubjectDomainName": "CORP",
	})
	as := run(s, ev)
	if len(as) != 1 {
		t.Fatalf("got %d alerts", len(as))
	}
	a := as[0]
	if a.ID != schema.AlertID(r.ID, "", ev.ID) || a.Rule.Kind != KindDetection || a.Rule.Title != r.Title ||
		a.Rule.Description != r.Description || a.Severity != schema.SeverityHigh || a.RiskScore != schema.SeverityHigh.RiskScore() {
		t.Errorf("alert: %+v", a)
	}
	if a.Threat.Framework != schema.FrameworkATTACK || a.Threat.Technique.ID != "T1098" || a.Threat.Technique.Name == "" ||
		a.Threat.Tactic.ID != "TA0003" || a.Threat.Tactic.Name != "Persistence" {
		t.Errorf("threat: %+v", a.Threat)
	}
	if a.User.Name != "eve" || a.Host.Name != "dc01.corp.local" || a.Count != 1 || !slices.Equal(a.EventIDs, []string{ev.ID}) ||
		!a.FirstSeen.Equal(t0) || !a.LastSeen.Equal(t0) || !strings.Contains(a.Message, "user CORP\\eve") {
		t.Errorf("alert entities: %+v", a)
	}
	// Filter excludes DNS objects.
	ev.Original["ObjectClass"] = "dnsZone"
	if len(run(s, ev)) != 0 {
		t.Error("filter_main_dns did not exclude")
	}
}

func TestTags(t *testing.T) {
	src := "title: t\nid: x\ntags:\n    - attack.credential_access\n    - attack.t1003.006\n    - attack.s0002\n    - car.2019-04-004\n" +
		"logsource:\n    product: windows\n    service: security\ndetection:\n    s:\n        EventID: 4662\n    condition: s\n"
	r := mustParse(t, src)[0]
	if r.Technique != "T1003.006" || r.Tactic != "TA0006" || r.Severity != schema.SeverityMedium {
		t.Errorf("technique %q tactic %q severity %v", r.Technique, r.Tactic, r.Severity)
	}
	// technique only: tactic from the technique
	src = strings.Replace(src, "    - attack.credential_access\n", "", 1)
	r = mustParse(t, src)[0]
	if r.Tactic != "TA0006" {
		t.Errorf("tactic from technique: %q", r.Tactic)
	}
}

func TestLogsourceRouting(t *testing.T) {
	src := `title: sec
id: sec
logsource:
    product: windows
    service: security
detection:
    s:
        EventID: 7045
    condition: s
---
title: sys
id: sys
logsource:
    product: windows
    service: system
detection:
    s:
        EventID: 7045
    condition: s
---
title: sysmon net
id: net
logsource:
    product: windows
    category: network_connection
detection:
    s:
        DestinationPort: 445
    condition: s
---
title: ps
id: ps
logsource:
    product: windows
    category: ps_script
detection:
    s:
        ScriptBlockText|contains: 'Invoke-Mimikatz'
    condition: s
---
title: any windows
id: anywin
logsource:
    product: windows
detection:
    s:
        Marker: 'yes'
    condition: s
`
	s := mustSet(t, mustParse(t, src), Options{})
	check := func(name string, ev schema.Event, want ...string) {
		t.Helper()
		got := ruleIDs(run(s, ev))
		if !slices.Equal(got, want) {
			t.Errorf("%s: got %v, want %v", name, got, want)
		}
	}
	check("security 7045", secEvent("7045", nil), "sec")
	check("system 7045", winEvent("7045", chanSystem, t0, nil), "sys")
	check("sysmon 3", winEvent("3", chanSysmon, t0, map[string]string{"DestinationPort": "445"}), "net")
	check("sysmon 1 not network", winEvent("1", chanSysmon, t0, map[string]string{"DestinationPort": "445"}))
	check("security 3 not sysmon", secEvent("3", map[string]string{"DestinationPort": "445"}))
	check("ps 4104", winEvent("4104", chanPowerShell, t0, map[string]string{"ScriptBlockText": "invoke-mimikatz -dump"}), "ps")
	check("any channel", winEvent("99", "Application", t0, map[string]string{"Marker": "yes"}), "anywin")
	check("channel case", winEvent("7045", "SECURITY", t0, nil), "sec")
	fwd := secEvent("7045", nil)
	fwd.Event.Channel = "ForwardedEvents"
	check("forwarded by provider", fwd, "sec")
	// The index skips rules of other channels and event ids entirely.
	st := s.Stats()
	for _, rs := range st.Rules {
		if rs.Rule == "sec" && rs.Evaluated != 3 {
			t.Errorf("sec evaluated %d times, want 3 (security 7045, channel case, forwarded)", rs.Evaluated)
		}
		if rs.Rule == "net" && rs.Evaluated != 1 {
			t.Errorf("net evaluated %d times, want 1", rs.Evaluated)
		}
	}
}

func TestProcessCreation4688(t *testing.T) {
	rules, _, err := Load(os.DirFS("testdata/rules"), ".")
	if err != nil {
		t.Fatal(err)
	}
	var pc []*Rule
	for _, r := range rules {
		if r.Logsource.Category == "process_creation" {
			pc = append(pc, r)
		}
	}
	s := mustSet(t, pc, Options{})
	sec := secEvent("4688", map[string]string{
		"NewProcessName":    `C:\Windows\System32\rundll32.exe`,
		"ParentProcessName": `C:\Program Files\Microsoft Office\root\Office16\WINWORD.EXE`,
		"CommandLine":       `rundll32.exe javascript:"\..\mshtml,RunHTMLApplication" /sta javascript:x`,
		"MandatoryLabel":    "S-1-16-12288",
		"SubjectUserName":   "jdoe", "SubjectDomainName": "CORP",
	})
	if got := ruleIDs(run(s, sec)); !slices.Equal(got, []string{"7c1f0a52-0000-4000-8000-000000000002"}) {
		t.Errorf("4688: got %v", got)
	}
	low := secEvent("4688", maps(sec.Original, "MandatoryLabel", "S-1-16-8192"))
	if got := run(s, low); len(got) != 0 {
		t.Errorf("4688 medium integrity: got %v", ruleIDs(got))
	}
	sysmon := winEvent("1", chanSysmon, t0, map[string]string{
		"Image":            `C:\Windows\System32\rundll32.exe`,
		"ParentImage":      `C:\Program Files\Microsoft Office\root\Office16\WINWORD.EXE`,
		"CommandLine":      `rundll32.exe -sta javascript:x`,
		"IntegrityLevel":   "High",
		"User":             `CORP\jdoe`,
		"OriginalFileName": "RUNDLL32.EXE",
	})
	got := ruleIDs(run(s, sysmon))
	sort.Strings(got)
	if !slices.Equal(got, []string{"7c1f0a52-0000-4000-8000-000000000002", "7c1f0a52-0000-4000-8000-000000000003"}) {
		t.Errorf("sysmon 1: got %v", got)
	}
	// OriginalFileName does not exist in 4688 even if a field of that name sneaks in.
	odd := secEvent("4688", map[string]string{"OriginalFileName": "RUNDLL32.EXE"})
	if got := run(s, odd); len(got) != 0 {
		t.Errorf("4688 OriginalFileName: got %v", ruleIDs(got))
	}
}

func maps(m map[string]string, kv ...string) map[string]string {
	out := map[string]string{}
	for k, v := range m {
		out[k] = v
	}
	for i := 0; i+1 < len(kv); i += 2 {
		out[kv[i]] = kv[i+1]
	}
	return out
}

func TestDecodedJSONEvent(t *testing.T) {
	line := []byte(`{"EventTime":"2020-10-13 00:24:53","Hostname":"DC01.corp.local","EventID":4688,"Channel":"Security",` +
		`"SourceName":"Microsoft-Windows-Security-Auditing","RecordNumber":42,"NewProcessName":"C:\\Windows\\System32\\rundll32.exe",` +
		`"ParentProcessName":"C:\\Office\\WINWORD.EXE","CommandLine":"rundll32 /sta javascript:1","MandatoryLabel":"S-1-16-12288",` +
		`"SubjectUserName":"jdoe","SubjectDomainName":"CORP"}`)
	ev, err := windows.DecodeJSONEvent(line, "winjson")
	if err != nil {
		t.Fatal(err)
	}
	rules, _, err := Load(os.DirFS("testdata/rules"), ".")
	if err != nil {
		t.Fatal(err)
	}
	s := mustSet(t, rules, Options{})
	if got := ruleIDs(run(s, ev)); !slices.Equal(got, []string{"7c1f0a52-0000-4000-8000-000000000002"}) {
		t.Errorf("decoded 4688: got %v", got)
	}
}

func failedLogon(user, ip string, at time.Time, n int) schema.Event {
	return winEvent("4625", chanSecurity, at, map[string]string{"TargetUserName": user, "IpAddress": ip, "n": string(rune('a'+n%26)) + user + ip})
}

func loadCorr(t *testing.T, file string, o Options) *Set {
	t.Helper()
	data, err := os.ReadFile("testdata/rules/" + file)
	if err != nil {
		t.Fatal(err)
	}
	return mustSet(t, mustParse(t, string(data)), o)
}

func TestCorrelationEventCount(t *testing.T) {
	s := loadCorr(t, "correlation_bruteforce.yml", Options{})
	var evs []schema.Event
	for i := range 3 {
		evs = append(evs, failedLogon("bob", "10.0.0.1", t0.Add(time.Duration(i)*time.Minute), i))
	}
	evs = append(evs, failedLogon("alice", "10.0.0.1", t0.Add(3*time.Minute), 9))
	as := run(s, evs...)
	if len(as) != 1 {
		t.Fatalf("got %d alerts (%v), want 1 correlation alert and no base alerts", len(as), ruleIDs(as))
	}
	a := as[0]
	if a.Rule.ID != "7c1f0a52-0000-4000-8000-000000000011" || a.Rule.Kind != KindCorrelation || a.Count != 3 ||
		a.GroupKey["TargetUserName"] != "bob" || a.ID != schema.AlertID(a.Rule.ID, "bob", evs[0].ID) ||
		!a.FirstSeen.Equal(t0) || !a.LastSeen.Equal(t0.Add(2*time.Minute)) || len(a.EventIDs) != 3 ||
		a.Threat.Technique.ID != "T1110.001" || a.Threat.Tactic.ID != "TA0006" || a.Severity != schema.SeverityHigh {
		t.Errorf("alert: %+v", a)
	}
	// Outside the timespan: no alert.
	s = loadCorr(t, "correlation_bruteforce.yml", Options{})
	as = run(s, failedLogon("bob", "x", t0, 0), failedLogon("bob", "x", t0.Add(3*time.Minute), 1), failedLogon("bob", "x", t0.Add(6*time.Minute), 2))
	if len(as) != 0 {
		t.Errorf("spread over 6m: got %d alerts", len(as))
	}
}

func TestCorrelationValueCount(t *testing.T) {
	s := loadCorr(t, "correlation_spray.yml", Options{})
	evs := []schema.Event{
		failedLogon("u1", "10.0.0.9", t0, 0),
		failedLogon("u1", "10.0.0.9", t0.Add(time.Second), 1),
		failedLogon("u2", "10.0.0.9", t0.Add(2*time.Second), 2),
		failedLogon("u3", "10.0.0.8", t0.Add(3*time.Second), 3),
		failedLogon("U3", "10.0.0.9", t0.Add(4*time.Second), 4),
	}
	as := run(s, evs...)
	var corr []schema.Alert
	base := 0
	for _, a := range as {
		if a.Rule.Kind == KindCorrelation {
			corr = append(corr, a)
		} else {
			base++
		}
	}
	if base != len(evs) {
		t.Errorf("generate: true: %d base alerts, want %d", base, len(evs))
	}
	if len(corr) != 1 || !slices.Equal(corr[0].Values, []string{"u1", "u2", "u3"}) || corr[0].GroupKey["IpAddress"] != "10.0.0.9" {
		t.Fatalf("value_count: %+v", corr)
	}
}

func TestCorrelationTemporal(t *testing.T) {
	created := func(sub string, at time.Time) schema.Event {
		return winEvent("4720", chanSecurity, at, map[string]string{"SubjectUserName": sub, "TargetUserName": "newbie"})
	}
	admin := func(sub string, at time.Time) schema.Event {
		return winEvent("4732", chanSecurity, at, map[string]string{"SubjectUserName": sub, "TargetUserName": "Administrators"})
	}
	const ordered, unordered = "7c1f0a52-0000-4000-8000-000000000032", "7c1f0a52-0000-4000-8000-000000000033"
	cases := []struct {
		name string
		evs  []schema.Event
		want []string
	}{
		{"in order", []schema.Event{created("eve", t0), admin("eve", t0.Add(time.Minute))}, []string{ordered, unordered}},
		{"reverse order", []schema.Event{admin("eve", t0), created("eve", t0.Add(time.Minute))}, []string{unordered}},
		{"different subjects", []schema.Event{created("eve", t0), admin("bob", t0.Add(time.Minute))}, nil},
		{"too far apart", []schema.Event{created("eve", t0), admin("eve", t0.Add(2*time.Hour))}, nil},
	}
	for _, tc := range cases {
		s := loadCorr(t, "correlation_temporal.yml", Options{})
		got := ruleIDs(run(s, tc.evs...))
		sort.Strings(got)
		if !slices.Equal(got, tc.want) {
			t.Errorf("%s: got %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestCorrelationEvictions(t *testing.T) {
	s := loadCorr(t, "correlation_bruteforce.yml", Options{MaxKeysPerRule: 2})
	for i, u := range []string{"a", "b", "c", "d"} {
		run(s, failedLogon(u, "x", t0.Add(time.Duration(i)*time.Second), i))
	}
	st := s.Stats()
	if st.Evictions != 2 || st.Keys != 2 || st.Events != 4 {
		t.Errorf("stats: %+v", st)
	}
	// TTL: keys expire after the timespan.
	run(s, failedLogon("e", "x", t0.Add(time.Hour), 5))
	if st := s.Stats(); st.Keys != 1 {
		t.Errorf("keys after the timespan: %d, want 1", st.Keys)
	}
}

func TestSnapshotRestore(t *testing.T) {
	var evs []schema.Event
	for i := range 12 {
		u := []string{"bob", "alice"}[i%2]
		evs = append(evs, failedLogon(u, "10.0.0."+string(rune('1'+i%3)), t0.Add(time.Duration(i)*20*time.Second), i))
	}
	files := []string{"correlation_bruteforce.yml", "correlation_spray.yml", "correlation_temporal.yml"}
	var rules []*Rule
	for _, f := range files {
		data, err := os.ReadFile("testdata/rules/" + f)
		if err != nil {
			t.Fatal(err)
		}
		rules = append(rules, mustParse(t, string(data))...)
	}
	evs = append(evs,
		winEvent("4720", chanSecurity, t0, map[string]string{"SubjectUserName": "eve"}),
		winEvent("4732", chanSecurity, t0.Add(5*time.Minute), map[string]string{"SubjectUserName": "eve", "TargetUserName": "administrators"}))
	sort.SliceStable(evs, func(i, j int) bool { return evs[i].Timestamp.Before(evs[j].Timestamp) })

	whole := run(mustSet(t, rules, Options{}), evs...)
	for cut := 1; cut < len(evs); cut++ {
		a := mustSet(t, rules, Options{})
		first := run(a, evs[:cut]...)
		snap, err := a.Snapshot()
		if err != nil {
			t.Fatal(err)
		}
		again, _ := a.Snapshot()
		if string(snap) != string(again) {
			t.Fatal("snapshot not deterministic")
		}
		b := mustSet(t, rules, Options{})
		if err := b.Restore(snap); err != nil {
			t.Fatal(err)
		}
		got := append(first, run(b, evs[cut:]...)...)
		if len(got) != len(whole) {
			t.Fatalf("cut %d: %d alerts, want %d", cut, len(got), len(whole))
		}
		for i := range got {
			if got[i].ID != whole[i].ID {
				t.Errorf("cut %d: alert %d id %s, want %s", cut, i, got[i].ID, whole[i].ID)
			}
		}
	}
	corr := 0
	for _, a := range whole {
		if a.Rule.Kind == KindCorrelation {
			corr++
		}
	}
	if corr < 3 {
		t.Errorf("scenario produced only %d correlation alerts", corr)
	}
	s := mustSet(t, rules, Options{})
	if err := s.Restore([]byte(`{"version":99}`)); err == nil {
		t.Error("restore of an unknown version: want an error")
	}
	if err := s.Restore([]byte(`not json`)); err == nil {
		t.Error("restore of garbage: want an error")
	}
}

func TestNewSetErrors(t *testing.T) {
	r := mustParse(t, selRule("        A: 1"))
	if _, err := NewSet([]*Rule{r[0], r[0]}, Options{}); err == nil {
		t.Error("duplicate ids: want an error")
	}
	c := mustParse(t, "title: c\nid: c\ncorrelation:\n    type: event_count\n    rules: [nope]\n    timespan: 5m\n    condition:\n        gte: 3\n")
	if _, err := NewSet(c, Options{}); err == nil {
		t.Error("dangling reference: want an error")
	}
}

func TestNoAllocsOnMiss(t *testing.T) {
	rules, _, err := Load(os.DirFS("testdata/rules"), ".")
	if err != nil {
		t.Fatal(err)
	}
	more := mustParse(t, selRule("        CommandLine|contains|all:\n            - 'x'\n            - 'y'\n        IpAddress|cidr: '10.0.0.0/8'\n        Payload|base64offset|contains: 'abc'\n        ServiceName|re: '^a.*b$'\n        Missing|windash: '-x'"))
	s := mustSet(t, append(rules, more...), Options{})
	evs := []schema.Event{
		secEvent("4688", map[string]string{"NewProcessName": `C:\x.exe`, "CommandLine": "nothing", "MandatoryLabel": "S-1-16-8192"}),
		secEvent("5136", map[string]string{"AttributeLDAPDisplayName": "description"}),
		secEvent("4624", map[string]string{"CommandLine": "x", "IpAddress": "10.1.1.1", "Payload": "zzz", "ServiceName": "ab"}),
		winEvent("1", chanSysmon, t0, map[string]string{"Image": `C:\x.exe`}),
	}
	emit := func(schema.Alert) { t.Error("unexpected alert") }
	for i := range evs {
		n := testing.AllocsPerRun(50, func() { s.Process(&evs[i], emit) })
		if n != 0 {
			t.Errorf("event %d: %v allocations per non-matching event", i, n)
		}
	}
}

func FuzzParseFile(f *testing.F) {
	entries, _ := os.ReadDir("testdata/rules")
	for _, e := range entries {
		if data, err := os.ReadFile("testdata/rules/" + e.Name()); err == nil {
			f.Add(data)
		}
	}
	f.Add([]byte(selRule("        A|re|i: '(a'")))
	f.Add([]byte("a: &x [*x]\n"))
	f.Add([]byte("detection:\n  condition: ((((\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		rules, _ := ParseFile(data, "fuzz.yml")
		if len(rules) == 0 {
			return
		}
		s, err := NewSet(rules, Options{MaxKeysPerRule: 4})
		if err != nil {
			return
		}
		ev := secEvent("4624", map[string]string{"A": "a", "CommandLine": "-x y"})
		s.Process(&ev, func(schema.Alert) {})
		if _, err := s.Snapshot(); err != nil {
			t.Fatal(err)
		}
	})
}
