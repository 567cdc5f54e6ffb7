package component

import (
	"context"
	"errors"
	"fmt"
	"sync"
)

// Lifecycle is the Start/Shutdown bookkeeping of a component that works in
// one background goroutine: it starts once and never after Shutdown;
// Shutdown is safe without Start and safe twice, signals Stop, waits for the
// goroutine, and when its ctx ends first cancels Context (aborting an
// in-flight hand-off) and returns the ctx error. Done closes on Finish or
// after Shutdown. The zero value is not usable; call NewLifecycle.
type Lifecycle struct {
	name     string
	mu       sync.Mutex
	started  bool
	stopOnce sync.Once
	stop     chan struct{}
	ctx      context.Context
	cancel   context.CancelFunc
	wg       sync.WaitGroup
	done     chan struct{}
	doneOnce sync.Once
}

// NewLifecycle returns a lifecycle whose errors start with name.
func NewLifecycle(name string) *Lifecycle {
	return &Lifecycle{name: name, stop: make(chan struct{}), done: make(chan struct{})}
}

// Start runs check (when not nil) once the lifecycle is known to be
// startable, then run in a goroutine. It fails when already started, after
// Shutdown, or with check's error.
func (l *Lifecycle) Start(check func() error, run func()) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.started {
		return errors.New(l.name + ": already started")
	}
	if l.Stopping() {
		return errors.New(l.name + ": start after shutdown")
	}
	if check != nil {
		if err := check(); err != nil {
			return err
		}
	}
	l.started = true
	l.ctx, l.cancel = context.WithCancel(context.Background())
	l.wg.Add(1)
	go func() {
		defer l.wg.Done()
		run()
	}()
	return nil
}

// Context is cancelled when Shutdown gives up waiting (or ends). Only the
// goroutine Start runs, and what it starts, may call it.
func (l *Lifecycle) Context() context.Context { return l.ctx }

// Cancel cancels Context at once; for the goroutine to abort its own work.
func (l *Lifecycle) Cancel() { l.cancel() }

// Stop is closed by Shutdown.
func (l *Lifecycle) Stop() <-chan struct{} { return l.stop }

// Stopping reports whether Shutdown has been called.
func (l *Lifecycle) Stopping() bool {
	select {
	case <-l.stop:
		return true
	default:
		return false
	}
}

// Done is closed by Finish or after Shutdown.
func (l *Lifecycle) Done() <-chan struct{} { return l.done }

// Finish closes Done; safe to call more than once.
func (l *Lifecycle) Finish() { l.doneOnce.Do(func() { close(l.done) }) }

// Shutdown closes Stop and waits for the goroutine, cancelling Context and
// returning ctx's error if ctx ends first (the goroutine then exits on its
// own). Safe without Start and safe twice.
func (l *Lifecycle) Shutdown(ctx context.Context) error {
	l.mu.Lock()
	started := l.started
	l.stopOnce.Do(func() { close(l.stop) })
	l.mu.Unlock()
	if !started {
		l.Finish()
		return nil
	}
	waited := make(chan struct{})
	go func() { l.wg.Wait(); close(waited) }()
	var err error
	select {
	case <-waited:
	case <-ctx.Done():
		err = fmt.Errorf("%s: shutdown: %w", l.name, ctx.Err())
	}
	l.cancel()
	l.Finish()
	return err
}
