package directory

import (
	"errors"
	"os"
	"reflect"
	"strconv"
	"strings"
	"testing"
)

// labDomainSID is the domain SID of the Samba lab the testdata descriptors
// were read from (ldapsearch nTSecurityDescriptor; the .sddl files are
// samba-tool dsacl get of the same objects, an independent decoder).
const labDomainSID = "S-1-5-21-967665206-440008156-1910082662"

// sddlACE is one ACE as SDDL spells it.
type sddlACE struct {
	typ, flags, rights, object, inherited, trustee string
}

// parseSDDL splits "O:..G:..D:flags(ace)(ace)S:flags(ace)" into owner and
// the two ACE lists. Enough SDDL for samba-tool's output.
func parseSDDL(t *testing.T, s string) (owner string, dacl, sacl []sddlACE) {
	t.Helper()
	s = strings.TrimSpace(s)
	owner = s[2:strings.Index(s, "G:")]
	section := func(tag string) []sddlACE {
		i := strings.Index(s, tag)
		if i < 0 {
			return nil
		}
		rest := s[i+2:]
		if j := strings.Index(rest, ")S:"); j >= 0 && tag == "D:" {
			rest = rest[:j+1]
		}
		var out []sddlACE
		for _, part := range strings.Split(rest, "(")[1:] {
			f := strings.Split(strings.TrimSuffix(part, ")"), ";")
			if len(f) != 6 {
				t.Fatalf("SDDL ACE %q: %d fields", part, len(f))
			}
			out = append(out, sddlACE{f[0], f[1], f[2], f[3], f[4], f[5]})
		}
		return out
	}
	return owner, section("D:"), section("S:")
}

var sddlTrustees = map[string]string{
	"DA": labDomainSID + "-512", "EA": labDomainSID + "-519", "SA": labDomainSID + "-518",
	"DD": labDomainSID + "-516", "RO": labDomainSID + "-498", "CA": labDomainSID + "-517",
	"PA": labDomainSID + "-520", "DU": labDomainSID + "-513", "RS": labDomainSID + "-553",
	"BA": "S-1-5-32-544", "SY": "S-1-5-18", "AU": "S-1-5-11", "RU": "S-1-5-32-554",
	"ED": "S-1-5-9", "PS": "S-1-5-10", "WD": "S-1-1-0", "CO": "S-1-3-0", "AN": "S-1-5-7",
	"AO": "S-1-5-32-548", "SO": "S-1-5-32-549", "PO": "S-1-5-32-550", "BO": "S-1-5-32-551",
	"BU": "S-1-5-32-545", "CN": labDomainSID + "-522",
}

var sddlRights = map[string]AccessMask{
	"CC": RightCreateChild, "DC": RightDeleteChild, "LC": RightListChildren, "SW": RightSelf,
	"RP": RightReadProperty, "WP": RightWriteProperty, "DT": RightDeleteTree, "LO": RightListObject,
	"CR": RightExtendedRight, "SD": RightDelete, "RC": RightReadControl, "WD": RightWriteDacl,
	"WO": RightWriteOwner, "GA": RightGenericAll, "GR": RightGenericRead, "GW": RightGenericWrite,
	"GX": RightGenericExecute,
}

var sddlTypes = map[string]ACEType{"A": ACEAccessAllowed, "D": ACEAccessDenied, "OA": ACEAccessAllowedObject,
	"OD": ACEAccessDeniedObject, "AU": ACESystemAudit, "OU": ACESystemAuditObject}

var sddlFlags = map[string]uint8{"OI": ACEObjectInherit, "CI": ACEContainerInherit, "NP": ACENoPropagateInherit,
	"IO": ACEInheritOnly, "ID": ACEInherited, "SA": ACESuccessfulAccess, "FA": ACEFailedAccess}

func sddlToACE(t *testing.T, a sddlACE) ACE {
	t.Helper()
	out := ACE{Type: sddlTypes[a.typ], ObjectType: a.object, InheritedObjectType: a.inherited}
	for i := 0; i+2 <= len(a.flags); i += 2 {
		out.Flags |= sddlFlags[a.flags[i:i+2]]
	}
	if strings.HasPrefix(a.rights, "0x") {
		v, _ := strconv.ParseUint(a.rights[2:], 16, 32)
		out.Mask = AccessMask(v)
	} else {
		for i := 0; i+2 <= len(a.rights); i += 2 {
			r, ok := sddlRights[a.rights[i:i+2]]
			if !ok {
				t.Fatalf("unknown SDDL right %q in %q", a.rights[i:i+2], a.rights)
			}
			out.Mask |= r
		}
	}
	if sid, ok := sddlTrustees[a.trustee]; ok {
		out.Trustee = sid
	} else if strings.HasPrefix(a.trustee, "S-") {
		out.Trustee = a.trustee
	} else {
		t.Fatalf("unknown SDDL trustee %q", a.trustee)
	}
	return out
}

