package ldap

import (
	"strconv"
	"strings"
	"time"

	"github.com/castellan-itdr/castellan/mappings/network"
	"github.com/castellan-itdr/castellan/mappings/network/ntlm"
	"github.com/castellan-itdr/castellan/mappings/schema"
)

// MaxMessage caps an LDAP message held for decoding. Larger requests are
// skipped and counted; large responses (search entries) are skipped
// without loss, only their count matters.
const MaxMessage = 256 << 10

// maxPending caps the operations awaiting a response per connection.
const maxPending = 64

// Dissector is the LDAP dissector.
type Dissector struct{}

// New returns the LDAP dissector.
func New() Dissector { return Dissector{} }

// Name returns "ldap".
func (Dissector) Name() string { return "ldap" }

// Ports claims TCP 389 and 3268 (clear) and 636, 3269 (TLS, counted only).
func (Dissector) Ports() []network.Port {
	return []network.Port{{Transport: network.TCP, Number: 389}, {Transport: network.TCP, Number: 3268},
		{Transport: network.TCP, Number: 636}, {Transport: network.TCP, Number: 3269}}
}

// NewHandler returns the state of one LDAP connection.
func (Dissector) NewHandler(c *network.Conv) network.Handler {
	h := &handler{conv: c, pending: map[int64]*op{}}
	switch c.Flow.Server.Port() {
	case 636, 3269:
		c.Encrypted()
		h.stopped = true
		return h
	}
	h.bufs = [2]*network.Buffer{c.NewBuffer(MaxMessage), c.NewBuffer(MaxMessage)}
	return h
}

// op is an operation awaiting its response.
type op struct {
	events  []schema.Event
	entries int
	bind    *Bind
	ntlm    *schema.Event
	starttl bool
}

type handler struct {
	conv    *network.Conv
	bufs    [2]*network.Buffer
	pending map[int64]*op
	order   []int64
	// user is the identity of the last successful bind.
	user    schema.User
	sasl    bool // a SASL bind succeeded: sealing may follow
	stopped bool
}

// frame frames BER messages; anything but a SEQUENCE is not LDAP (or is
// SASL-wrapped).
func frame(b []byte) (int, error) {
	if b[0] != 0x30 {
		return 0, network.ErrFraming
	}
	n, _, err := network.HeaderLen(b)
	return n, err
}

func (h *handler) Data(dir network.Direction, ts time.Time, b []byte) {
	if h.stopped || len(b) == 0 {
		return
	}
	if h.sasl && b[0] != 0x30 && !h.bufs[dir].Broken() {
		// SASL integrity/confidentiality layer after the bind.
		h.stop()
		return
	}
	h.bufs[dir].Feed(b, frame, func(m []byte) {
		if !h.stopped {
			h.message(dir, ts, m)
		}
	})
}

func (h *handler) stop() {
	h.stopped = true
	h.conv.Encrypted()
	for _, b := range h.bufs {
		if b != nil {
			b.Break()
		}
	}
}

func (h *handler) Gap(dir network.Direction) {
	if h.bufs[dir] != nil {
		h.bufs[dir].Gap()
	}
}

func (h *handler) Close(time.Time) {
	for _, id := range h.order {
		if p, ok := h.pending[id]; ok {
			h.finish(p, nil)
		}
	}
	h.pending, h.order = nil, nil
}

func (h *handler) add(id int64, p *op) {
	if len(h.pending) >= maxPending {
		// Flush the oldest to bound memory.
		for len(h.order) > 0 {
			old := h.order[0]
			h.order = h.order[1:]
			if q, ok := h.pending[old]; ok {
				delete(h.pending, old)
				h.finish(q, nil)
				break
			}
		}
	}
	if _, dup := h.pending[id]; !dup {
		h.order = append(h.order, id)
	}
	h.pending[id] = p
}

