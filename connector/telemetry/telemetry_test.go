package telemetry

import (
	"io"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestCountersAndExposition(t *testing.T) {
	c := New()
	c.Add(Key("sink_sent", "sink", "splunk"), 3)
	c.Add(Key("sink_sent", "sink", "splunk"), 2)
	c.Add(Key("sink_sent", "sink", "elastic"), 1)
	c.Add("pipeline_records_emitted", 7)
	if got := c.Value(`sink_sent{sink="splunk"}`); got != 5 {
		t.Fatalf("value %d", got)
	}
	var nilC *Counters
	nilC.Add("x", 1) // nil-safe
	srv := httptest.NewServer(Handler(c, func() []Sample {
		return []Sample{{Name: Key("sink_queue_length", "sink", "splunk"), Value: 9}}
	}))
	defer srv.Close()
	resp, err := srv.Client().Get(srv.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	text := string(body)
	for _, want := range []string{
		"# TYPE castellan_sink_sent counter\n",
		`castellan_sink_sent{sink="splunk"} 5`,
		`castellan_sink_sent{sink="elastic"} 1`,
		"castellan_pipeline_records_emitted 7",
		"# TYPE castellan_sink_queue_length gauge\n",
		`castellan_sink_queue_length{sink="splunk"} 9`,
	} {
		if !strings.Contains(text, want) {
			t.Errorf("missing %q in:\n%s", want, text)
		}
	}
	if strings.Count(text, "# TYPE castellan_sink_sent") != 1 {
		t.Error("TYPE line repeated")
	}
}
