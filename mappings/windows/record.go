package windows

import (
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/castellan-itdr/castellan/mappings/schema"
)

// Record is one Windows event in source-neutral form. EVTX and XML readers
// produce it too.
type Record struct {
	EventID  int
	Provider string
	Channel  string
	Computer string
	RecordID uint64    // 0 if unknown
	Time     time.Time // UTC
	// Data holds the EventData / UserData fields by name (TargetUserName,
	// IpAddress, ...).
	Data map[string]string
}

// Well-known provider and channel names.
const (
	ProviderSecurity = "Microsoft-Windows-Security-Auditing"
	ProviderEventlog = "Microsoft-Windows-Eventlog"
	ProviderSCM      = "Service Control Manager"
	ChannelSecurity  = "Security"
	ChannelSystem    = "System"
)

// mapper fills the family-specific parts of ev from r.
type mapper func(r *Record, ev *schema.Event)

// otherActions names a few frequent events without a family mapper; they
// stay KindOther from any channel.
var otherActions = map[int]string{
	4688: "process-created",
	4689: "process-exited",
	4699: "scheduled-task-deleted",
	4702: "scheduled-task-updated",
}

// Normalize maps r to an Event. dataset names the transport ("winjson",
// "evtx", ...). Unknown event ids map to schema.KindOther (still kept, with
// Original). Never panics.
func Normalize(r *Record, dataset string) schema.Event {
	if r == nil {
		return schema.Event{Event: schema.EventMeta{Kind: schema.KindOther, Dataset: dataset}}
	}
	orig := make(map[string]string, len(r.Data)+3)
	maps.Copy(orig, r.Data)
	return normalize(r, dataset, orig)
}

// NormalizeOwned is Normalize for a record whose Data map the caller gives
// up: it becomes the event's Original without a copy. Readers that build a
// fresh map per record (the EVTX reader) use it; r.Data must not be used
// afterwards.
func NormalizeOwned(r *Record, dataset string) schema.Event {
	if r == nil || r.Data == nil || r.RecordID == 0 {
		// Without a record number the id hashes the data, which must not
		// see the keys normalize adds: copy.
		return Normalize(r, dataset)
	}
	return normalize(r, dataset, r.Data)
}

// normalize builds the event; orig becomes Event.Original (owned by the event).
func normalize(r *Record, dataset string, orig map[string]string) schema.Event {
	channel := canonicalChannel(r.Channel)
	code := strconv.Itoa(r.EventID)
	orig["EventID"] = code
	if channel != "" {
		orig["Channel"] = channel
	}
	if r.Computer != "" {
		orig["Computer"] = r.Computer
	}
	ev := schema.Event{
		Timestamp: r.Time.UTC(),
		Event: schema.EventMeta{
			Kind:     schema.KindOther,
			Code:     code,
			Provider: r.Provider,
			Channel:  channel,
			Dataset:  dataset,
		},
		Host:     hostOf(r.Computer),
		Original: orig,
	}
	if r.RecordID > 0 {
		ev.Event.RecordID = strconv.FormatUint(r.RecordID, 10)
		ev.ID = schema.EventID("windows", r.Computer, channel, ev.Event.RecordID)
	} else {
		ev.ID = hashID(r, channel)
	}
	if m := mapperFor(r, channel); m != nil {
		m(r, &ev)
	} else {
		mapOther(r, &ev)
	}
	return ev
}

func isSecurity(r *Record, channel string) bool {
	switch {
	case channel == "" || channel == ChannelSecurity || strings.EqualFold(channel, "ForwardedEvents"):
		return true
	case strings.EqualFold(r.Provider, ProviderSecurity):
		return true
	}
	return false
}

func isSystem(r *Record, channel string) bool {
	if r.Provider != "" {
		return strings.EqualFold(r.Provider, ProviderSCM) || strings.EqualFold(r.Provider, ProviderEventlog)
	}
	return channel == ChannelSystem || channel == ""
}

func canonicalChannel(c string) string {
	switch {
	case strings.EqualFold(c, ChannelSecurity):
		return ChannelSecurity
	case strings.EqualFold(c, ChannelSystem):
		return ChannelSystem
	}
	return c
}

// hashID is the id of a record without a record id: event id, time,
// computer, channel and the sorted fields.
func hashID(r *Record, channel string) string {
	keys := slices.Sorted(maps.Keys(r.Data))
	parts := make([]string, 0, 4+2*len(keys))
	parts = append(parts, "windows", strconv.Itoa(r.EventID), r.Time.UTC().Format(time.RFC3339Nano),
		strings.ToLower(r.Computer), strings.ToLower(channel))
	for _, k := range keys {
		parts = append(parts, k, r.Data[k])
	}
	return schema.StableID(parts...)
}