func (h *handler) message(dir network.Direction, ts time.Time, b []byte) {
	m, err := ParseMessage(b)
	if err != nil {
		h.conv.Malformed()
		return
	}
	h.conv.Decoded()
	if dir == network.ToServer {
		h.request(ts, &m)
		return
	}
	p := h.pending[m.ID]
	switch m.Op {
	case OpSearchEntry:
		if p != nil {
			p.entries++
		}
		return
	case OpSearchReference:
		return
	case OpBindResponse, OpSearchDone, OpModifyResponse, OpAddResponse, OpDelResponse, OpModDNResponse, OpExtendedResp:
	default:
		return
	}
	r, err := ParseResult(m.Body)
	if err != nil {
		h.conv.Malformed()
		return
	}
	if m.Op == OpBindResponse && len(r.SASLCreds) > 0 {
		if i := ntlm.Find(r.SASLCreds); i >= 0 {
			if nm, err := ntlm.Parse(r.SASLCreds[i:]); err == nil && nm.Type == ntlm.TypeChallenge {
				ntlm.Learn(h.conv, &nm)
			}
		}
	}
	if p == nil {
		return
	}
	if m.Op == OpBindResponse && r.Code == 14 { // saslBindInProgress
		return
	}
	delete(h.pending, m.ID)
	h.finish(p, &r)
	if r.Code == 0 {
		switch {
		case p.starttl:
			h.stop()
		case p.bind != nil:
			h.sasl = !p.bind.Simple
		}
	}
}

func (h *handler) request(ts time.Time, m *Message) {
	idx := h.conv.NextIndex()
	var p *op
	var err error
	switch m.Op {
	case OpBindRequest:
		p, err = h.bindRequest(ts, idx, m)
	case OpSearchRequest:
		var s Search
		if s, err = ParseSearch(m.Body); err == nil {
			ev := h.event(ts, idx, schema.KindLDAPSearch, "ldap-search", m)
			ev.Directory.Object.DN = s.Base
			ev.Directory.Operation = "access"
			o := ev.Original
			o["BaseDN"] = s.Base
			o["Scope"] = ScopeName(s.Scope)
			o["Filter"] = s.Filter
			o["Attributes"] = strings.Join(s.Attributes, ",")
			o["SizeLimit"] = strconv.FormatInt(s.SizeLimit, 10)
			o["TimeLimit"] = strconv.FormatInt(s.TimeLimit, 10)
			if s.TypesOnly {
				o["TypesOnly"] = "true"
			}
			p = &op{events: []schema.Event{ev}}
		}
	case OpModifyRequest, OpAddRequest:
		var obj Object
		operation := "modify"
		if m.Op == OpAddRequest {
			obj, err = ParseAdd(m.Body)
			operation = "add"
		} else {
			obj, err = ParseModify(m.Body)
		}
		if err == nil {
			p = &op{events: h.changes(ts, idx, m, operation, obj)}
		}
	case OpDelRequest:
		ev := h.event(ts, idx, schema.KindDirectoryChange, "ldap-delete", m)
		ev.Directory.Object.DN = network.Text(m.Body)
		ev.Directory.Operation = "delete"
		p = &op{events: []schema.Event{ev}}
	case OpModDNRequest:
		var el []network.TLV
		if el, err = seq(new([4]network.TLV)[:0], m.Body); err == nil && len(el) >= 3 {
			ev := h.event(ts, idx, schema.KindDirectoryChange, "ldap-modify-dn", m)
			ev.Directory.Object.DN = network.Text(el[0].Body)
			ev.Directory.Operation = "move"
			ev.Directory.NewValue = network.Text(el[1].Body)
			ev.Original["NewRDN"] = ev.Directory.NewValue
			if len(el) == 4 {
				ev.Original["NewSuperior"] = network.Text(el[3].Body)
			}
			p = &op{events: []schema.Event{ev}}
		} else {
			err = ErrMalformed
		}
	case OpExtendedRequest:
		if t, _, e := network.ParseTLV(m.Body); e == nil && t.Is(network.ClassContext, 0) && network.Text(t.Body) == StartTLSOID {
			p = &op{starttl: true}
		}
	case OpUnbindRequest:
	}
	if err != nil {
		h.conv.Malformed()
		return
	}
	if p != nil {
		h.add(m.ID, p)
	}
}

