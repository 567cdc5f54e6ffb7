package sinktest

import (
	"net/http"
	"strconv"
	"sync"
	"time"
)

// Double is a local fake of a SIEM API, driven by a test. All methods are
// safe for concurrent use.
type Double interface {
	// URL is the base URL of the fake endpoint.
	URL() string
	// Accepted returns the ids of the records the target stored, in arrival
	// order. A target that deduplicates by id (Elastic with _id) stores one
	// per id; one that does not (HEC, Logs Ingestion) stores every copy.
	Accepted() []string
	// DedupesByID reports whether the target stores one record per id.
	DedupesByID() bool
	// FailNext makes the next n requests fail with status, with a
	// Retry-After header (whole seconds, rounded up) when retryAfter > 0.
	FailNext(n, status int, retryAfter time.Duration)
	// FailFor makes every request fail with status for d, then recover.
	FailFor(d time.Duration, status int, retryAfter time.Duration)
	// Reject makes the target permanently reject records with these ids:
	// per item where the API reports items, else the whole request with the
	// API's 400 body.
	Reject(ids ...string)
	// DropResponses processes (stores) the next n requests, then drops the
	// connection without answering.
	DropResponses(n int)
	// Close stops the server.
	Close()
}

// Faults is the scriptable fault state of a double. The zero value injects
// nothing. Embed a *Faults in a double to get FailNext, FailFor and
// DropResponses; call Next once per request.
type Faults struct {
	mu        sync.Mutex
	failN     int
	failNCode int
	failNRA   time.Duration
	until     time.Time
	untilCode int
	untilRA   time.Duration
	drop      int
	requests  int
}

// Fault is what Next decided for one request.
type Fault struct {
	// Status, when non-zero, is the HTTP status the request must fail with
	// (without processing it).
	Status int
	// RetryAfter is the delay to announce in a Retry-After header (0 = none).
	RetryAfter time.Duration
	// Drop says: process the request, then drop the connection (DropConnection).
	Drop bool
}

// FailNext makes the next n requests fail with status.
func (f *Faults) FailNext(n, status int, retryAfter time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.failN, f.failNCode, f.failNRA = n, status, retryAfter
}

// FailFor makes every request fail with status for d from now.
func (f *Faults) FailFor(d time.Duration, status int, retryAfter time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.until, f.untilCode, f.untilRA = time.Now().Add(d), status, retryAfter
}

// DropResponses makes the next n requests be processed and then answered by
// a dropped connection.
func (f *Faults) DropResponses(n int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.drop = n
}

// Requests counts the requests Next has seen.
func (f *Faults) Requests() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.requests
}

// Next decides the fault for one incoming request. A time-window failure
// (FailFor) wins over FailNext, which wins over DropResponses.
func (f *Faults) Next() Fault {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.requests++
	switch {
	case time.Now().Before(f.until):
		return Fault{Status: f.untilCode, RetryAfter: f.untilRA}
	case f.failN > 0:
		f.failN--
		return Fault{Status: f.failNCode, RetryAfter: f.failNRA}
	case f.drop > 0:
		f.drop--
		return Fault{Drop: true}
	}
	return Fault{}
}

// SetRetryAfter sets the Retry-After header (whole seconds, rounded up) when
// d > 0.
func SetRetryAfter(w http.ResponseWriter, d time.Duration) {
	if d <= 0 {
		return
	}
	secs := int64((d + time.Second - 1) / time.Second)
	w.Header().Set("Retry-After", strconv.FormatInt(secs, 10))
}

// DropConnection closes the client connection without writing a response:
// the client sees EOF / connection reset and cannot know whether the
// request was processed. It needs an HTTP/1.x server (httptest default).
func DropConnection(w http.ResponseWriter) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		panic("sinktest: DropConnection needs an http.Hijacker (HTTP/1.x server)")
	}
	conn, _, err := hj.Hijack()
	if err != nil {
		return
	}
	_ = conn.Close()
}
