package posture

import (
	"bytes"
	"flag"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/castellan-itdr/castellan/mappings/directory"
)

var update = flag.Bool("update", false, "rewrite docs/examples/posture-report.html and the assessments table of docs/posture.md")

const (
	exampleReport = "../../docs/examples/posture-report.html"
	postureDoc    = "../../docs/posture.md"
)

// exampleSnapshot is a realistic mid-size domain with the weaknesses a
// first assessment usually finds.
func exampleSnapshot() *directory.Snapshot {
	s := fixture()
	f := fx{s}
	s.ID, s.Source = "corp.test/20261128T030000Z", "ldaps://dc1.corp.test"
	s.Domain.MachineAccountQuota = 10
	f.user("krbtgt").PwdLastSet = ago(1204)
	f.user("Administrator").PwdLastSet = ago(388)

	add := func(name string, rid int, uac directory.UAC, mut func(a *directory.Account)) {
		a := f.addUser(user(name, rid, uac))
		if mut != nil {
			mut(a)
		}
	}
	add("svc-sql", 1401, directory.UACDontExpirePassword, func(a *directory.Account) {
		a.SPNs = []string{"MSSQLSvc/sql01.corp.test:1433", "MSSQLSvc/sql01.corp.test"}
		a.PwdLastSet = ago(2210)
	})
	add("svc-backup", 1402, directory.UACDontExpirePassword, nil)
	add("j.smith", 1403, directory.UACDontReqPreauth, nil)
	add("legacy-scan", 1404, directory.UACPasswdNotReqd, func(a *directory.Account) { a.EncTypes = directory.EncRC4 })
	add("old-admin", 1405, 0, func(a *directory.Account) { a.LastLogon = ago(412) })
	add("sync-tool", 1406, 0, nil)
	add("t.nguyen", 1407, directory.UACEncryptedTextPwdAllowed, nil)
	add("m.garcia", 1408, 0, func(a *directory.Account) { a.SIDHistory = []string{sid(512)} })
	f.addMember("Domain Admins", dn("svc-sql"))
	f.addMember("Domain Admins", dn("old-admin"))
	f.addMember("Backup Operators", dn("svc-backup"))
	f.addMember("DnsAdmins", dn("Helpdesk"))
	f.addMember("Helpdesk", dn("t.nguyen"))
	f.group("Protected Users").Members = []string{dn("Administrator")}

	comp := func(name string, rid int, uac directory.UAC, laps bool) *directory.Computer {
		c := directory.Computer{Account: directory.Account{
			DN: "CN=" + name + ",OU=Servers," + base, SAMAccountName: name + "$", SID: sid(rid), ObjectClass: "computer",
			UAC: directory.UACWorkstationTrustAccount | uac, PrimaryGroupID: directory.RidDomainComputers,
			PwdLastSet: ago(12), LastLogon: ago(1), WhenCreated: ago(900), SPNs: []string{"HOST/" + strings.ToLower(name) + ".corp.test"},
		}, DNSHostName: strings.ToLower(name) + ".corp.test", OS: "Windows Server 2019 Standard"}
		if laps {
			c.LAPS = directory.LAPS{Windows: true, WindowsExpiry: fixtureNow.Add(20 * 24 * time.Hour), SchemaWindows: true}
		} else {
			c.LAPS = directory.LAPS{SchemaWindows: true}
		}
		s.Computers = append(s.Computers, c)
		return &s.Computers[len(s.Computers)-1]
	}
	comp("FS01", 1501, directory.UACTrustedForDelegation, true)
	app := comp("APP01", 1502, directory.UACTrustedToAuthForDelegation, true)
	app.AllowedToDelegateTo = []string{"cifs/dc1.corp.test", "http/intranet.corp.test"}
	comp("WS0142", 1503, 0, false)
	comp("WS0157", 1504, 0, false)
	k := comp("KIOSK03", 1505, 0, true)
	k.LAPS.WindowsExpiry = ago(96)
	f.computer("DC1$").PwdLastSet = ago(71)

	s.Domain.ACL.DACL = append(s.Domain.ACL.DACL,
		allow(sid(1406), directory.RightExtendedRight, directory.GUIDReplicationGetChanges),
		allow(sid(1406), directory.RightExtendedRight, directory.GUIDReplicationGetChangesAll))
	s.Domain.AdminSDHolder.DACL = append(s.Domain.AdminSDHolder.DACL, allow(sid(1151), directory.RightGenericAll, ""))
	s.GPOs = append(s.GPOs, directory.GPO{
		DN: "CN={6AC1786C-016F-11D2-945F-00C04FB984F9},CN=Policies,CN=System," + base, GUID: "{6AC1786C-016F-11D2-945F-00C04FB984F9}", DisplayName: "Workstation Baseline",
		ACL: &directory.SecurityDescriptor{Owner: sid(512), DACLPresent: true, DACL: []directory.ACE{
			allow(sid(512), directory.RightsFullControl, ""), allow(sid(1151), directory.RightGenericWrite|directory.RightWriteDacl, ""),
		}},
	})
	s.CertTemplates = append(s.CertTemplates, directory.CertTemplate{
		DN: "CN=WebClientAuth,CN=Certificate Templates,CN=Public Key Services,CN=Services,CN=Configuration," + base, Name: "WebClientAuth", SchemaVersion: 2,
		NameFlag: directory.CTNameFlagEnrolleeSuppliesSubject, ApplicationPolicies: []string{directory.EKUClientAuth, directory.EKUServerAuth}, PublishedBy: []string{"corp-CA"},
		ACL: &directory.SecurityDescriptor{Owner: sid(1403), DACLPresent: true, DACL: []directory.ACE{
			allow(sid(519), directory.RightsFullControl, ""),
			allow(directory.SIDAuthenticatedUsers, directory.RightExtendedRight, directory.GUIDCertificateEnrollment),
		}},
	})
	e := s.Entra
	e.Users = append(e.Users, directory.EntraUser{ID: "u-svcsql", UPN: "svc-sql@corp.test", Enabled: true, OnPremisesSID: sid(1401), OnPremisesSync: true, Registration: &directory.AuthRegistration{}})
	e.Roles[0].Assignments = append(e.Roles[0].Assignments,
		directory.EntraRoleAssignment{ID: "a10", Kind: directory.AssignmentActive, PrincipalID: "u-svcsql", PrincipalType: "user", PrincipalName: "svc-sql@corp.test", DirectoryScopeID: "/", Start: ago(640)})
	s.Resolve()
	return s
}

