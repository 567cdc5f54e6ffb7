package entra

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/castellan-itdr/castellan/mappings/schema"
)

// Limits on what one record may cost.
const (
	// MaxRecordBytes caps one resource or diagnostic record; larger input is
	// rejected unread. Graph sign-ins are a few KB; Event Hubs messages are
	// at most 1 MB (standard tier).
	MaxRecordBytes = 1 << 20
	// MaxBodyBytes caps one Event Hubs message body given to SplitDiagnostic.
	MaxBodyBytes = 16 << 20
	// MaxOriginalFields caps the flattened fields kept in Event.Original.
	MaxOriginalFields = 128
	// MaxOriginalValue caps one value in Event.Original, in bytes.
	MaxOriginalValue = 1024
	// maxDepth bounds JSON nesting.
	maxDepth = 32
)

// Dataset is event.dataset of every event; Provider is event.provider.
const (
	Dataset  = "entra"
	Provider = "Microsoft Entra ID"
)

// Resource types: the channel part of event ids.
const (
	ResourceSignIn         = "signIn"
	ResourceDirectoryAudit = "directoryAudit"
	ResourceRiskDetection  = "riskDetection"
	ResourceRiskyUser      = "riskyUser"
)

// Diagnostic settings categories (the "category" of a record streamed to
// Event Hubs), also event.channel.
const (
	CategorySignIn           = "SignInLogs"
	CategoryNonInteractive   = "NonInteractiveUserSignInLogs"
	CategoryServicePrincipal = "ServicePrincipalSignInLogs"
	CategoryManagedIdentity  = "ManagedIdentitySignInLogs"
	CategoryAudit            = "AuditLogs"
	CategoryRiskyUsers       = "RiskyUsers"
	CategoryUserRiskEvents   = "UserRiskEvents"
)

var (
	// ErrMalformed is wrapped by every error for input that is not a usable
	// record: not JSON, not an object, no id or time, too large.
	ErrMalformed = errors.New("entra: malformed record")
	// ErrUnsupportedCategory is wrapped by FromDiagnosticRecord for a
	// diagnostic category this package does not map (ProvisioningLogs,
	// ADFSSignInLogs, …). Callers count and skip such records.
	ErrUnsupportedCategory = errors.New("entra: unsupported diagnostic category")
)

// Mapper maps records of one tenant. The zero value works; TenantID fills
// cloud.tenant_id and the event id for records that carry no tenant (Graph
// v1.0 resources). Safe for concurrent use.
type Mapper struct {
	// TenantID is the tenant the records come from, as a GUID.
	TenantID string
}

// FromSignIn maps a Graph signIn resource (kind cloud_signin).
func FromSignIn(raw []byte) (schema.Event, error) { return Mapper{}.FromSignIn(raw) }

// FromDirectoryAudit maps a Graph directoryAudit resource (kind cloud_audit).
func FromDirectoryAudit(raw []byte) (schema.Event, error) {
	return Mapper{}.FromDirectoryAudit(raw)
}

// FromRiskDetection maps a Graph riskDetection resource (kind cloud_risk).
func FromRiskDetection(raw []byte) (schema.Event, error) { return Mapper{}.FromRiskDetection(raw) }

// FromRiskyUser maps a Graph riskyUser resource (kind cloud_risk, action
// risky-user-state).
func FromRiskyUser(raw []byte) (schema.Event, error) { return Mapper{}.FromRiskyUser(raw) }

// FromDiagnosticRecord maps one element of an Event Hubs message's
// "records" array. Unsupported categories give ErrUnsupportedCategory.
func FromDiagnosticRecord(raw []byte) (schema.Event, error) {
	return Mapper{}.FromDiagnosticRecord(raw)
}

// FromSignIn maps a Graph signIn resource (kind cloud_signin).
func (m Mapper) FromSignIn(raw []byte) (schema.Event, error) {
	return m.fromResource(raw, ResourceSignIn)
}

