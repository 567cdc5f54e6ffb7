package pipeline

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/castellan-itdr/castellan/connector/config"
	entrasrc "github.com/castellan-itdr/castellan/connector/sources/entra"
	"github.com/castellan-itdr/castellan/connector/sources/ldap"
	"github.com/castellan-itdr/castellan/connector/state"
	"github.com/castellan-itdr/castellan/connector/telemetry"
	"github.com/castellan-itdr/castellan/detections/posture"
	"github.com/castellan-itdr/castellan/detections/posture/cron"
	"github.com/castellan-itdr/castellan/mappings/directory"
	"github.com/castellan-itdr/castellan/sinks/delivery"
)

// CollectFunc reads a directory snapshot for the posture section.
type CollectFunc func(ctx context.Context, c config.Posture) (*directory.Snapshot, error)

// CollectDirectory is the default CollectFunc: the LDAP collector of
// posture.ldap, and the Entra snapshot of posture.entra when configured.
// An Entra failure does not fail the run: it becomes a snapshot warning
// and the Entra assessments are not applicable.
func CollectDirectory(ctx context.Context, c config.Posture) (*directory.Snapshot, error) {
	return collectDirectory(ctx, c, slog.Default())
}

func collectDirectory(ctx context.Context, c config.Posture, log *slog.Logger) (*directory.Snapshot, error) {
	lc, ok := c.LDAP.(*ldap.Config)
	if !ok || lc == nil {
		return nil, errors.New("posture: no posture.ldap configuration")
	}
	col, err := ldap.New(*lc, ldap.WithLogger(log))
	if err != nil {
		return nil, err
	}
	snap, err := col.Collect(ctx)
	if err != nil {
		return nil, err
	}
	if ec, ok := c.Entra.(*entrasrc.Config); ok && ec != nil {
		e, err := collectEntra(ctx, ec)
		if err != nil {
			if ctx.Err() != nil {
				return nil, err
			}
			log.Error("posture: Entra snapshot failed; Entra assessments are not applicable this run", "err", err)
			snap.Warnings = append(snap.Warnings, "entra: "+err.Error())
		}
		snap.Entra = e
	}
	return snap, nil
}

func collectEntra(ctx context.Context, c *entrasrc.Config) (*directory.Entra, error) {
	sn, err := entrasrc.NewSnapshotter(c)
	if err != nil {
		return nil, err
	}
	return sn.Snapshot(ctx)
}

// PostureResult is one posture run: the assessment run, the records
// queued per sink and where the report went.
type PostureResult struct {
	Run      posture.Run
	Snapshot *directory.Snapshot
	// Queued counts the finding records queued per sink id.
	Queued map[string]int
	// Report is the path of the HTML report written ("" if none).
	Report string
}

// postureScheduler runs the posture section on its cron schedule.
type postureScheduler struct {
	cancel context.CancelFunc
	done   chan struct{}
}

// startPosture starts the scheduler when posture.schedule is set. Each
// tick collects, assesses and queues the findings; a failed run is logged
// and counted (posture_runs_failed) and the next tick tries again.
func (p *Pipeline) startPosture(ctx context.Context) error {
	pc := p.cfg.Posture
	if !pc.Enabled() || pc.Schedule == "" {
		return nil
	}
	sched, err := cron.Parse(pc.Schedule)
	if err != nil {
		return fmt.Errorf("posture.schedule: %w", err)
	}
	rctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	ps := &postureScheduler{cancel: cancel, done: make(chan struct{})}
	p.posture = ps
	now := p.opts.Now
	if now == nil {
		now = time.Now
	}
	go func() {
		defer close(ps.done)
		for {
			next := sched.Next(now())
			if next.IsZero() {
				p.log.Error("posture schedule never fires again", "schedule", pc.Schedule)
				return
			}
			p.log.Info("next posture run", "at", next, "schedule", pc.Schedule)
			t := time.NewTimer(next.Sub(now()))
			select {
			case <-rctx.Done():
				t.Stop()
				return
			case <-t.C:
			}
			res, err := p.RunPosture(rctx)
			if err != nil {
				if rctx.Err() != nil {
					return
				}
				p.opts.Counters.Add("posture_runs_failed", 1)
				p.log.Error("posture run failed; retrying at the next scheduled time", "err", err)
				continue
			}
			p.log.Info("posture run done", "score", res.Run.Score.Total, "failed_assessments", failedCount(res.Run), "findings", len(res.Run.Failed()), "report", res.Report)
		}
	}()
	return nil
}

// stopPosture stops the scheduler and waits for a run in progress to end
// (its collection is cancelled). Safe when none was started.
func (p *Pipeline) stopPosture() {
	if p.posture == nil {
		return
	}
	p.posture.cancel()
	<-p.posture.done
}

