// Package sambalab joins the project's throwaway Samba AD DC
// (scripts/samba-lab.sh) from tests: it starts or joins the lab, reads its
// settings, and runs the Samba and Kerberos client tools against it.
//
// Without root or samba-tool a test that calls Env is skipped with a message,
// unless CASTELLAN_REQUIRE_SAMBA=1 (set by CI) turns the skip into a failure.
// CASTELLAN_SAMBA_LAB_DIR names a lab that is already provisioned (.ci/test
// starts one); otherwise a fresh lab is cycled into a temporary directory and
// removed when the test ends.
//
// One lab serves every package's tests, which run in parallel: a test creates
// its own objects under unique names (Unique) and deletes them afterwards, and
// never changes domain-wide settings without restoring them.
package sambalab

import (
	"bufio"
	"crypto/rand"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

// Script is the absolute path of scripts/samba-lab.sh.
var Script = func() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "scripts", "samba-lab.sh")
}()

// Env starts (or joins) the lab and returns the exports of "samba-lab.sh env"
// (LAB_*, KRB5_CONFIG): LAB_LDAP_URL, LAB_LDAPS_URL, LAB_CA_PEM, LAB_REALM,
// LAB_DOMAIN, LAB_BASE_DN, LAB_DC_NAME, LAB_DC_IP, LAB_ADMIN, LAB_ADMIN_PASS,
// LAB_AUDIT_LOG, LAB_SMB_CONF, ports.
func Env(t testing.TB) map[string]string {
	t.Helper()
	required := os.Getenv("CASTELLAN_REQUIRE_SAMBA") == "1"
	missing := ""
	if os.Geteuid() != 0 {
		missing = "needs root (Samba binds ports below 1024)"
	} else if _, err := exec.LookPath("samba-tool"); err != nil {
		missing = "samba-tool not installed (scripts/samba-lab.sh install)"
	}
	if missing != "" {
		if required {
			t.Fatalf("Samba lab required (CASTELLAN_REQUIRE_SAMBA=1) but %s", missing)
		}
		t.Skipf("Samba lab test skipped: %s; set CASTELLAN_REQUIRE_SAMBA=1 to make this a failure", missing)
	}
	dir := os.Getenv("CASTELLAN_SAMBA_LAB_DIR")
	begin := time.Now()
	if dir != "" {
		// Joins a running lab (start is a no-op then, and waits until ready).
		Run(t, Script, "start", dir)
		t.Logf("joined the lab in %s (ready after %v)", dir, time.Since(begin).Round(time.Millisecond))
	} else {
		var err error
		if dir, err = os.MkdirTemp("", "castellan-samba-"); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			stopBegin := time.Now()
			out, err := exec.Command(Script, "clean", dir).CombinedOutput()
			if err != nil {
				t.Errorf("stop lab: %v\n%s", err, out)
			}
			os.RemoveAll(dir)
			t.Logf("lab stopped in %v", time.Since(stopBegin).Round(time.Millisecond))
		})
		out := Run(t, Script, "cycle", dir)
		t.Logf("lab cycle (install, provision, start) took %v:\n%s", time.Since(begin).Round(time.Millisecond), out)
	}
	out := Run(t, "bash", "-c", `eval "$("$0" env "$1")" && env`, Script, dir)
	env := map[string]string{}
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), "="); ok && (strings.HasPrefix(k, "LAB_") || k == "KRB5_CONFIG") {
			env[k] = v
		}
	}
	for _, k := range []string{"LAB_AUDIT_LOG", "KRB5_CONFIG", "LAB_SMB_CONF", "LAB_ADMIN_PASS", "LAB_REALM", "LAB_DOMAIN", "LAB_DC_IP", "LAB_BASE_DN", "LAB_LDAPS_URL", "LAB_CA_PEM"} {
		if env[k] == "" {
			t.Fatalf("samba-lab.sh env did not export %s:\n%s", k, out)
		}
	}
	return env
}

// Run runs a command that must succeed and returns its combined output.
func Run(t testing.TB, name string, args ...string) string {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

// Unique returns prefix followed by 6 random hex digits: a name no other
// test run uses (sAMAccountName allows 20 characters: keep prefix ≤ 14).
func Unique(prefix string) string {
	b := make([]byte, 3)
	_, _ = rand.Read(b)
	return prefix + hex.EncodeToString(b)
}

// Client runs the Samba and Kerberos client tools against the lab with a
// private credential cache.
type Client struct {
	T   testing.TB
	Env map[string]string
	Dir string // private ccache directory
}

// NewClient returns a Client with its own credential cache.
func NewClient(t testing.TB, env map[string]string) *Client {
	return &Client{T: t, Env: env, Dir: t.TempDir()}
}

// Cmd runs a client tool with stdin; ok=false when it failed.
func (c *Client) Cmd(stdin string, name string, args ...string) (string, bool) {
	cmd := exec.Command(name, args...)
	cmd.Env = append(os.Environ(), "KRB5_CONFIG="+c.Env["KRB5_CONFIG"], "KRB5CCNAME=FILE:"+filepath.Join(c.Dir, "ccache"))
	cmd.Stdin = strings.NewReader(stdin)
	out, err := cmd.CombinedOutput()
	return string(out), err == nil
}

// Admin runs samba-tool over LDAP as Administrator (only changes made
// through the running DC reach its audit log); it fails the test on error.
func (c *Client) Admin(args ...string) string {
	c.T.Helper()
	out, ok := c.TryAdmin(args...)
	if !ok {
		n := min(3, len(args))
		c.T.Fatalf("samba-tool %s: %s", strings.Join(args[:n], " "), out)
	}
	return out
}

// TryAdmin is Admin that reports failure instead of failing the test.
func (c *Client) TryAdmin(args ...string) (string, bool) {
	args = append(args, "-s", c.Env["LAB_SMB_CONF"], "-H", "ldap://"+c.Env["LAB_DC_IP"], "-U", "Administrator%"+c.Env["LAB_ADMIN_PASS"])
	return c.Cmd("", "samba-tool", args...)
}

// Kinit reports whether a Kerberos logon as user succeeds.
func (c *Client) Kinit(user, pass string) bool {
	_, ok := c.Cmd(pass+"\n", "kinit", user+"@"+c.Env["LAB_REALM"])
	return ok
}

// SMB reports whether an NTLM logon over SMB as user succeeds.
func (c *Client) SMB(user, pass string) bool {
	_, ok := c.Cmd("", "smbclient", "//"+c.Env["LAB_DC_IP"]+"/netlogon", "-s", "/dev/null",
		"-U", c.Env["LAB_DOMAIN"]+`\`+user+"%"+pass, "--option=client use kerberos = off", "-c", "ls")
	return ok
}