func exampleHistory() []HistoryPoint {
	var h []HistoryPoint
	for i, v := range []int{31, 33, 38, 36, 41, 44} {
		h = append(h, HistoryPoint{At: fixtureNow.AddDate(0, 0, -7*(6-i)), Domain: "corp.test", Score: Score{Total: v}})
	}
	return h
}

// TestExampleReport keeps docs/examples/posture-report.html in step with
// the report template (go test ./detections/posture -update rewrites it).
func TestExampleReport(t *testing.T) {
	run := Check(exampleSnapshot(), Options{})
	var b bytes.Buffer
	if err := WriteReport(&b, run, ReportOptions{History: exampleHistory(), Source: "ldaps://dc1.corp.test", Generated: fixtureNow}); err != nil {
		t.Fatal(err)
	}
	if *update {
		if err := os.WriteFile(exampleReport, b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(exampleReport)
	if err != nil {
		t.Fatalf("%v (run with -update)", err)
	}
	if !bytes.Equal(got, b.Bytes()) {
		t.Errorf("%s is stale: go test ./detections/posture -run TestExampleReport -update", exampleReport)
	}
	if failed := len(failedIDs(run)); failed < 20 {
		t.Errorf("the example fails only %d assessments", failed)
	}
}

// assessmentTable is the markdown table of every assessment.
func assessmentTable() string {
	var b strings.Builder
	b.WriteString("| # | id | title | severity | category | ATT&CK | MDI assessment answered |\n|---|---|---|---|---|---|---|\n")
	for i, a := range Assessments() {
		tech := a.Technique
		if tech == "" {
			tech = "—"
		}
		b.WriteString("| " + strconv.Itoa(i+1) + " | `" + a.ID + "` | " + a.Title + " | " + a.Severity.String() + " | " + string(a.Category) + " | " + tech + " | " + strings.ReplaceAll(a.MDI, "|", "/") + " |\n")
	}
	return b.String()
}

const (
	tableBegin = "<!-- assessments:begin (generated by go test ./detections/posture -update) -->\n"
	tableEnd   = "<!-- assessments:end -->"
)

// TestDocsAssessmentTable checks docs/posture.md lists every assessment as
// the catalog has it.
func TestDocsAssessmentTable(t *testing.T) {
	doc, err := os.ReadFile(postureDoc)
	if err != nil {
		t.Fatal(err)
	}
	s := string(doc)
	i, j := strings.Index(s, tableBegin), strings.Index(s, tableEnd)
	if i < 0 || j < i {
		t.Fatalf("%s lacks the assessment table markers", postureDoc)
	}
	want := s[:i+len(tableBegin)] + assessmentTable() + s[j:]
	if *update && want != s {
		if err := os.WriteFile(postureDoc, []byte(want), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if want != s {
		t.Errorf("%s: the assessment table drifted from the catalog (go test ./detections/posture -run TestDocsAssessmentTable -update)", postureDoc)
	}
}