// FromDirectoryAudit maps a Graph directoryAudit resource (kind cloud_audit).
func (m Mapper) FromDirectoryAudit(raw []byte) (schema.Event, error) {
	return m.fromResource(raw, ResourceDirectoryAudit)
}

// FromRiskDetection maps a Graph riskDetection resource (kind cloud_risk).
func (m Mapper) FromRiskDetection(raw []byte) (schema.Event, error) {
	return m.fromResource(raw, ResourceRiskDetection)
}

// FromRiskyUser maps a Graph riskyUser resource (kind cloud_risk).
func (m Mapper) FromRiskyUser(raw []byte) (schema.Event, error) {
	return m.fromResource(raw, ResourceRiskyUser)
}

// FromAny maps one record whose shape is recognized by content: a
// diagnostic record (it has "category" and "properties") or a Graph
// resource recognized by its time property — detectedDateTime
// (riskDetection, which also has an activityDateTime), riskLastUpdatedDateTime
// (riskyUser), createdDateTime (signIn), activityDateTime (directoryAudit). This is how JSON-lines files of
// exported or forwarded Entra logs are read. Anything else is ErrMalformed.
func FromAny(raw []byte) (schema.Event, error) { return Mapper{}.FromAny(raw) }

// FromAny maps one record whose shape is recognized by content; see FromAny.
func (m Mapper) FromAny(raw []byte) (schema.Event, error) {
	obj, err := parseObject(raw)
	if err != nil {
		return schema.Event{}, err
	}
	hasCategory, hasProps := false, false
	for k := range obj {
		switch strings.ToLower(k) {
		case "category":
			hasCategory = true
		case "properties":
			hasProps = true
		}
	}
	if hasCategory && hasProps {
		return m.fromDiagnosticObject(obj)
	}
	canonicalize(obj)
	for _, c := range anyShapes {
		if _, ok := obj[c.key]; ok {
			return m.mapResource(obj, c.resource, envelope{})
		}
	}
	return schema.Event{}, fmt.Errorf("%w: not a sign-in, directory audit, risk detection, risky user or diagnostic record", ErrMalformed)
}

// recordMarkers are property names only Entra records carry: the time
// property of each Graph resource, and a diagnostic record's envelope.
var recordMarkers = [][]byte{
	[]byte(`"createdDateTime"`), []byte(`"activityDateTime"`), []byte(`"detectedDateTime"`),
	[]byte(`"riskLastUpdatedDateTime"`), []byte(`"properties"`), []byte(`"CreatedDateTime"`),
}

// LooksLikeRecord reports whether a line (or the start of a file) looks
// like an Entra ID record FromAny reads — it names a Graph resource's time
// property or a diagnostic record's "properties" — without parsing it.
// Windows events in JSON never do. Callers use it to pick a decoder.
func LooksLikeRecord(line []byte) bool {
	for _, m := range recordMarkers {
		if bytes.Contains(line, m) {
			return true
		}
	}
	return false
}

// anyShapes tells resources apart by their time property, in the order
// FromAny tries them.
var anyShapes = [...]struct{ key, resource string }{
	{"detectedDateTime", ResourceRiskDetection}, // risk detections also carry activityDateTime
	{"riskLastUpdatedDateTime", ResourceRiskyUser},
	{"createdDateTime", ResourceSignIn},
	{"activityDateTime", ResourceDirectoryAudit},
}

func (m Mapper) fromResource(raw []byte, resource string) (schema.Event, error) {
	obj, err := parseObject(raw)
	if err != nil {
		return schema.Event{}, err
	}
	canonicalize(obj)
	return m.mapResource(obj, resource, envelope{})
}

// envelope is what a diagnostic record adds around the resource.
type envelope struct {
	category string
	tenant   string
	time     string
	result   string // resultType: the error code of sign-ins
}