// mapOther handles ids without a family mapping: the acting identity is the
// Subject, else the Target; a client address is kept when present.
func mapOther(r *Record, ev *schema.Event) {
	ev.Event.Kind = schema.KindOther
	ev.Event.Action = otherActions[r.EventID]
	if u := subject(r); u.Name != "" || u.ID != "" {
		ev.User = u
	} else {
		ev.User = targetUser(r)
	}
	setSource(r, ev)
}

// hostOf splits a computer name into host name and DNS domain.
func hostOf(computer string) schema.Host {
	h := schema.Host{Name: computer}
	if i := strings.IndexByte(computer, '.'); i > 0 && i < len(computer)-1 {
		h.Domain = computer[i+1:]
	}
	return h
}

// get returns a field with surrounding space trimmed; "-" reads as "".
func (r *Record) get(name string) string {
	v := strings.TrimSpace(r.Data[name])
	if v == "-" {
		return ""
	}
	return v
}

// user builds an identity from name, domain and SID fields.
func (r *Record) user(nameKey, domainKey, sidKey, logonKey string) schema.User {
	u := schema.User{Name: r.get(nameKey)}
	if domainKey != "" {
		u.Domain = r.get(domainKey)
	}
	if sidKey != "" {
		u.ID = r.get(sidKey)
		if u.ID == "S-1-0-0" && u.Name == "" {
			u.ID = "" // the NULL SID: no subject
		}
	}
	if logonKey != "" {
		u.LogonID = r.get(logonKey)
	}
	u.IsMachine = strings.HasSuffix(u.Name, "$")
	return u
}

func subject(r *Record) schema.User {
	return r.user("SubjectUserName", "SubjectDomainName", "SubjectUserSid", "SubjectLogonId")
}

func targetUser(r *Record) schema.User {
	u := r.user("TargetUserName", "TargetDomainName", "TargetUserSid", "TargetLogonId")
	if u.ID == "" {
		u.ID = r.get("TargetSid")
	}
	return u
}

// setSource fills source.ip / source.port from IpAddress / IpPort.
func setSource(r *Record, ev *schema.Event) {
	ev.Source.IP = cleanIP(r.get("IpAddress"))
	ev.Source.Port = port(r.get("IpPort"))
}

// cleanIP strips the IPv4-mapped IPv6 prefix.
func cleanIP(ip string) string {
	if rest, ok := strings.CutPrefix(ip, "::ffff:"); ok && strings.IndexByte(rest, '.') > 0 {
		return rest
	}
	return ip
}

func port(s string) int {
	n, err := strconv.Atoi(s)
	if err != nil || n <= 0 || n > 65535 {
		return 0
	}
	return n
}

// hexCode normalizes a status or code to lower-case hex with a 0x prefix:
// "0xC000006A" → "0xc000006a", "0x0" stays. Decimal input is converted.
// Anything unparsable is returned as given.
func hexCode(s string) string {
	if s == "" || canonicalHex(s) {
		return s
	}
	var n uint64
	var err error
	if h, ok := strings.CutPrefix(strings.ToLower(s), "0x"); ok {
		n, err = strconv.ParseUint(h, 16, 64)
	} else {
		n, err = strconv.ParseUint(s, 10, 64)
	}
	if err != nil {
		return s
	}
	return "0x" + strconv.FormatUint(n, 16)
}

// canonicalHex reports whether s is already "0x" followed by lower-case hex
// digits without leading zeros (the common case: no work, no allocation).
func canonicalHex(s string) bool {
	if len(s) < 3 || len(s) > 18 || s[0] != '0' || s[1] != 'x' || (s[2] == '0' && len(s) > 3) {
		return false
	}
	for i := 2; i < len(s); i++ {
		c := s[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// success reports whether a normalized status is zero (or absent).
func success(code string) bool { return code == "" || code == "0x0" }

// firstRDNValue returns the value of the first RDN of a DN:
// "CN=Doe\, John,OU=X,DC=corp" → "Doe, John". Not a DN → "".
func firstRDNValue(dn string) string {
	eq := strings.IndexByte(dn, '=')
	if eq <= 0 {
		return ""
	}
	var b strings.Builder
	s := dn[eq+1:]
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\\' && i+1 < len(s):
			i++
			b.WriteByte(s[i])
		case c == ',' || c == '+':
			return strings.TrimSpace(b.String())
		default:
			b.WriteByte(c)
		}
	}
	return strings.TrimSpace(b.String())
}
