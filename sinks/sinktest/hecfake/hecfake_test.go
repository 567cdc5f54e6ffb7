package hecfake

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/castellan-itdr/castellan/sinks/sinktest"
)

const chanID = "0aeeac95-ac74-4aa9-b30d-6c4c0ac581ba"

type answer struct {
	Status  int
	Text    string `json:"text"`
	Code    int    `json:"code"`
	Invalid *int   `json:"invalid-event-number"`
	AckID   *int   `json:"ackId"`
	Retry   string
}

func post(t *testing.T, url string, hdr map[string]string, body string) answer {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var a answer
	raw, _ := io.ReadAll(resp.Body)
	if err := json.Unmarshal(raw, &a); err != nil {
		t.Fatalf("body %q is not a HEC answer: %v", raw, err)
	}
	a.Status, a.Retry = resp.StatusCode, resp.Header.Get("Retry-After")
	return a
}

func auth(tok string) map[string]string { return map[string]string{"Authorization": "Splunk " + tok} }

func ev(id string) string {
	return `{"time":1735725600.123,"sourcetype":"castellan:alert","event":{"id":"` + id + `"},"fields":{"castellan_id":"` + id + `"}}`
}

func TestEventCodes(t *testing.T) {
	s := New(Options{Indexes: []string{"main", "security"}, DisabledTokens: []string{"dead"}, MaxContentLength: 2000})
	defer s.Close()
	url := s.URL() + "/services/collector/event"
	pt := func(i int) *int { return &i }
	cases := []struct {
		name    string
		hdr     map[string]string
		path    string
		body    string
		status  int
		code    int
		invalid *int
		stored  []string
	}{
		{"ok batch, newline separated", auth(Token), "", ev("a") + "\n" + ev("b"), 200, 0, nil, []string{"a", "b"}},
		{"ok batch, no separator, /1.0 path", auth(Token), "/services/collector/event/1.0", ev("c") + ev("d"), 200, 0, nil, []string{"c", "d"}},
		{"ok on /services/collector", auth(Token), "/services/collector", ev("e"), 200, 0, nil, []string{"e"}},
		{"no token", nil, "", ev("x"), 401, 2, nil, nil},
		{"wrong scheme", map[string]string{"Authorization": "Bearer " + Token}, "", ev("x"), 401, 3, nil, nil},
		{"bare token", map[string]string{"Authorization": Token}, "", ev("x"), 401, 3, nil, nil},
		{"unknown token", auth("nope"), "", ev("x"), 403, 4, nil, nil},
		{"disabled token", auth("dead"), "", ev("x"), 403, 1, nil, nil},
		{"query token", auth(Token), "/services/collector/event?token=" + Token, ev("x"), 400, 16, nil, nil},
		{"empty body", auth(Token), "", "  \n", 400, 5, nil, nil},
		{"JSON array", auth(Token), "", "[" + ev("x") + "]", 400, 6, pt(0), nil},
		{"missing event", auth(Token), "", `{"time":1}`, 400, 12, pt(0), nil},
		{"blank event", auth(Token), "", `{"event":""}`, 400, 13, pt(0), nil},
		{"null event", auth(Token), "", `{"event":null}`, 400, 13, pt(0), nil},
		{"bad time", auth(Token), "", `{"event":"x","time":"soon"}`, 400, 6, pt(0), nil},
		{"wrong index", auth(Token), "", `{"event":"x","index":"secret"}`, 400, 7, pt(0), nil},
		{"nested fields", auth(Token), "", `{"event":"x","fields":{"a":{"b":1}}}`, 400, 15, pt(0), nil},
		{"number field", auth(Token), "", `{"event":"x","fields":{"a":1}}`, 400, 15, pt(0), nil},
		// Partial ingestion: f is indexed, the broken second event and g after it are not.
		{"bad event in the middle", auth(Token), "", ev("f") + `{"event":` + ev("g"), 400, 6, pt(1), []string{"f"}},
		{"missing event third", auth(Token), "", ev("h") + ev("i") + `{"host":"x"}` + ev("j"), 400, 12, pt(2), []string{"h", "i"}},
		{"too large", auth(Token), "", strings.Repeat(ev("big")+"\n", 40), 413, 0, nil, nil},
		{"channel must be a GUID", map[string]string{"Authorization": "Splunk " + Token, "X-Splunk-Request-Channel": "abc"}, "", ev("x"), 400, 11, nil, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			before := len(s.Accepted())
			u := url
			if c.path != "" {
				u = s.URL() + c.path
			}
			a := post(t, u, c.hdr, c.body)
			if a.Status != c.status || a.Code != c.code {
				t.Fatalf("got HTTP %d code %d (%q); want %d code %d", a.Status, a.Code, a.Text, c.status, c.code)
			}
			if (a.Invalid == nil) != (c.invalid == nil) || (a.Invalid != nil && *a.Invalid != *c.invalid) {
				t.Errorf("invalid-event-number %v; want %v", a.Invalid, c.invalid)
			}
			if a.Status == 200 && a.Text != "Success" {
				t.Errorf("text %q", a.Text)
			}
			got := s.Accepted()[before:]
			if strings.Join(got, ",") != strings.Join(c.stored, ",") {
				t.Errorf("stored %v; want %v", got, c.stored)
			}
		})
	}
	evs := s.Events()
	if evs[0].Time != 1735725600.123 || evs[0].Sourcetype != "castellan:alert" || evs[0].Index != "main" {
		t.Errorf("metadata not recorded: %+v", evs[0])
	}
}

