package main

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/castellan-itdr/castellan/samples"
)

// mainEnv makes the test binary run the CLI's main with the given args, so
// tests can signal a real process.
const mainEnv = "CASTELLAN_TEST_MAIN_ARGS"

func TestMain(m *testing.M) {
	if args := os.Getenv(mainEnv); args != "" {
		os.Args = append([]string{"castellan"}, strings.Split(args, "\x1f")...)
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// `castellan run` tails its input until SIGTERM, then drains the sinks and
// exits 0 with every alert delivered.
func TestRunDrainsOnSIGTERM(t *testing.T) {
	dir := t.TempDir()
	if _, err := samples.Generate(samples.Options{Seed: 1, OutDir: filepath.Join(dir, "input")}); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	metricsAddr := ln.Addr().String()
	ln.Close()
	cfg := filepath.Join(dir, "c.yaml")
	err = os.WriteFile(cfg, []byte(fmt.Sprintf(`state: { path: %[1]s/state.db }
metrics: { listen: "%[2]s" }
sources:
  winjson/dcs: { paths: ["%[1]s/input/*.jsonl"], poll_interval: 50ms }
detections: { domain_controllers: [DC01, DC02] }
sinks:
  file/out: { path: %[1]s/out.jsonl }
`, dir, metricsAddr)), 0o600)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), mainEnv+"=run\x1f-c\x1f"+cfg)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// Wait for the incident to reach the sink (the source keeps tailing).
	deadline := time.Now().Add(20 * time.Second)
	for {
		data, _ := os.ReadFile(filepath.Join(dir, "out.jsonl"))
		if bytes.Contains(data, []byte(`"T1070.001"`)) && bytes.Contains(data, []byte(`"kind":"incident"`)) {
			break
		}
		if time.Now().After(deadline) {
			_ = cmd.Process.Kill()
			t.Fatalf("no incident delivered in time; stderr:\n%s", stderr.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	// The daemon exposes per-sink metrics while it runs.
	resp, err := http.Get("http://" + metricsAddr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	metrics, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{`castellan_sink_sent{sink="file/out"}`, `castellan_sink_queue_length{sink="file/out"}`, `castellan_sink_queued{sink="file/out"}`, `castellan_source_events{source="winjson/dcs"}`} {
		if !bytes.Contains(metrics, []byte(want)) {
			t.Errorf("metrics lack %s:\n%s", want, metrics)
		}
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("exit after SIGTERM: %v\n%s", err, stderr.String())
		}
	case <-time.After(15 * time.Second):
		_ = cmd.Process.Kill()
		t.Fatalf("did not exit after SIGTERM\n%s", stderr.String())
	}
	if !strings.Contains(stderr.String(), "draining") {
		t.Errorf("no drain logged:\n%s", stderr.String())
	}
}
