package tail

import (
	"bufio"
	"errors"
	"net"
	"sync"
	"time"

	"github.com/castellan-itdr/castellan/connector/component"
	"github.com/castellan-itdr/castellan/mappings/schema"
)

// Listener limits.
const (
	maxConns      = 64
	flushInterval = 200 * time.Millisecond
)

// listener accepts TCP connections carrying JSON lines. Events from all
// connections are batched together; a TCP stream cannot be re-read, so its
// batches carry no checkpoints.
type listener struct {
	s      *Tailer
	ln     net.Listener
	events chan schema.Event

	mu     sync.Mutex
	conns  map[net.Conn]struct{}
	closed bool

	connWG sync.WaitGroup
}

func newListener(s *Tailer, ln net.Listener) *listener {
	return &listener{s: s, ln: ln, events: make(chan schema.Event, s.cfg.BatchSize), conns: map[net.Conn]struct{}{}}
}

func (l *listener) start() {
	l.s.wg.Add(2)
	go l.acceptLoop()
	go l.batchLoop()
}

// close stops accepting and closes every connection.
func (l *listener) close() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return
	}
	l.closed = true
	l.ln.Close()
	for c := range l.conns {
		c.Close()
	}
}

func (l *listener) acceptLoop() {
	defer l.s.wg.Done()
	defer func() {
		// No more senders once every connection is done.
		l.connWG.Wait()
		close(l.events)
	}()
	sem := make(chan struct{}, maxConns)
	for {
		select {
		case sem <- struct{}{}:
		case <-l.s.stop:
			return
		}
		c, err := l.ln.Accept()
		if err != nil {
			<-sem
			if errors.Is(err, net.ErrClosed) || l.s.stopping() {
				return
			}
			l.s.log.Warn("accept", "error", err)
			time.Sleep(10 * time.Millisecond)
			continue
		}
		l.mu.Lock()
		if l.closed {
			l.mu.Unlock()
			c.Close()
			<-sem
			return
		}
		l.conns[c] = struct{}{}
		l.connWG.Add(1)
		l.mu.Unlock()
		go func() {
			defer func() { <-sem }()
			l.serve(c)
		}()
	}
}

// serve reads one connection's lines until it closes.
func (l *listener) serve(c net.Conn) {
	defer l.connWG.Done()
	defer func() {
		l.mu.Lock()
		delete(l.conns, c)
		l.mu.Unlock()
		c.Close()
	}()
	s := l.s
	r := bufio.NewReaderSize(c, 64<<10)
	var buf, pending []byte
	bad := 0
	for lineNo := int64(1); ; lineNo++ {
		var line []byte
		var n int64
		var complete, tooLong bool
		var err error
		if s.cfg.Split == nil {
			line, n, complete, tooLong, err = readLine(r, &buf, s.cfg.MaxRecordBytes)
		} else {
			line, n, complete, tooLong, err = readSplit(r, &pending, s.cfg.Split, s.cfg.MaxRecordBytes, true)
		}
		if n > 0 && (complete || err != nil) {
			s.set.Counters.Add(s.cBytes, n)
			var decErr error
			if tooLong {
				decErr = ErrTooLong
			} else if line = trimLine(line); len(line) > 0 {
				var ev schema.Event
				ev, decErr = s.decode(line)
				if decErr == nil {
					l.events <- ev
				} else if errors.Is(decErr, ErrSkip) {
					s.set.Counters.Add(s.cSkipped, 1)
					decErr = nil
				}
			}
			if decErr != nil {
				s.set.Counters.Add(s.cErrors, 1)
				if bad == 0 {
					s.log.Warn("undecodable record from connection (further ones are only counted)",
						"remote", c.RemoteAddr().String(), "line", lineNo, "error", decErr)
				}
				bad++
			}
		}
		if err != nil {
			return
		}
	}
}

// batchLoop sends a batch when it is full or flushInterval after its first
// event, and flushes what is left when the connections are gone.
func (l *listener) batchLoop() {
	defer l.s.wg.Done()
	s := l.s
	evs := make([]schema.Event, 0, s.cfg.BatchSize)
	t := time.NewTimer(flushInterval)
	t.Stop()
	flush := func() {
		if len(evs) > 0 {
			if !s.send(component.Batch{Events: evs}) {
				s.log.Warn("listener events dropped at shutdown", "events", len(evs))
			}
			evs = evs[:0]
		}
	}
	for {
		select {
		case ev, ok := <-l.events:
			if !ok {
				flush()
				return
			}
			if len(evs) == 0 {
				t.Reset(flushInterval)
			}
			evs = append(evs, ev)
			if len(evs) >= s.cfg.BatchSize {
				t.Stop()
				flush()
			}
		case <-t.C:
			flush()
		}
	}
}