func TestGzipAndBasicAuth(t *testing.T) {
	s := New(Options{})
	defer s.Close()
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	zw.Write([]byte(ev("z1") + ev("z2")))
	zw.Close()
	req, _ := http.NewRequest(http.MethodPost, s.URL()+"/services/collector/event", &b)
	req.SetBasicAuth("anyone", Token)
	req.Header.Set("Content-Encoding", "gzip")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || strings.Join(s.Accepted(), ",") != "z1,z2" {
		t.Fatalf("HTTP %d, stored %v", resp.StatusCode, s.Accepted())
	}
}

func TestAcks(t *testing.T) {
	s := New(Options{UseACK: true, AckDelay: 200 * time.Millisecond})
	defer s.Close()
	url := s.URL() + "/services/collector/event"
	if a := post(t, url, auth(Token), ev("a")); a.Status != 400 || a.Code != 10 {
		t.Fatalf("no channel: HTTP %d code %d; want 400 code 10", a.Status, a.Code)
	}
	hdr := map[string]string{"Authorization": "Splunk " + Token, "X-Splunk-Request-Channel": chanID}
	for i, id := range []string{"a", "b"} {
		a := post(t, url, hdr, ev(id))
		if a.Status != 200 || a.AckID == nil || *a.AckID != i {
			t.Fatalf("request %d: HTTP %d ackId %v; want ackId %d", i, a.Status, a.AckID, i)
		}
	}
	// ?channel= works too and shares the channel's counter.
	if a := post(t, url+"?channel="+chanID, auth(Token), ev("c")); a.AckID == nil || *a.AckID != 2 {
		t.Fatalf("query channel: ackId %v; want 2", a.AckID)
	}
	s.LoseAcks(1)
	if a := post(t, url, hdr, ev("lost")); a.AckID == nil || *a.AckID != 3 {
		t.Fatalf("lost ack: ackId %v", a.AckID)
	}
	poll := func() map[string]bool {
		req, _ := http.NewRequest(http.MethodPost, s.URL()+"/services/collector/ack?channel="+chanID, strings.NewReader(`{"acks":[0,1,2,3,9]}`))
		req.Header.Set("Authorization", "Splunk "+Token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out struct{ Acks map[string]bool }
		if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || resp.StatusCode != 200 {
			t.Fatalf("ack: HTTP %d %v", resp.StatusCode, err)
		}
		return out.Acks
	}
	if got := poll(); got["0"] || got["1"] || len(got) != 5 {
		t.Fatalf("acks before the delay: %v; want all false", got)
	}
	time.Sleep(250 * time.Millisecond)
	if got := poll(); !got["0"] || !got["1"] || !got["2"] || got["3"] || got["9"] {
		t.Fatalf("acks after the delay: %v; want 0-2 true, lost 3 and unknown 9 false", got)
	}
	if got := poll(); got["0"] {
		t.Fatalf("an ack reported true must be forgotten: %v", got)
	}
	if got := strings.Join(s.Accepted(), ","); got != "a,b,c" {
		t.Fatalf("stored %s; the lost-ack request must not be indexed", got)
	}
	// The ack endpoint on a token without useACK.
	plain := New(Options{})
	defer plain.Close()
	if a := post(t, plain.URL()+"/services/collector/ack?channel="+chanID, auth(Token), `{"acks":[0]}`); a.Status != 400 || a.Code != 14 {
		t.Fatalf("ack disabled: HTTP %d code %d; want 400 code 14", a.Status, a.Code)
	}
}

func TestHealth(t *testing.T) {
	s := New(Options{})
	defer s.Close()
	get := func() answer {
		resp, err := http.Get(s.URL() + "/services/collector/health")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var a answer
		_ = json.NewDecoder(resp.Body).Decode(&a)
		a.Status = resp.StatusCode
		return a
	}
	if a := get(); a.Status != 200 || a.Code != 17 || a.Text != "HEC is healthy" {
		t.Fatalf("healthy: %+v", a)
	}
	s.SetHealth(18)
	if a := get(); a.Status != 503 || a.Code != 18 {
		t.Fatalf("unhealthy: %+v", a)
	}
}

func TestFaults(t *testing.T) {
	s := New(Options{})
	defer s.Close()
	url := s.URL() + "/services/collector/event"
	s.FailNext(1, 503, 2*time.Second)
	if a := post(t, url, auth(Token), ev("a")); a.Status != 503 || a.Code != 9 || a.Retry != "2" {
		t.Fatalf("busy: %+v", a)
	}
	s.FailNext(1, 429, time.Second)
	if a := post(t, url, auth(Token), ev("a")); a.Status != 429 || a.Code != 26 || a.Retry != "1" {
		t.Fatalf("throttled: %+v", a)
	}
	s.FailFor(100*time.Millisecond, 503, 0)
	if a := post(t, url, auth(Token), ev("a")); a.Status != 503 || a.Retry != "" {
		t.Fatalf("outage: %+v", a)
	}
	time.Sleep(120 * time.Millisecond)
	s.DropResponses(1)
	req, _ := http.NewRequest(http.MethodPost, url, strings.NewReader(ev("dropped")))
	req.Header.Set("Authorization", "Splunk "+Token)
	if resp, err := http.DefaultClient.Do(req); err == nil {
		resp.Body.Close()
		t.Fatal("a dropped response must fail the client")
	}
	if a := post(t, url, auth(Token), ev("b")); a.Status != 200 {
		t.Fatalf("after recovery: %+v", a)
	}
	if got := strings.Join(s.Accepted(), ","); got != "dropped,b" {
		t.Fatalf("stored %s; want the dropped request processed", got)
	}
	s.Reject("bad")
	if a := post(t, url, auth(Token), ev("ok")+ev("bad")+ev("after")); a.Status != 400 || a.Code != 6 || *a.Invalid != 1 {
		t.Fatalf("reject: %+v", a)
	}
	if got := strings.Join(s.Accepted(), ","); got != "dropped,b,ok" {
		t.Fatalf("stored %s", got)
	}
}

var _ sinktest.Double = (*Server)(nil)