func loadSD(t *testing.T, name string) (*SecurityDescriptor, []byte, string) {
	t.Helper()
	raw, err := os.ReadFile("testdata/" + name + ".sd")
	if err != nil {
		t.Fatal(err)
	}
	sddl, err := os.ReadFile("testdata/" + name + ".sddl")
	if err != nil {
		t.Fatal(err)
	}
	sd, err := ParseSecurityDescriptor(raw)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return sd, raw, string(sddl)
}

// TestParseSecurityDescriptorMatchesSDDL decodes real descriptors read
// from the Samba DC and compares every ACE with samba-tool's SDDL.
func TestParseSecurityDescriptorMatchesSDDL(t *testing.T) {
	for _, name := range []string{"adminsdholder", "domainroot"} {
		t.Run(name, func(t *testing.T) {
			sd, raw, sddl := loadSD(t, name)
			owner, dacl, sacl := parseSDDL(t, sddl)
			if want := sddlTrustees[owner]; sd.Owner != want {
				t.Errorf("owner = %s, want %s (%s)", sd.Owner, want, owner)
			}
			if !sd.DACLPresent || len(sd.DACL) != len(dacl) || len(sd.SACL) != len(sacl) {
				t.Fatalf("DACL %d ACEs (present %v), SACL %d; SDDL has %d and %d", len(sd.DACL), sd.DACLPresent, len(sd.SACL), len(dacl), len(sacl))
			}
			for i, a := range dacl {
				if want := sddlToACE(t, a); !reflect.DeepEqual(sd.DACL[i], want) {
					t.Errorf("DACL[%d] = %+v\nwant      %+v (%v)", i, sd.DACL[i], want, a)
				}
			}
			for i, a := range sacl {
				if want := sddlToACE(t, a); !reflect.DeepEqual(sd.SACL[i], want) {
					t.Errorf("SACL[%d] = %+v\nwant      %+v (%v)", i, sd.SACL[i], want, a)
				}
			}
			// Re-encoding yields a descriptor that parses to the same thing.
			enc, err := sd.Bytes()
			if err != nil {
				t.Fatal(err)
			}
			again, err := ParseSecurityDescriptor(enc)
			if err != nil || !reflect.DeepEqual(again, sd) {
				t.Errorf("round trip differs: %v", err)
			}
			if len(enc) > len(raw) {
				t.Errorf("encoding grew %d → %d bytes", len(raw), len(enc))
			}
		})
	}
}

func TestDomainRootReplicationRights(t *testing.T) {
	sd, _, _ := loadSD(t, "domainroot")
	holders := map[string][]string{}
	for _, a := range sd.DACL {
		if n := a.ObjectTypeName(); strings.HasPrefix(n, "DS-Replication-Get-Changes") && a.Grants(RightExtendedRight, a.ObjectType) {
			holders[n] = append(holders[n], a.Trustee)
		}
	}
	all := holders["DS-Replication-Get-Changes-All"]
	if !contains(all, labDomainSID+"-516") || !contains(all, SIDBuiltinAdministrators) {
		t.Errorf("Get-Changes-All holders = %v, want Domain Controllers and Administrators", all)
	}
	if !contains(holders["DS-Replication-Get-Changes"], SIDEnterpriseDCs) {
		t.Errorf("Get-Changes holders = %v, want Enterprise DCs", holders["DS-Replication-Get-Changes"])
	}
	if h := sd.Holders(RightExtendedRight, GUIDReplicationGetChangesAll); !reflect.DeepEqual(h, []string{
		SIDSystem, labDomainSID + "-512", labDomainSID + "-516", labDomainSID + "-519", SIDBuiltinAdministrators}) {
		// SYSTEM, Domain Admins and Enterprise Admins hold every extended
		// right (CR without an object type); DCs and Administrators hold
		// Get-Changes-All by name.
		t.Errorf("Holders(Get-Changes-All) = %q", h)
	}
	// Authenticated Users may read but not replicate.
	for _, a := range sd.DACL {
		if a.Trustee == SIDAuthenticatedUsers && a.Grants(RightExtendedRight, GUIDReplicationGetChangesAll) {
			t.Errorf("Authenticated Users granted Get-Changes-All: %v", a)
		}
	}
}