// event returns an event with the connection's bound identity.
func (h *handler) event(ts time.Time, idx int, kind schema.EventKind, action string, m *Message) schema.Event {
	ev := h.conv.NewEvent(ts, idx, kind)
	ev.Event.Action = action
	ev.Event.Code = "ldap"
	ev.Auth.Protocol = "ldap"
	ev.User = h.user
	// Presized for the keys the operation and its result add (a search
	// has about ten, others at most eight): no growth.
	hint := 8
	if kind == schema.KindLDAPSearch {
		hint = 16
	}
	ev.Original = make(map[string]string, hint)
	ev.Original["MessageID"] = strconv.FormatInt(m.ID, 10)
	if len(m.Controls) > 0 {
		ev.Original["Controls"] = strings.Join(m.Controls, ",")
	}
	return ev
}

func (h *handler) changes(ts time.Time, idx int, m *Message, operation string, obj Object) []schema.Event {
	var attrs []string
	for _, c := range obj.Changes {
		attrs = append(attrs, c.Attr)
	}
	if operation == "add" {
		ev := h.event(ts, idx, schema.KindDirectoryChange, "ldap-add", m)
		ev.Directory.Object.DN = obj.DN
		ev.Directory.Operation = "add"
		ev.Original["Attributes"] = strings.Join(attrs, ",")
		for _, c := range obj.Changes {
			if strings.EqualFold(c.Attr, "objectClass") && len(c.Values) > 0 {
				ev.Directory.Object.Class = c.Values[len(c.Values)-1]
			}
			if Secret(c.Attr) {
				ev.Original["Redacted"] = appendList(ev.Original["Redacted"], c.Attr)
			}
		}
		return []schema.Event{ev}
	}
	var out []schema.Event
	for i, c := range obj.Changes {
		if i >= 32 {
			break
		}
		ev := h.event(ts, idx, schema.KindDirectoryChange, "ldap-modify", m)
		if i > 0 {
			ev.ID = network.EventID(h.conv.Flow, ts.UTC(), idx, schema.EventKind("directory_change/"+strconv.Itoa(i)))
		}
		ev.Directory.Object.DN = obj.DN
		ev.Directory.Operation = "modify"
		ev.Directory.Attribute = c.Attr
		ev.Original["ModifyOperation"] = c.Op
		ev.Original["Attributes"] = strings.Join(attrs, ",")
		ev.Original["ValueCount"] = strconv.Itoa(c.Count)
		if len(c.Values) > 0 {
			v := c.Values[0]
			if c.Op == "delete" {
				ev.Directory.OldValue = v
			} else {
				ev.Directory.NewValue = v
			}
		}
		if Secret(c.Attr) {
			ev.Original["Redacted"] = "true"
		}
		out = append(out, ev)
	}
	return out
}

func appendList(list, v string) string {
	if list == "" {
		return v
	}
	return list + "," + v
}

