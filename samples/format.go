package samples

import (
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/castellan-itdr/castellan/samples/scenario"
)

// Keywords of classic Windows events as NXLog prints them (signed 64-bit).
const (
	keywordsAuditSuccess int64 = -9214364837600034816 // 0x8020000000000000
	keywordsAuditFailure int64 = -9218868437227405312 // 0x8010000000000000
	keywordsClassic      int64 = -9187343239835811840 // 0x8080000000000000
)

// categories are the task names Windows shows for each event id.
var categories = map[int]string{
	4624: "Logon", 4625: "Logon",
	4768: "Kerberos Authentication Service", 4771: "Kerberos Authentication Service",
	4769: "Kerberos Service Ticket Operations", 4776: "Credential Validation",
	4662: "Directory Service Access",
	4720: "User Account Management", 4722: "User Account Management",
	4724: "User Account Management", 4738: "User Account Management",
	4728: "Security Group Management", 4732: "Security Group Management",
	4756: "Security Group Management",
	1102: "Log clear", 7036: "None", 7045: "None",
}

const isoMillis = "2006-01-02T15:04:05.000Z"

// appendWinlogbeat writes one Winlogbeat (ECS) document.
func appendWinlogbeat(buf []byte, computer string, rec int64, e *scenario.Event) []byte {
	var w obj
	w.buf = buf
	w.open()
	w.str("@timestamp", e.Time.UTC().Format(isoMillis))
	w.key("event")
	w.open()
	w.str("code", strconv.Itoa(e.ID))
	w.str("kind", "event")
	w.str("provider", e.Provider)
	if e.Channel == scenario.ChannelSecurity {
		w.str("module", "security")
		w.str("outcome", outcome(e))
	}
	w.close()
	w.key("host")
	w.open()
	w.str("name", computer)
	w.close()
	w.key("log")
	w.open()
	w.str("level", "information")
	w.close()
	w.key("winlog")
	w.open()
	w.str("channel", e.Channel)
	w.str("computer_name", computer)
	w.num("event_id", int64(e.ID))
	w.num("record_id", rec)
	w.str("provider_name", e.Provider)
	if e.Channel == scenario.ChannelSecurity {
		w.key("keywords")
		w.buf = append(w.buf, '[')
		w.buf = appendString(w.buf, keywordText(e))
		w.buf = append(w.buf, ']')
		w.comma = true
	}
	if e.UserData != "" {
		w.key("user_data")
		w.open()
		for _, fd := range e.Data {
			w.str(fd.Name, fd.Value)
		}
		w.str("xml_name", e.UserData)
		w.close()
	} else {
		w.key("event_data")
		w.open()
		for _, fd := range e.Data {
			w.str(fd.Name, fd.Value)
		}
		w.close()
	}
	w.close()
	w.close()
	return w.buf
}

// appendNXLog writes one flat NXLog im_msvistalog document: header fields first, then the
// EventData (or UserData) fields at top level.
func appendNXLog(buf []byte, computer string, rec int64, e *scenario.Event) []byte {
	var w obj
	w.buf = buf
	t := e.Time.UTC()
	eventType, keywords := "INFO", keywordsClassic
	if e.Channel == scenario.ChannelSecurity {
		eventType, keywords = "AUDIT_SUCCESS", keywordsAuditSuccess
		if e.Failure {
			eventType, keywords = "AUDIT_FAILURE", keywordsAuditFailure
		}
	}
	w.open()
	w.str("EventTime", t.Format(time.DateTime))
	w.str("@timestamp", t.Format(isoMillis))
	w.str("Hostname", computer)
	w.num("EventID", int64(e.ID))
	w.str("Channel", e.Channel)
	w.str("SourceName", e.Provider)
	w.num("RecordNumber", rec)
	w.str("EventType", eventType)
	w.num("Keywords", keywords)
	w.str("Severity", "INFO")
	w.num("SeverityValue", 2)
	w.str("Category", categories[e.ID])
	w.str("Opcode", "Info")
	for _, fd := range e.Data {
		w.str(fd.Name, fd.Value)
	}
	w.str("EventReceivedTime", t.Add(time.Second).Truncate(time.Second).Format(time.DateTime))
	w.str("SourceModuleName", "eventlog")
	w.str("SourceModuleType", "im_msvistalog")
	w.close()
	return w.buf
}

func outcome(e *scenario.Event) string {
	if e.Failure {
		return "failure"
	}
	return "success"
}

func keywordText(e *scenario.Event) string {
	if e.Failure {
		return "Audit Failure"
	}
	return "Audit Success"
}

// obj is a minimal ordered JSON object writer: Windows field order is kept as is, which
// encoding/json cannot do for maps.
type obj struct {
	buf   []byte
	comma bool
}

func (w *obj) open() { w.buf = append(w.buf, '{'); w.comma = false }

func (w *obj) close() { w.buf = append(w.buf, '}'); w.comma = true }

func (w *obj) key(k string) {
	if w.comma {
		w.buf = append(w.buf, ',')
	}
	w.buf = appendString(w.buf, k)
	w.buf = append(w.buf, ':')
	w.comma = false
}

func (w *obj) str(k, v string) {
	w.key(k)
	w.buf = appendString(w.buf, v)
	w.comma = true
}

func (w *obj) num(k string, v int64) {
	w.key(k)
	w.buf = strconv.AppendInt(w.buf, v, 10)
	w.comma = true
}

// appendString appends s as a JSON string, escaping only what JSON requires.
func appendString(buf []byte, s string) []byte {
	const hex = "0123456789abcdef"
	buf = append(buf, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c >= utf8.RuneSelf {
			r, size := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && size == 1 {
				buf = append(buf, `\ufffd`...)
			} else {
				buf = append(buf, s[i:i+size]...)
			}
			i += size
			continue
		}
		switch c {
		case '"', '\\':
			buf = append(buf, '\\', c)
		case '\n':
			buf = append(buf, '\\', 'n')
		case '\r':
			buf = append(buf, '\\', 'r')
		case '\t':
			buf = append(buf, '\\', 't')
		default:
			if c < 0x20 {
				buf = append(buf, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			} else {
				buf = append(buf, c)
			}
		}
		i++
	}
	return append(buf, '"')
}
