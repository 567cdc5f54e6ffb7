package telemetry

import (
	"fmt"
	"io"
	"net/http"
	"strings"
)

// WritePrometheus writes every counter in the Prometheus text exposition
// format, prefixed "castellan_": `castellan_sink_sent{sink="splunk"} 42`.
// Counter names carry their labels already (see Key); a name ending in a
// gauge-like suffix is still exposed as untyped.
func (c *Counters) WritePrometheus(w io.Writer) error {
	typed := map[string]bool{}
	for _, s := range c.Snapshot() {
		base := s.Name
		if i := strings.IndexByte(base, '{'); i >= 0 {
			base = base[:i]
		}
		if !typed[base] {
			typed[base] = true
			if _, err := fmt.Fprintf(w, "# TYPE castellan_%s counter\n", base); err != nil {
				return err
			}
		}
		if _, err := fmt.Fprintf(w, "castellan_%s %d\n", s.Name, s.Value); err != nil {
			return err
		}
	}
	return nil
}

// Handler serves the counters (GET /metrics) and extra gauges computed at
// scrape time (queue lengths), plus GET /healthz.
func Handler(c *Counters, gauges func() []Sample) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /metrics", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; version=0.0.4")
		_ = c.WritePrometheus(w)
		if gauges != nil {
			typed := map[string]bool{}
			for _, g := range gauges() {
				base := g.Name
				if i := strings.IndexByte(base, '{'); i >= 0 {
					base = base[:i]
				}
				if !typed[base] {
					typed[base] = true
					fmt.Fprintf(w, "# TYPE castellan_%s gauge\n", base)
				}
				fmt.Fprintf(w, "castellan_%s %d\n", g.Name, g.Value)
			}
		}
	})
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		_, _ = io.WriteString(w, "ok\n")
	})
	return mux
}
