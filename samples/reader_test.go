package samples

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// record is one generated event as the in-test reader sees it, whatever its file format.
// The reader is deliberately independent of the project's parsers.
type record struct {
	File   string
	Host   string
	Time   time.Time
	ID     int
	Record int64
	Data   map[string]string
}

func (r record) get(k string) string { return r.Data[k] }

// ip returns the IpAddress field without the IPv4-mapped IPv6 prefix.
func (r record) ip() string { return strings.TrimPrefix(r.Data["IpAddress"], "::ffff:") }

var nxlogHeader = []string{"EventTime", "@timestamp", "Hostname", "EventID", "Channel", "SourceName",
	"RecordNumber", "EventType", "Keywords", "Severity", "SeverityValue", "Category", "Opcode",
	"EventReceivedTime", "SourceModuleName", "SourceModuleType"}

type winlogbeatDoc struct {
	Timestamp string `json:"@timestamp"`
	Event     *struct {
		Code     string `json:"code"`
		Provider string `json:"provider"`
	} `json:"event"`
	Host *struct {
		Name string `json:"name"`
	} `json:"host"`
	Winlog *struct {
		Channel      string            `json:"channel"`
		ComputerName string            `json:"computer_name"`
		EventID      *int              `json:"event_id"`
		RecordID     *int64            `json:"record_id"`
		ProviderName string            `json:"provider_name"`
		EventData    map[string]string `json:"event_data"`
		UserData     map[string]string `json:"user_data"`
	} `json:"winlog"`
}

// readOutput reads every file listed in the manifest, checking each line's shape.
func readOutput(t *testing.T, dir string, m Manifest) []record {
	t.Helper()
	var all []record
	for _, f := range m.Files {
		data, err := os.ReadFile(filepath.Join(dir, f.Path))
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(bytes.NewReader(data))
		sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
		n := 0
		for sc.Scan() {
			n++
			line := sc.Bytes()
			var r record
			switch f.Format {
			case FormatWinlogbeat:
				r = parseWinlogbeat(t, f.Path, n, line)
			case FormatNXLog:
				r = parseNXLog(t, f.Path, n, line)
			default:
				t.Fatalf("%s: unknown format %q", f.Path, f.Format)
			}
			if r.Host != f.Host {
				t.Fatalf("%s:%d: host %q, manifest says %q", f.Path, n, r.Host, f.Host)
			}
			r.File = f.Path
			all = append(all, r)
		}
		if n != f.Events {
			t.Fatalf("%s: %d lines, manifest says %d events", f.Path, n, f.Events)
		}
	}
	return all
}

func parseTimestamp(t *testing.T, where, s string) time.Time {
	t.Helper()
	if !strings.HasSuffix(s, "Z") {
		t.Fatalf("%s: timestamp %q is not UTC", where, s)
	}
	ts, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		t.Fatalf("%s: %v", where, err)
	}
	return ts
}

func parseWinlogbeat(t *testing.T, file string, line int, b []byte) record {
	t.Helper()
	where := file + ":" + itoa(line)
	var doc winlogbeatDoc
	dec := json.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(&doc); err != nil {
		t.Fatalf("%s: %v", where, err)
	}
	if doc.Event == nil || doc.Host == nil || doc.Winlog == nil || doc.Winlog.EventID == nil || doc.Winlog.RecordID == nil {
		t.Fatalf("%s: missing Winlogbeat keys: %s", where, b)
	}
	w := doc.Winlog
	if doc.Event.Code != itoa(*w.EventID) || w.ComputerName != doc.Host.Name || w.Channel == "" || w.ProviderName == "" {
		t.Fatalf("%s: inconsistent Winlogbeat document: %s", where, b)
	}
	data := w.EventData
	if w.UserData != nil {
		data = w.UserData
	}
	return record{Host: doc.Host.Name, Time: parseTimestamp(t, where, doc.Timestamp), ID: *w.EventID,
		Record: *w.RecordID, Data: data}
}

func parseNXLog(t *testing.T, file string, line int, b []byte) record {
	t.Helper()
	where := file + ":" + itoa(line)
	var doc map[string]any
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if err := dec.Decode(&doc); err != nil {
		t.Fatalf("%s: %v", where, err)
	}
	for _, k := range []string{"EventTime", "@timestamp", "Hostname", "EventID", "Channel", "SourceName", "RecordNumber", "EventType", "Keywords", "Severity"} {
		if _, ok := doc[k]; !ok {
			t.Fatalf("%s: missing NXLog key %s: %s", where, k, b)
		}
	}
	id, err1 := doc["EventID"].(json.Number).Int64()
	rec, err2 := doc["RecordNumber"].(json.Number).Int64()
	if err1 != nil || err2 != nil {
		t.Fatalf("%s: EventID/RecordNumber not integers: %s", where, b)
	}
	ts := parseTimestamp(t, where, doc["@timestamp"].(string))
	if got := doc["EventTime"]; got != ts.Format(time.DateTime) {
		t.Fatalf("%s: EventTime %v does not match @timestamp %v", where, got, ts)
	}
	data := make(map[string]string)
	for k, v := range doc {
		if slices.Contains(nxlogHeader, k) {
			continue
		}
		s, ok := v.(string)
		if !ok {
			t.Fatalf("%s: EventData field %s is not a string: %s", where, k, b)
		}
		data[k] = s
	}
	return record{Host: doc["Hostname"].(string), Time: ts, ID: int(id), Record: rec, Data: data}
}

func itoa(n int) string { return strconv.Itoa(n) }

// point is one observation for a sliding-window distinct count.
type point struct {
	time  time.Time
	group string
	value string
}

// maxDistinct returns, per group, the largest number of distinct values seen within any
// window starting at one of the group's observations.
func maxDistinct(pts []point, window time.Duration) map[string]int {
	byGroup := make(map[string][]point)
	for _, p := range pts {
		byGroup[p.group] = append(byGroup[p.group], p)
	}
	out := make(map[string]int)
	for g, ps := range byGroup {
		slices.SortFunc(ps, func(a, b point) int { return a.time.Compare(b.time) })
		for i := range ps {
			seen := make(map[string]bool)
			for j := i; j < len(ps) && ps[j].time.Sub(ps[i].time) <= window; j++ {
				seen[ps[j].value] = true
			}
			out[g] = max(out[g], len(seen))
		}
	}
	return out
}

// maxCount returns, per group, the largest number of observations within any window.
func maxCount(pts []point, window time.Duration) map[string]int {
	for i := range pts {
		pts[i].value = itoa(i) // every observation distinct
	}
	return maxDistinct(pts, window)
}