// mapResource dispatches to the resource's mapper.
func (m Mapper) mapResource(obj map[string]any, resource string, env envelope) (schema.Event, error) {
	r := &rec{obj: obj, env: env}
	r.tenant = firstNonEmpty(env.tenant, str(obj, "tenantId"), m.TenantID)
	var ev schema.Event
	var err error
	switch resource {
	case ResourceSignIn:
		err = mapSignIn(r, &ev)
	case ResourceDirectoryAudit:
		err = mapAudit(r, &ev)
	case ResourceRiskDetection:
		err = mapRiskDetection(r, &ev)
	case ResourceRiskyUser:
		err = mapRiskyUser(r, &ev)
	default:
		return schema.Event{}, fmt.Errorf("%w: unknown resource %q", ErrMalformed, resource)
	}
	if err != nil {
		return schema.Event{}, err
	}
	ev.Event.Dataset = Dataset
	ev.Event.Provider = Provider
	ev.Cloud.TenantID = r.tenant
	fields := make(map[string]string, 48)
	for k, v := range obj {
		flatten(fields, k, v, 0)
	}
	if resource == ResourceDirectoryAudit {
		addModified(fields, obj)
	}
	ev.Original = capOriginal(fields)
	return ev, nil
}

// rec is one resource being mapped.
type rec struct {
	obj    map[string]any
	env    envelope
	tenant string
}

// id is the resource id; a record without one is malformed.
func (r *rec) id() (string, error) {
	id := str(r.obj, "id")
	if id == "" {
		return "", fmt.Errorf("%w: no id", ErrMalformed)
	}
	return id, nil
}

// time reads the resource's time property, falling back to the diagnostic
// envelope's time.
func (r *rec) time(key string) (time.Time, error) {
	s := str(r.obj, key)
	if s == "" {
		s = r.env.time
	}
	t, err := parseTime(s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%w: %s %q: %v", ErrMalformed, key, truncate(s, 40), err)
	}
	return t, nil
}

// eventID builds the stable id of a resource.
func (r *rec) eventID(resource, identity string) string {
	return schema.EventID(Dataset, r.tenant, resource, identity)
}

// parseObject decodes exactly one JSON object, numbers kept as text.
func parseObject(raw []byte) (map[string]any, error) {
	if len(raw) > MaxRecordBytes {
		return nil, fmt.Errorf("%w: %d bytes exceeds %d", ErrMalformed, len(raw), MaxRecordBytes)
	}
	if d := jsonDepth(raw); d > maxDepth {
		return nil, fmt.Errorf("%w: nested deeper than %d", ErrMalformed, maxDepth)
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var obj map[string]any
	if err := dec.Decode(&obj); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	if obj == nil {
		return nil, fmt.Errorf("%w: not an object", ErrMalformed)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("%w: data after the object", ErrMalformed)
	}
	return obj, nil
}

// jsonDepth returns the maximum nesting depth of brackets outside strings;
// it stops counting once past maxDepth.
func jsonDepth(b []byte) int {
	depth, top, inStr, esc := 0, 0, false, false
	for _, c := range b {
		switch {
		case inStr:
			switch {
			case esc:
				esc = false
			case c == '\\':
				esc = true
			case c == '"':
				inStr = false
			}
		case c == '"':
			inStr = true
		case c == '{' || c == '[':
			depth++
			if depth > top {
				top = depth
				if top > maxDepth {
					return top
				}
			}
		case c == '}' || c == ']':
			depth--
		}
	}
	return top
}

// timeLayouts: Graph's ISO 8601 UTC with up to seven fraction digits, and
// the zone-less form some diagnostic records use (read as UTC).
var timeLayouts = [...]string{
	time.RFC3339Nano,
	"2006-01-02T15:04:05.999999999",
	"2006-01-02 15:04:05.999999999Z07:00",
	"2006-01-02 15:04:05.999999999",
}

func parseTime(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, errors.New("missing")
	}
	for _, l := range timeLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, errors.New("unknown format")
}