func (h *handler) bindRequest(ts time.Time, idx int, m *Message) (*op, error) {
	b, err := ParseBind(m.Body)
	if err != nil {
		return nil, err
	}
	ev := h.event(ts, idx, schema.KindLDAPBind, "ldap-bind", m)
	ev.User = schema.User{}
	o := ev.Original
	o["BindDN"] = b.Name
	o["Version"] = strconv.FormatInt(b.Version, 10)
	p := &op{bind: &b}
	if b.Simple {
		o["AuthMethod"] = "simple"
		ev.Auth.Package = "simple"
		o["PasswordLength"] = strconv.Itoa(b.PasswordLen)
		switch {
		case b.Name == "" && b.PasswordLen == 0:
			o["Anonymous"] = "true"
		case b.PasswordLen == 0:
			o["Unauthenticated"] = "true"
		default:
			o["cleartext"] = "true"
		}
		ev.User = bindUser(b.Name)
	} else {
		o["AuthMethod"] = "sasl"
		o["SaslMechanism"] = b.Mechanism
		ev.Auth.Package = b.Mechanism
		if i := ntlm.Find(b.Credentials); i >= 0 {
			nm, err := ntlm.Parse(b.Credentials[i:])
			switch {
			case err != nil:
				h.conv.Malformed()
			case nm.Type == ntlm.TypeAuthenticate:
				ev.User = schema.User{Name: nm.User, Domain: nm.Domain, IsMachine: strings.HasSuffix(nm.User, "$")}
				ev.Auth.NTLM = schema.NTLM{Version: nm.Version(), Workstation: nm.Workstation}
				ev.Source.Hostname = nm.Workstation
				o["SaslPackage"] = "NTLM"
				ne := ntlm.Event(h.conv, ts, idx, &nm, "ldap")
				p.ntlm = &ne
			default:
				// NEGOTIATE: the bind continues; the final step is reported.
			}
		} else if len(b.Credentials) > 0 {
			o["SaslPackage"] = "Kerberos"
		}
	}
	p.events = []schema.Event{ev}
	return p, nil
}

// bindUser splits a bind name into user and domain: DOMAIN\user and
// user@domain; a DN is kept whole in the name.
func bindUser(name string) schema.User {
	if d, u, ok := strings.Cut(name, `\`); ok {
		return schema.User{Name: u, Domain: d, IsMachine: strings.HasSuffix(u, "$")}
	}
	if u, d, ok := strings.Cut(name, "@"); ok && !strings.Contains(name, "=") {
		return schema.User{Name: u, Domain: d, UPN: name, IsMachine: strings.HasSuffix(u, "$")}
	}
	return schema.User{Name: name}
}

var resultNames = map[int64]string{
	0: "success", 1: "operationsError", 2: "protocolError", 3: "timeLimitExceeded", 4: "sizeLimitExceeded",
	7: "authMethodNotSupported", 8: "strongerAuthRequired", 10: "referral", 11: "adminLimitExceeded",
	13: "confidentialityRequired", 14: "saslBindInProgress", 16: "noSuchAttribute", 19: "constraintViolation",
	20: "attributeOrValueExists", 21: "invalidAttributeSyntax", 32: "noSuchObject", 34: "invalidDNSyntax",
	48: "inappropriateAuthentication", 49: "invalidCredentials", 50: "insufficientAccessRights",
	51: "busy", 52: "unavailable", 53: "unwillingToPerform", 64: "namingViolation",
	65: "objectClassViolation", 68: "entryAlreadyExists",
}

// finish emits an operation's events with its result (nil: none seen).
func (h *handler) finish(p *op, r *Result) {
	all := p.events
	if p.ntlm != nil {
		all = append(all, *p.ntlm)
	}
	for i := range all {
		ev := &all[i]
		if ev.Event.Kind == schema.KindLDAPSearch {
			ev.Original["Entries"] = strconv.Itoa(p.entries)
		}
		if r == nil {
			ev.Event.Outcome = schema.OutcomeUnknown
			h.conv.Emit(*ev)
			continue
		}
		ev.Original["ResultCode"] = strconv.FormatInt(r.Code, 10)
		if n, ok := resultNames[r.Code]; ok {
			ev.Original["ResultName"] = n
		}
		if r.Diagnostic != "" {
			ev.Original["DiagnosticMessage"] = r.Diagnostic
		}
		// A search that hit its size limit still returned data.
		if r.Code == 0 || (ev.Event.Kind == schema.KindLDAPSearch && r.Code == 4) {
			ev.Event.Outcome = schema.OutcomeSuccess
		} else {
			ev.Event.Outcome = schema.OutcomeFailure
			ev.Auth.FailureCode = "0x" + strconv.FormatInt(r.Code, 16)
			ev.Event.Reason = resultNames[r.Code]
		}
		h.conv.Emit(*ev)
	}
	if p.bind != nil && r != nil && r.Code == 0 && len(p.events) > 0 {
		h.user = p.events[0].User
	}
}