func contains(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

func TestACEGrants(t *testing.T) {
	gw := ACE{Type: ACEAccessAllowed, Mask: RightGenericWrite, Trustee: "S-1-5-11"}
	if !gw.Grants(RightWriteProperty, GUIDMember) || gw.Grants(RightWriteDacl, "") {
		t.Error("GenericWrite must grant WriteProperty on member, not WriteDacl")
	}
	fc := ACE{Type: ACEAccessAllowed, Mask: RightsFullControl}
	if !fc.Grants(RightWriteOwner, "") || !fc.Mask.FullControl() || fc.Mask.String() != "GenericAll" {
		t.Errorf("full control: %v", fc.Mask.Names())
	}
	obj := ACE{Type: ACEAccessAllowedObject, Mask: RightExtendedRight, ObjectType: GUIDUserForceChangePassword}
	if !obj.Grants(RightExtendedRight, GUIDUserForceChangePassword) || obj.Grants(RightExtendedRight, GUIDReplicationGetChangesAll) || obj.Grants(RightExtendedRight, "") {
		t.Error("object ACE scoping")
	}
	deny := ACE{Type: ACEAccessDeniedObject, Mask: RightsFullControl}
	io := ACE{Type: ACEAccessAllowed, Mask: RightsFullControl, Flags: ACEInheritOnly | ACEContainerInherit}
	if deny.Grants(RightWriteDacl, "") || io.Grants(RightWriteDacl, "") {
		t.Error("deny and inherit-only ACEs grant nothing on the object")
	}
	if got := obj.String(); got != "allow-object  ExtendedRight on 00299570-246d-11d0-a768-00aa006e0529(User-Force-Change-Password)" {
		t.Errorf("String = %q", got)
	}
}

// TestParseSecurityDescriptorRejects checks malformed input errors out
// (never panics, never over-allocates).
func TestParseSecurityDescriptorRejects(t *testing.T) {
	_, raw, _ := loadSD(t, "adminsdholder")
	mut := func(f func(b []byte) []byte) []byte { return f(append([]byte(nil), raw...)) }
	cases := map[string][]byte{
		"empty":        nil,
		"short":        raw[:19],
		"revision":     mut(func(b []byte) []byte { b[0] = 2; return b }),
		"absolute":     mut(func(b []byte) []byte { b[3] &^= 0x80; return b }),
		"owner offset": mut(func(b []byte) []byte { b[4], b[5], b[6], b[7] = 0xff, 0xff, 0, 0; return b }),
		"dacl offset":  mut(func(b []byte) []byte { b[16], b[17], b[18], b[19] = 3, 0, 0, 0; return b }),
		"truncated":    raw[:len(raw)-3],
		"too large":    make([]byte, MaxSecurityDescriptorSize+1),
	}
	for name, b := range cases {
		if _, err := ParseSecurityDescriptor(b); !errors.Is(err, ErrSecurityDescriptor) {
			t.Errorf("%s: err = %v, want ErrSecurityDescriptor", name, err)
		}
	}
	// An ACL claiming 65535 ACEs in a few bytes is rejected before allocating.
	sd := &SecurityDescriptor{DACLPresent: true, DACL: []ACE{{Type: ACEAccessAllowed, Mask: 1, Trustee: SIDEveryone}}}
	b, _ := sd.Bytes()
	off := int(b[16])
	b[off+4], b[off+5] = 0xff, 0xff
	if _, err := ParseSecurityDescriptor(b); err == nil || !strings.Contains(err.Error(), "claims 65535 ACEs") {
		t.Errorf("ACE count bomb: %v", err)
	}
}

func FuzzParseSecurityDescriptor(f *testing.F) {
	for _, name := range []string{"adminsdholder", "domainroot"} {
		raw, err := os.ReadFile("testdata/" + name + ".sd")
		if err != nil {
			f.Fatal(err)
		}
		f.Add(raw)
	}
	empty, _ := (&SecurityDescriptor{}).Bytes()
	f.Add(empty)
	f.Fuzz(func(t *testing.T, b []byte) {
		sd, err := ParseSecurityDescriptor(b)
		if err != nil {
			if sd != nil {
				t.Fatal("error with a descriptor")
			}
			return
		}
		if n := len(sd.DACL) + len(sd.SACL); n*8 > len(b) {
			t.Fatalf("%d ACEs from %d bytes", n, len(b))
		}
		for _, a := range append(sd.DACL, sd.SACL...) {
			_ = a.String()
		}
		// Whatever parsed re-encodes to something that parses the same,
		// for the ACE types the encoder knows.
		for _, a := range append(sd.DACL, sd.SACL...) {
			if _, known := aceTypeNames[a.Type]; !known || a.Trustee == "" {
				return
			}
		}
		enc, err := sd.Bytes()
		if err != nil {
			return // e.g. a SID authority the string form cannot carry back
		}
		again, err := ParseSecurityDescriptor(enc)
		if err != nil {
			t.Fatalf("re-encoded descriptor does not parse: %v", err)
		}
		if !reflect.DeepEqual(normalize(again), normalize(sd)) {
			t.Fatalf("round trip differs:\n%+v\n%+v", sd, again)
		}
	})
}

// normalize clears what encoding legitimately changes (control bits for
// absent lists, empty vs nil).
func normalize(sd *SecurityDescriptor) SecurityDescriptor {
	c := *sd
	c.Control &^= SEDACLPresent | SESACLPresent
	if len(c.DACL) == 0 {
		c.DACL = nil
	}
	if len(c.SACL) == 0 {
		c.SACL = nil
	}
	return c
}

func BenchmarkParseSecurityDescriptor(b *testing.B) {
	raw, err := os.ReadFile("testdata/domainroot.sd")
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(raw)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseSecurityDescriptor(raw); err != nil {
			b.Fatal(err)
		}
	}
}