// flatten adds v under key: scalars as text, objects and arrays as dotted
// keys (array elements by index). nulls and @odata annotations are dropped;
// a string holding a JSON object or array is flattened as that value.
func flatten(dst map[string]string, key string, v any, depth int) {
	if strings.HasPrefix(key, "@odata.") || strings.Contains(key, ".@odata.") {
		return
	}
	switch x := v.(type) {
	case nil:
	case string:
		if depth < maxDepth && len(x) > 1 && (x[0] == '[' || x[0] == '{') {
			if inner, ok := decodeEmbedded(x); ok {
				flatten(dst, key, inner, depth+1)
				return
			}
		}
		dst[key] = x
	case json.Number:
		dst[key] = x.String()
	case bool:
		dst[key] = strconv.FormatBool(x)
	case map[string]any:
		for k, e := range x {
			flatten(dst, key+"."+k, e, depth+1)
		}
	case []any:
		for i, e := range x {
			flatten(dst, key+"."+strconv.Itoa(i), e, depth+1)
		}
	}
}

// decodeEmbedded parses a JSON-encoded object or array held in a string
// (riskDetection additionalInfo), canonicalizing its keys.
func decodeEmbedded(s string) (any, bool) {
	if len(s) > MaxRecordBytes || jsonDepth([]byte(s)) > maxDepth {
		return nil, false
	}
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, false
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, false
	}
	canonicalizeValue(v)
	return v, true
}

// capOriginal bounds fields (see schema.CapOriginal).
func capOriginal(fields map[string]string) map[string]string {
	return schema.CapOriginal(fields, MaxOriginalFields, MaxOriginalValue)
}

// truncate cuts s to at most n bytes without splitting a UTF-8 sequence.
func truncate(s string, n int) string { return schema.Truncate(s, n) }

// str reads a member as text: strings as they are, numbers in their JSON
// form, booleans as true/false; absent, null and nested values give "".
func str(m map[string]any, key string) string {
	switch x := m[key].(type) {
	case string:
		return x
	case json.Number:
		return x.String()
	case bool:
		return strconv.FormatBool(x)
	}
	return ""
}

// obj reads a nested object member; nil when absent or not an object.
func obj(m map[string]any, key string) map[string]any {
	o, _ := m[key].(map[string]any)
	return o
}

// list reads an array member; nil when absent or not an array.
func list(m map[string]any, key string) []any {
	a, _ := m[key].([]any)
	return a
}

// boolean reads a JSON boolean or "true"/"false" string; false otherwise.
func boolean(m map[string]any, key string) bool {
	b, _ := strconv.ParseBool(str(m, key))
	return b
}

// number reads an integer member (JSON number or numeric string).
func number(m map[string]any, key string) (int, bool) {
	n, err := strconv.Atoi(strings.TrimSpace(str(m, key)))
	return n, err == nil
}

func firstNonEmpty(vs ...string) string {
	for _, v := range vs {
		if v != "" {
			return v
		}
	}
	return ""
}

// userFromUPN fills an identity from a UPN and object id: name and domain
// are the UPN's local part and suffix.
func userFromUPN(upn, id string) schema.User {
	u := schema.User{UPN: upn, ID: id}
	if i := strings.LastIndexByte(upn, '@'); i > 0 && i < len(upn)-1 {
		u.Name, u.Domain = upn[:i], strings.ToLower(upn[i+1:])
	} else {
		u.Name = upn
	}
	return u
}

// slug turns an activity name into an event.action: lower case words
// joined by '-' ("Add member to group" → "add-member-to-group").
func slug(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	dash := false
	for _, r := range strings.ToLower(s) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			if dash && b.Len() > 0 {
				b.WriteByte('-')
			}
			dash = false
			b.WriteRune(r)
		} else {
			dash = true
		}
	}
	return b.String()
}
