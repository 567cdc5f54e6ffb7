package component

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestLifecycleShutdownWithoutStart(t *testing.T) {
	l := NewLifecycle("x")
	for range 2 {
		if err := l.Shutdown(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	select {
	case <-l.Done():
	default:
		t.Error("Done open after shutdown")
	}
	if !l.Stopping() {
		t.Error("not stopping after shutdown")
	}
	err := l.Start(nil, func() { t.Error("ran after shutdown") })
	if err == nil || err.Error() != "x: start after shutdown" {
		t.Errorf("start after shutdown: %v", err)
	}
}

func TestLifecycleRunsUntilStop(t *testing.T) {
	l := NewLifecycle("x")
	ran := make(chan struct{})
	if err := l.Start(nil, func() { close(ran); <-l.Stop() }); err != nil {
		t.Fatal(err)
	}
	<-ran
	if l.Stopping() {
		t.Error("stopping before shutdown")
	}
	if err := l.Start(nil, func() {}); err == nil || err.Error() != "x: already started" {
		t.Errorf("second start: %v", err)
	}
	if err := l.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if l.Context().Err() == nil {
		t.Error("context not cancelled after shutdown")
	}
	if err := l.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func TestLifecycleShutdownHonoursCtx(t *testing.T) {
	l := NewLifecycle("x")
	aborted := make(chan struct{})
	if err := l.Start(nil, func() { <-l.Context().Done(); close(aborted) }); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	err := l.Shutdown(ctx)
	if !errors.Is(err, context.DeadlineExceeded) || !strings.HasPrefix(err.Error(), "x: shutdown: ") {
		t.Errorf("err = %v, want x: shutdown: deadline exceeded", err)
	}
	select {
	case <-aborted:
	case <-time.After(5 * time.Second):
		t.Fatal("the goroutine's context was not cancelled")
	}
}

func TestLifecycleCheckAndFinish(t *testing.T) {
	l := NewLifecycle("x")
	want := errors.New("no")
	if err := l.Start(func() error { return want }, func() { t.Error("ran despite check") }); err != want {
		t.Errorf("err = %v, want the check's", err)
	}
	if err := l.Start(func() error { return nil }, func() { l.Finish(); l.Finish() }); err != nil {
		t.Fatalf("start after a failed check: %v", err)
	}
	select {
	case <-l.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("Finish did not close Done")
	}
	if err := l.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
}
