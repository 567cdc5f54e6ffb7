package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/castellan-itdr/castellan/internal/sambalab"
	"github.com/castellan-itdr/castellan/mappings/schema"
)

// The operator's path end to end on the Samba lab: dry run, enforce,
// undo, the guard rails' exit codes, and the audit records in the file
// sink.
func TestRespondCLI(t *testing.T) {
	env := sambalab.Env(t)
	c := sambalab.NewClient(t, env)
	name, pass := sambalab.Unique("rcli"), "Xy7!"+sambalab.Unique("pw")
	c.Admin("user", "create", name, pass)
	t.Cleanup(func() { c.TryAdmin("user", "delete", name) })
	glass := sambalab.Unique("rclibg")
	c.Admin("user", "create", glass, pass)
	t.Cleanup(func() { c.TryAdmin("user", "delete", glass) })

	dir := t.TempDir()
	out := filepath.Join(dir, "audit.jsonl")
	t.Setenv("RESPOND_TEST_PW", env["LAB_ADMIN_PASS"])
	cfg := fmt.Sprintf(`state: { path: %[1]s/state.db }
detections: { rules: [], sigma: [] }
sinks:
  file/audit: { path: %[2]s, kinds: [action] }
response:
  ad: { url: %[3]q, bind: %[4]q, password: "${env:RESPOND_TEST_PW}", ca_file: %[5]q, base_dn: %[6]q }
  protected_accounts: [%[7]s]
  journal: %[1]s/journal.db
`, dir, out, env["LAB_LDAPS_URL"], env["LAB_ADMIN"], env["LAB_CA_PEM"], env["LAB_BASE_DN"], glass)
	path := filepath.Join(dir, "castellan.yaml")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	respondCLI := func(args ...string) (string, int) {
		t.Helper()
		stdout, _, err := execute(t, append([]string{"respond"}, append(args, "-c", path, "--operator", "tester")...)...)
		t.Logf("castellan respond %s → exit %d\n%s", strings.Join(args, " "), exitCode(err), stdout)
		return stdout, exitCode(err)
	}

	stdout, code := respondCLI("disable-user", "--identity", name)
	if code != 0 || !strings.Contains(stdout, "SIMULATED disable_user on LAB\\"+name+": dry run: would change: account disabled") ||
		!strings.Contains(stdout, "sink file/audit: delivered") || !c.Kinit(name, pass) {
		t.Fatalf("dry run: exit %d, kinit must still work", code)
	}
	stdout, code = respondCLI("disable-user", "--identity", name, "--enforce")
	if code != 0 || !strings.Contains(stdout, "SUCCEEDED disable_user") || c.Kinit(name, pass) {
		t.Fatalf("enforce: exit %d, kinit must fail", code)
	}
	id := regexp.MustCompile(`action id: ([0-9a-f]+)`).FindStringSubmatch(stdout)
	if id == nil {
		t.Fatal("no action id printed")
	}
	stdout, code = respondCLI("undo", "--action", id[1], "--enforce")
	if code != 0 || !strings.Contains(stdout, "SUCCEEDED enable_user") || !c.Kinit(name, pass) {
		t.Fatalf("undo: exit %d, kinit must work again", code)
	}
	if _, code = respondCLI("disable-user", "--identity", glass, "--enforce"); code != 3 {
		t.Errorf("protected account: exit %d, want 3", code)
	}
	if _, code = respondCLI("disable-user", "--identity", "Administrator", "--dry-run"); code != 3 {
		t.Errorf("Administrator: exit %d, want 3", code)
	}
	if _, code = respondCLI("disable-user", "--identity", name, "--enforce", "--dry-run"); code != 2 {
		t.Errorf("--enforce --dry-run: exit %d, want 2", code)
	}
	if _, code = respondCLI("enable-user", "--identity", "no-such-"+name); code != 1 {
		t.Errorf("unknown account: exit %d, want 1", code)
	}

	// The audit trail reached the sink: one record per command that ran.
	f, err := os.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var results []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var a schema.Action
		if err := json.Unmarshal(sc.Bytes(), &a); err != nil {
			t.Fatal(err)
		}
		if a.Trigger != "operator:tester" {
			t.Errorf("trigger %q", a.Trigger)
		}
		results = append(results, a.Type+":"+a.Result)
	}
	want := "disable_user:simulated disable_user:succeeded enable_user:succeeded disable_user:refused disable_user:refused enable_user:failed"
	if got := strings.Join(results, " "); got != want {
		t.Errorf("audit records\n got %s\nwant %s", got, want)
	}
}
