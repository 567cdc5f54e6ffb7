package directory

import (
	"encoding/binary"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// SecurityDescriptor is a parsed nTSecurityDescriptor (or
// msDS-AllowedToActOnBehalfOfOtherIdentity): owner, group and access
// control lists.
type SecurityDescriptor struct {
	// Control is the SECURITY_DESCRIPTOR control word (SE_* bits).
	Control uint16 `json:"control"`
	// Owner and Group are SID strings, "" when absent (e.g. not requested
	// through LDAP_SERVER_SD_FLAGS).
	Owner     string `json:"owner,omitempty"`
	OwnerName string `json:"owner_name,omitempty"` // resolved by Snapshot.Resolve
	Group     string `json:"group,omitempty"`
	// DACLPresent is false for a NULL DACL (everyone has full control) or
	// when the DACL was not read; DACL is then empty.
	DACLPresent bool  `json:"dacl_present"`
	DACL        []ACE `json:"dacl,omitempty"`
	SACL        []ACE `json:"sacl,omitempty"`
}

// SD control bits (MS-DTYP 2.4.6).
const (
	SEOwnerDefaulted  = 0x0001
	SEGroupDefaulted  = 0x0002
	SEDACLPresent     = 0x0004
	SEDACLDefaulted   = 0x0008
	SESACLPresent     = 0x0010
	SESACLDefaulted   = 0x0020
	SEDACLAutoInherit = 0x0400
	SESACLAutoInherit = 0x0800
	SEDACLProtected   = 0x1000
	SESACLProtected   = 0x2000
	SESelfRelative    = 0x8000
)

// DACLProtected reports inheritance is blocked on the DACL.
func (sd *SecurityDescriptor) DACLProtected() bool { return sd.Control&SEDACLProtected != 0 }

// ACEType is an ACE's AceType (MS-DTYP 2.4.4.1).
type ACEType uint8

// ACE types.
const (
	ACEAccessAllowed               ACEType = 0x00
	ACEAccessDenied                ACEType = 0x01
	ACESystemAudit                 ACEType = 0x02
	ACEAccessAllowedObject         ACEType = 0x05
	ACEAccessDeniedObject          ACEType = 0x06
	ACESystemAuditObject           ACEType = 0x07
	ACEAccessAllowedCallback       ACEType = 0x09
	ACEAccessDeniedCallback        ACEType = 0x0A
	ACEAccessAllowedCallbackObject ACEType = 0x0B
	ACEAccessDeniedCallbackObject  ACEType = 0x0C
	ACESystemAuditCallback         ACEType = 0x0D
	ACESystemAuditCallbackObject   ACEType = 0x0F
	ACESystemMandatoryLabel        ACEType = 0x11
	ACESystemResourceAttribute     ACEType = 0x12
	ACESystemScopedPolicyID        ACEType = 0x13
)

var aceTypeNames = map[ACEType]string{
	ACEAccessAllowed: "allow", ACEAccessDenied: "deny", ACESystemAudit: "audit",
	ACEAccessAllowedObject: "allow-object", ACEAccessDeniedObject: "deny-object", ACESystemAuditObject: "audit-object",
	ACEAccessAllowedCallback: "allow-callback", ACEAccessDeniedCallback: "deny-callback",
	ACEAccessAllowedCallbackObject: "allow-callback-object", ACEAccessDeniedCallbackObject: "deny-callback-object",
	ACESystemAuditCallback: "audit-callback", ACESystemAuditCallbackObject: "audit-callback-object",
	ACESystemMandatoryLabel: "mandatory-label", ACESystemResourceAttribute: "resource-attribute",
	ACESystemScopedPolicyID: "scoped-policy-id",
}

// String names the type ("allow", "deny-object", …).
func (t ACEType) String() string {
	if s, ok := aceTypeNames[t]; ok {
		return s
	}
	return fmt.Sprintf("type-0x%02x", uint8(t))
}

// Object reports an object ACE (one that may carry object-type GUIDs).
func (t ACEType) Object() bool {
	switch t {
	case ACEAccessAllowedObject, ACEAccessDeniedObject, ACESystemAuditObject,
		ACEAccessAllowedCallbackObject, ACEAccessDeniedCallbackObject, ACESystemAuditCallbackObject:
		return true
	}
	return false
}

// Allow reports an access-allowed ACE of any kind.
func (t ACEType) Allow() bool {
	switch t {
	case ACEAccessAllowed, ACEAccessAllowedObject, ACEAccessAllowedCallback, ACEAccessAllowedCallbackObject:
		return true
	}
	return false
}

// Deny reports an access-denied ACE of any kind.
func (t ACEType) Deny() bool {
	switch t {
	case ACEAccessDenied, ACEAccessDeniedObject, ACEAccessDeniedCallback, ACEAccessDeniedCallbackObject:
		return true
	}
	return false
}

// ACE flag bits (AceFlags).
const (
	ACEObjectInherit      = 0x01
	ACEContainerInherit   = 0x02
	ACENoPropagateInherit = 0x04
	ACEInheritOnly        = 0x08
	ACEInherited          = 0x10
	ACESuccessfulAccess   = 0x40
	ACEFailedAccess       = 0x80
)

// ACE is one access control entry.
type ACE struct {
	Type  ACEType    `json:"type"`
	Flags uint8      `json:"flags"`
	Mask  AccessMask `json:"mask"`
	// Trustee is the SID the ACE applies to.
	Trustee     string `json:"trustee"`
	TrusteeName string `json:"trustee_name,omitempty"` // resolved by Snapshot.Resolve
	// ObjectType is the lower-case GUID of the property, property set,
	// extended right, validated write or child class the ACE is limited to;
	// "" means all.
	ObjectType string `json:"object_type,omitempty"`
	// InheritedObjectType limits inheritance to objects of this class
	// (lower-case GUID); "" means all.
	InheritedObjectType string `json:"inherited_object_type,omitempty"`
}

// Allow reports an access-allowed ACE.
func (a ACE) Allow() bool { return a.Type.Allow() }

// Deny reports an access-denied ACE.
func (a ACE) Deny() bool { return a.Type.Deny() }

// Inherited reports the ACE was inherited from a parent.
func (a ACE) Inherited() bool { return a.Flags&ACEInherited != 0 }

// InheritOnly reports the ACE does not apply to the object itself, only to
// children.
func (a ACE) InheritOnly() bool { return a.Flags&ACEInheritOnly != 0 }

// ObjectTypeName names ObjectType from the well-known GUID table ("" when
// unknown or when the ACE applies to all).
func (a ACE) ObjectTypeName() string { return GUIDName(a.ObjectType) }

// InheritedObjectTypeName names InheritedObjectType.
func (a ACE) InheritedObjectTypeName() string { return GUIDName(a.InheritedObjectType) }

// AppliesToObject reports the ACE takes effect on the object itself (it is
// not inherit-only, and not limited by InheritedObjectType to other
// classes; an InheritedObjectType ACE on the object itself applies only to
// children).
func (a ACE) AppliesToObject() bool { return !a.InheritOnly() && a.InheritedObjectType == "" }

// Grants reports an allow ACE that gives right on the object itself for
// objectType (a lower-case GUID naming a property, property set or
// extended right; "" asks for the right over everything). Generic rights
// are expanded (GenericAll grants everything, GenericWrite grants
// WriteProperty and Self), and an ACE without ObjectType covers every
// objectType. Deny ACEs are not weighed: callers who care check Denies.
func (a ACE) Grants(right AccessMask, objectType string) bool {
	if !a.Allow() || !a.AppliesToObject() {
		return false
	}
	if !a.Mask.Effective().Has(right) {
		return false
	}
	return a.ObjectType == "" || (objectType != "" && strings.EqualFold(a.ObjectType, objectType))
}

// String renders the ACE as "allow S-1-5-…(name) WriteProperty,… on GUID(name)".
func (a ACE) String() string {
	var sb strings.Builder
	sb.WriteString(a.Type.String())
	sb.WriteByte(' ')
	sb.WriteString(a.Trustee)
	if a.TrusteeName != "" {
		sb.WriteString("(" + a.TrusteeName + ")")
	}
	sb.WriteByte(' ')
	sb.WriteString(strings.Join(a.Mask.Names(), ","))
	if a.ObjectType != "" {
		sb.WriteString(" on " + a.ObjectType)
		if n := a.ObjectTypeName(); n != "" {
			sb.WriteString("(" + n + ")")
		}
	}
	if a.InheritedObjectType != "" {
		sb.WriteString(" inherited-by " + a.InheritedObjectType)
		if n := a.InheritedObjectTypeName(); n != "" {
			sb.WriteString("(" + n + ")")
		}
	}
	if a.Inherited() {
		sb.WriteString(" [inherited]")
	}
	return sb.String()
}

// AccessMask is an ACE's access mask with the directory-service rights
// (MS-ADTS 5.1.3.2, ADS_RIGHTS_ENUM).
type AccessMask uint32

// Access rights.
const (
	RightCreateChild          AccessMask = 0x00000001
	RightDeleteChild          AccessMask = 0x00000002
	RightListChildren         AccessMask = 0x00000004
	RightSelf                 AccessMask = 0x00000008 // validated write
	RightReadProperty         AccessMask = 0x00000010
	RightWriteProperty        AccessMask = 0x00000020
	RightDeleteTree           AccessMask = 0x00000040
	RightListObject           AccessMask = 0x00000080
	RightExtendedRight        AccessMask = 0x00000100 // control access
	RightDelete               AccessMask = 0x00010000
	RightReadControl          AccessMask = 0x00020000
	RightWriteDacl            AccessMask = 0x00040000
	RightWriteOwner           AccessMask = 0x00080000
	RightSynchronize          AccessMask = 0x00100000
	RightAccessSystemSecurity AccessMask = 0x01000000
	RightMaximumAllowed       AccessMask = 0x02000000
	RightGenericAll           AccessMask = 0x10000000
	RightGenericExecute       AccessMask = 0x20000000
	RightGenericWrite         AccessMask = 0x40000000
	RightGenericRead          AccessMask = 0x80000000

	// RightsFullControl is what AD stores for GenericAll (all DS rights
	// plus the standard rights).
	RightsFullControl AccessMask = 0x000F01FF
	// rightsDSWrite is what GenericWrite maps to for directory objects.
	rightsDSWrite = RightReadControl | RightWriteProperty | RightSelf
	rightsDSRead  = RightReadControl | RightListChildren | RightReadProperty | RightListObject
)

var rightNames = []bitName[AccessMask]{
	{RightCreateChild, "CreateChild"}, {RightDeleteChild, "DeleteChild"}, {RightListChildren, "ListChildren"},
	{RightSelf, "Self"}, {RightReadProperty, "ReadProperty"}, {RightWriteProperty, "WriteProperty"},
	{RightDeleteTree, "DeleteTree"}, {RightListObject, "ListObject"}, {RightExtendedRight, "ExtendedRight"},
	{RightDelete, "Delete"}, {RightReadControl, "ReadControl"}, {RightWriteDacl, "WriteDacl"},
	{RightWriteOwner, "WriteOwner"}, {RightSynchronize, "Synchronize"},
	{RightAccessSystemSecurity, "AccessSystemSecurity"}, {RightMaximumAllowed, "MaximumAllowed"},
	{RightGenericAll, "GenericAll"}, {RightGenericExecute, "GenericExecute"},
	{RightGenericWrite, "GenericWrite"}, {RightGenericRead, "GenericRead"},
}

// Has reports every bit of r is set.
func (m AccessMask) Has(r AccessMask) bool { return m&r == r }

// Effective expands the generic bits into the directory rights they map
// to (GenericAll → full control, GenericWrite → WriteProperty|Self|
// ReadControl, GenericRead → read rights, GenericExecute → ListChildren).
func (m AccessMask) Effective() AccessMask {
	e := m
	if m&RightGenericAll != 0 {
		e |= RightsFullControl
	}
	if m&RightGenericWrite != 0 {
		e |= rightsDSWrite
	}
	if m&RightGenericRead != 0 {
		e |= rightsDSRead
	}
	if m&RightGenericExecute != 0 {
		e |= RightReadControl | RightListChildren
	}
	return e
}

// FullControl reports GenericAll or every DS and standard right.
func (m AccessMask) FullControl() bool { return m.Effective().Has(RightsFullControl) }

// Names lists the rights; a full-control mask is "GenericAll" alone.
// Unknown bits appear as hex.
func (m AccessMask) Names() []string {
	if m == RightsFullControl || m == RightGenericAll {
		return []string{"GenericAll"}
	}
	out, rest := bitNames(m, rightNames)
	if rest != 0 {
		out = append(out, "0x"+strconv.FormatUint(uint64(rest), 16))
	}
	return out
}

// String is Names joined with ",".
func (m AccessMask) String() string { return strings.Join(m.Names(), ",") }

// ErrSecurityDescriptor reports a malformed security descriptor.
var ErrSecurityDescriptor = errors.New("directory: malformed security descriptor")

// MaxSecurityDescriptorSize bounds ParseSecurityDescriptor's input (an ACL
// is at most 64 KiB; a descriptor holds two plus two SIDs).
const MaxSecurityDescriptorSize = 256 << 10

// ParseSecurityDescriptor decodes a self-relative SECURITY_DESCRIPTOR
// (MS-DTYP 2.4.6). Every offset and length is bounds-checked and
// allocation is proportional to len(b), which is capped at
// MaxSecurityDescriptorSize. ACE types it cannot interpret keep their type,
// flags and (when present) mask, without a trustee.
func ParseSecurityDescriptor(b []byte) (*SecurityDescriptor, error) {
	if len(b) > MaxSecurityDescriptorSize {
		return nil, fmt.Errorf("%w: %d bytes (max %d)", ErrSecurityDescriptor, len(b), MaxSecurityDescriptorSize)
	}
	if len(b) < 20 {
		return nil, fmt.Errorf("%w: %d bytes, need at least 20", ErrSecurityDescriptor, len(b))
	}
	if b[0] != 1 {
		return nil, fmt.Errorf("%w: revision %d", ErrSecurityDescriptor, b[0])
	}
	sd := &SecurityDescriptor{Control: binary.LittleEndian.Uint16(b[2:])}
	if sd.Control&SESelfRelative == 0 {
		return nil, fmt.Errorf("%w: not self-relative (control 0x%04x)", ErrSecurityDescriptor, sd.Control)
	}
	offOwner := binary.LittleEndian.Uint32(b[4:])
	offGroup := binary.LittleEndian.Uint32(b[8:])
	offSACL := binary.LittleEndian.Uint32(b[12:])
	offDACL := binary.LittleEndian.Uint32(b[16:])
	sidAt := func(what string, off uint32) (string, error) {
		if off == 0 {
			return "", nil
		}
		if off < 20 || uint64(off) >= uint64(len(b)) {
			return "", fmt.Errorf("%w: %s offset %d outside 20..%d", ErrSecurityDescriptor, what, off, len(b))
		}
		s, _, err := ParseSID(b[off:])
		if err != nil {
			return "", fmt.Errorf("%w: %s: %v", ErrSecurityDescriptor, what, err)
		}
		return s, nil
	}
	var err error
	if sd.Owner, err = sidAt("owner", offOwner); err != nil {
		return nil, err
	}
	if sd.Group, err = sidAt("group", offGroup); err != nil {
		return nil, err
	}
	if sd.Control&SESACLPresent != 0 && offSACL != 0 {
		if sd.SACL, err = parseACL(b, offSACL, "sacl"); err != nil {
			return nil, err
		}
	}
	if sd.Control&SEDACLPresent != 0 && offDACL != 0 {
		sd.DACLPresent = true
		if sd.DACL, err = parseACL(b, offDACL, "dacl"); err != nil {
			return nil, err
		}
	}
	return sd, nil
}

// parseACL decodes the ACL (MS-DTYP 2.4.5) at off.
func parseACL(b []byte, off uint32, what string) ([]ACE, error) {
	if off < 20 || uint64(off)+8 > uint64(len(b)) {
		return nil, fmt.Errorf("%w: %s offset %d outside 20..%d", ErrSecurityDescriptor, what, off, len(b)-8)
	}
	h := b[off:]
	if rev := h[0]; rev != 2 && rev != 4 {
		return nil, fmt.Errorf("%w: %s revision %d", ErrSecurityDescriptor, what, rev)
	}
	size := int(binary.LittleEndian.Uint16(h[2:]))
	count := int(binary.LittleEndian.Uint16(h[4:]))
	if size < 8 || size > len(h) {
		return nil, fmt.Errorf("%w: %s size %d, %d bytes remain", ErrSecurityDescriptor, what, size, len(h))
	}
	body := h[8:size]
	// Each ACE takes at least 8 bytes: never allocate more than that allows.
	if count > len(body)/8 {
		return nil, fmt.Errorf("%w: %s claims %d ACEs in %d bytes", ErrSecurityDescriptor, what, count, len(body))
	}
	aces := make([]ACE, 0, count)
	for i := 0; i < count; i++ {
		if len(body) < 4 {
			return nil, fmt.Errorf("%w: %s ACE %d: truncated header", ErrSecurityDescriptor, what, i)
		}
		aceSize := int(binary.LittleEndian.Uint16(body[2:]))
		if aceSize < 8 || aceSize > len(body) {
			return nil, fmt.Errorf("%w: %s ACE %d: size %d, %d bytes remain", ErrSecurityDescriptor, what, i, aceSize, len(body))
		}
		ace, err := parseACE(body[:aceSize])
		if err != nil {
			return nil, fmt.Errorf("%w: %s ACE %d: %v", ErrSecurityDescriptor, what, i, err)
		}
		aces = append(aces, ace)
		body = body[aceSize:]
	}
	return aces, nil
}

// parseACE decodes one ACE of exactly len(b) bytes (≥ 8).
func parseACE(b []byte) (ACE, error) {
	ace := ACE{Type: ACEType(b[0]), Flags: b[1], Mask: AccessMask(binary.LittleEndian.Uint32(b[4:]))}
	rest := b[8:]
	switch ace.Type {
	case ACEAccessAllowed, ACEAccessDenied, ACESystemAudit, ACEAccessAllowedCallback,
		ACEAccessDeniedCallback, ACESystemAuditCallback, ACESystemMandatoryLabel,
		ACESystemResourceAttribute, ACESystemScopedPolicyID:
	case ACEAccessAllowedObject, ACEAccessDeniedObject, ACESystemAuditObject,
		ACEAccessAllowedCallbackObject, ACEAccessDeniedCallbackObject, ACESystemAuditCallbackObject:
		if len(rest) < 4 {
			return ace, errors.New("object ACE without flags")
		}
		flags := binary.LittleEndian.Uint32(rest)
		rest = rest[4:]
		if flags&1 != 0 {
			if len(rest) < 16 {
				return ace, errors.New("truncated object type")
			}
			ace.ObjectType = formatGUID(rest[:16])
			rest = rest[16:]
		}
		if flags&2 != 0 {
			if len(rest) < 16 {
				return ace, errors.New("truncated inherited object type")
			}
			ace.InheritedObjectType = formatGUID(rest[:16])
			rest = rest[16:]
		}
	default:
		return ace, nil // unknown type: header and mask only
	}
	sid, _, err := ParseSID(rest)
	if err != nil {
		return ace, err
	}
	ace.Trustee = sid
	return ace, nil
}

// formatGUID renders a 16-byte GUID in its registry form (first three
// fields little-endian), lower case.
func formatGUID(g []byte) string {
	const hexd = "0123456789abcdef"
	order := [16]int{3, 2, 1, 0, -1, 5, 4, -1, 7, 6, -1, 8, 9, -1, 10, 11}
	out := make([]byte, 0, 36)
	for _, i := range order {
		if i < 0 {
			out = append(out, '-')
			continue
		}
		out = append(out, hexd[g[i]>>4], hexd[g[i]&0xf])
	}
	for _, i := range []int{12, 13, 14, 15} {
		out = append(out, hexd[g[i]>>4], hexd[g[i]&0xf])
	}
	return string(out)
}

// FormatGUID renders a binary GUID (objectGUID, schemaIDGUID) as a
// lower-case string; "" unless len(g) == 16.
func FormatGUID(g []byte) string {
	if len(g) != 16 {
		return ""
	}
	return formatGUID(g)
}

// parseGUID is the inverse of formatGUID.
func parseGUID(s string) ([]byte, error) {
	s = strings.ReplaceAll(strings.Trim(s, "{}"), "-", "")
	if len(s) != 32 {
		return nil, fmt.Errorf("GUID %q: want 32 hex digits", s)
	}
	raw := make([]byte, 16)
	for i := 0; i < 16; i++ {
		hi, lo := unhex(s[2*i]), unhex(s[2*i+1])
		if hi < 0 || lo < 0 {
			return nil, fmt.Errorf("GUID %q: not hex", s)
		}
		raw[i] = byte(hi<<4 | lo)
	}
	g := make([]byte, 16)
	g[0], g[1], g[2], g[3] = raw[3], raw[2], raw[1], raw[0]
	g[4], g[5] = raw[5], raw[4]
	g[6], g[7] = raw[7], raw[6]
	copy(g[8:], raw[8:])
	return g, nil
}

func unhex(c byte) int {
	switch {
	case c >= '0' && c <= '9':
		return int(c - '0')
	case c >= 'a' && c <= 'f':
		return int(c-'a') + 10
	case c >= 'A' && c <= 'F':
		return int(c-'A') + 10
	}
	return -1
}

// Bytes encodes the descriptor in self-relative form (owner, group, SACL,
// DACL in that order). It is the inverse of ParseSecurityDescriptor for the
// ACE types this package interprets; tests and seeds use it.
func (sd *SecurityDescriptor) Bytes() ([]byte, error) {
	out := make([]byte, 20)
	out[0] = 1
	control := sd.Control | SESelfRelative
	put := func(at int, v int) { binary.LittleEndian.PutUint32(out[at:], uint32(v)) }
	if sd.Owner != "" {
		s, err := EncodeSID(sd.Owner)
		if err != nil {
			return nil, err
		}
		put(4, len(out))
		out = append(out, s...)
	}
	if sd.Group != "" {
		s, err := EncodeSID(sd.Group)
		if err != nil {
			return nil, err
		}
		put(8, len(out))
		out = append(out, s...)
	}
	if len(sd.SACL) > 0 {
		control |= SESACLPresent
		acl, err := encodeACL(sd.SACL)
		if err != nil {
			return nil, err
		}
		put(12, len(out))
		out = append(out, acl...)
	}
	if sd.DACLPresent || len(sd.DACL) > 0 {
		control |= SEDACLPresent
		acl, err := encodeACL(sd.DACL)
		if err != nil {
			return nil, err
		}
		put(16, len(out))
		out = append(out, acl...)
	} else {
		control &^= SEDACLPresent
	}
	binary.LittleEndian.PutUint16(out[2:], control)
	return out, nil
}

func encodeACL(aces []ACE) ([]byte, error) {
	out := make([]byte, 8)
	out[0] = 4 // ACL_REVISION_DS
	for _, a := range aces {
		start := len(out)
		out = append(out, byte(a.Type), a.Flags, 0, 0)
		out = binary.LittleEndian.AppendUint32(out, uint32(a.Mask))
		if a.Type.Object() {
			var flags uint32
			var guids []byte
			for i, g := range []string{a.ObjectType, a.InheritedObjectType} {
				if g == "" {
					continue
				}
				raw, err := parseGUID(g)
				if err != nil {
					return nil, err
				}
				flags |= 1 << i
				guids = append(guids, raw...)
			}
			out = binary.LittleEndian.AppendUint32(out, flags)
			out = append(out, guids...)
		}
		if a.Trustee != "" {
			s, err := EncodeSID(a.Trustee)
			if err != nil {
				return nil, err
			}
			out = append(out, s...)
		}
		size := len(out) - start
		if size > 0xffff {
			return nil, errors.New("ACE too large")
		}
		binary.LittleEndian.PutUint16(out[start+2:], uint16(size))
	}
	if len(out) > 0xffff || len(aces) > 0xffff {
		return nil, errors.New("ACL too large")
	}
	binary.LittleEndian.PutUint16(out[2:], uint16(len(out)))
	binary.LittleEndian.PutUint16(out[4:], uint16(len(aces)))
	return out, nil
}

// Holders returns the sorted, distinct trustee SIDs of the allow ACEs
// that grant right for objectType on the object itself (see ACE.Grants):
// e.g. Holders(RightExtendedRight, GUIDReplicationGetChangesAll) on the
// domain root lists who may DCSync.
func (sd *SecurityDescriptor) Holders(right AccessMask, objectType string) []string {
	if sd == nil {
		return nil
	}
	seen := map[string]bool{}
	var out []string
	for _, a := range sd.DACL {
		if a.Trustee != "" && !seen[a.Trustee] && a.Grants(right, objectType) {
			seen[a.Trustee] = true
			out = append(out, a.Trustee)
		}
	}
	sort.Strings(out)
	return out
}