// RunPosture collects a snapshot, assesses it, queues the findings to the
// posture sinks together with the score history point (one state-file
// transaction), and writes the report when posture.report is set. The
// pipeline must be started.
func (p *Pipeline) RunPosture(ctx context.Context) (PostureResult, error) {
	collect := p.opts.PostureCollect
	if collect == nil {
		collect = func(ctx context.Context, c config.Posture) (*directory.Snapshot, error) {
			return collectDirectory(ctx, c, p.log.With("collector", "ldap"))
		}
	}
	started := time.Now()
	snap, err := collect(ctx, p.cfg.Posture)
	if err != nil {
		return PostureResult{}, fmt.Errorf("posture: collect: %w", err)
	}
	run := posture.Check(snap, posture.Options{})
	res := PostureResult{Run: run, Snapshot: snap}
	if res.Queued, err = p.ExportPosture(ctx, run); err != nil {
		return res, err
	}
	if total := sumValues(res.Queued); total == 0 && len(run.Failed()) > 0 {
		// Not a silent drop: the sinks' selections exclude findings.
		p.opts.Counters.Add("posture_findings_unexported", int64(len(run.Failed())))
		p.log.Warn("no posture sink takes findings; add finding to a sink's kinds or list sinks in posture.sinks", "findings", len(run.Failed()))
	}
	p.opts.Counters.Add("posture_runs", 1)
	p.opts.Counters.Add("posture_findings", int64(len(run.Failed())))
	if path := p.cfg.Posture.Report; path != "" {
		if err := p.WritePostureReport(path, run, snap); err != nil {
			return res, err
		}
		res.Report = path
	}
	p.log.Debug("posture run", "elapsed", time.Since(started))
	return res, nil
}

// postureSinks are the sinks posture findings go to: posture.sinks, or
// every sink whose selection takes findings.
func (p *Pipeline) postureSinks() []*sinkRunner {
	var out []*sinkRunner
	for _, s := range p.sinks {
		if len(p.cfg.Posture.Sinks) > 0 && !slices.Contains(p.cfg.Posture.Sinks, s.id) {
			continue
		}
		out = append(out, s)
	}
	return out
}

// ExportPosture queues a run's records (failed findings, and one record
// per passed or errored assessment) to the posture sinks, each encoded by
// its sink's encoder, and appends the run's score to the history — all in
// one transaction, so a crash never leaves findings without their score or
// the reverse. It returns the records queued per sink.
func (p *Pipeline) ExportPosture(ctx context.Context, run posture.Run) (map[string]int, error) {
	if p.store == nil {
		return nil, errors.New("posture: pipeline not started")
	}
	recs := run.Records()
	targets := p.postureSinks()
	perSink := make([][]delivery.Item, len(targets))
	for _, r := range recs {
		var shared *delivery.Item
		for i, s := range targets {
			if !s.sel.Takes(r.RecordKind(), r.RecordSeverity()) {
				continue
			}
			if s.encode != nil {
				if it, err := s.encode(r); err == nil {
					perSink[i] = append(perSink[i], it)
					continue
				}
				p.opts.Counters.Add(telemetry.Key("sink_encode_fallbacks", "sink", s.id), 1)
			}
			if shared == nil {
				it, err := delivery.NewItem(r)
				if err != nil {
					return nil, fmt.Errorf("posture: encode %s: %w", r.RecordID(), err)
				}
				shared = &it
			}
			perSink[i] = append(perSink[i], *shared)
		}
	}
	if err := p.waitForRoom(ctx); err != nil { // a full queue waits, but not past shutdown
		return nil, err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	err := p.store.Update(func(tx *state.Tx) error {
		for i, s := range targets {
			if err := s.queue.EnqueueTx(tx.Tx, perSink[i]); err != nil {
				return err
			}
		}
		return posture.SaveHistory(tx.Tx, run.Point())
	})
	if err != nil {
		return nil, fmt.Errorf("posture: queue findings: %w", err)
	}
	queued := map[string]int{}
	for i, s := range targets {
		queued[s.id] = len(perSink[i])
		if len(perSink[i]) > 0 {
			p.opts.Counters.Add(telemetry.Key("sink_queued", "sink", s.id), int64(len(perSink[i])))
			s.queue.Notify()
		}
	}
	return queued, nil
}

// PostureHistory reads the score history from the state file, oldest
// first.
func (p *Pipeline) PostureHistory(limit int) ([]posture.HistoryPoint, error) {
	if p.store == nil {
		return nil, errors.New("posture: pipeline not started")
	}
	pts, _, err := posture.History(p.store.DB(), limit)
	return pts, err
}

// WritePostureReport writes the HTML report of a run (with the history
// trend) to path atomically (a temporary file renamed over it).
func (p *Pipeline) WritePostureReport(path string, run posture.Run, snap *directory.Snapshot) error {
	hist, err := p.PostureHistory(90)
	if err != nil {
		return err
	}
	var b bytes.Buffer
	o := posture.ReportOptions{History: hist}
	if snap != nil {
		o.Source, o.Warnings = snap.Source, snap.Warnings
	}
	if err := posture.WriteReport(&b, run, o); err != nil {
		return fmt.Errorf("posture: render report: %w", err)
	}
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o750); err != nil {
			return fmt.Errorf("posture: report: %w", err)
		}
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b.Bytes(), 0o640); err != nil {
		return fmt.Errorf("posture: write report: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("posture: write report: %w", err)
	}
	return nil
}

func failedCount(r posture.Run) int {
	n := 0
	for _, res := range r.Results {
		if res.Status == posture.StatusFailed {
			n++
		}
	}
	return n
}

// PostureOnlyConfig derives the config of a one-shot posture run from a
// daemon config: no sources, no metrics listener, no schedule, and only the
// posture sinks. It fails when no sink would take findings.
func PostureOnlyConfig(cfg *config.Config) (*config.Config, error) {
	c := *cfg
	c.Sources = map[string]config.Component{}
	c.Metrics.Listen = ""
	c.Posture.Schedule = ""
	sinks := map[string]config.Component{}
	for id, s := range cfg.Sinks {
		if len(cfg.Posture.Sinks) == 0 || slices.Contains(cfg.Posture.Sinks, id) {
			sinks[id] = s
		}
	}
	c.Sinks = sinks
	if len(sinks) == 0 {
		return nil, errors.New("posture: no sink to export findings to")
	}
	return &c, nil
}

func sumValues(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}
