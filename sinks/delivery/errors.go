package delivery

import (
	"errors"
	"fmt"
	"time"
)

// permanentError marks a rejection that retrying cannot fix.
type permanentError struct{ err error }

func (e permanentError) Error() string { return "permanent: " + e.err.Error() }
func (e permanentError) Unwrap() error { return e.err }

// Permanent wraps err so the sender dead-letters the batch instead of retrying.
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return permanentError{err}
}

// IsPermanent reports whether err (or one it wraps) is permanent.
func IsPermanent(err error) bool {
	var p permanentError
	return errors.As(err, &p)
}

// throttledError asks the sender to wait at least RetryAfter.
type throttledError struct {
	err        error
	retryAfter time.Duration
}

func (e throttledError) Error() string {
	return fmt.Sprintf("throttled (retry after %s): %v", e.retryAfter, e.err)
}
func (e throttledError) Unwrap() error { return e.err }

// Throttled wraps err with the server's Retry-After delay.
func Throttled(err error, retryAfter time.Duration) error {
	return throttledError{err: err, retryAfter: retryAfter}
}

// RetryAfter returns the delay asked for by a Throttled error, if any.
func RetryAfter(err error) (time.Duration, bool) {
	var t throttledError
	if errors.As(err, &t) {
		return t.retryAfter, true
	}
	return 0, false
}

// tooLargeError says the batch exceeded the target's request size limit.
type tooLargeError struct{ err error }

func (e tooLargeError) Error() string { return "batch too large: " + e.err.Error() }
func (e tooLargeError) Unwrap() error { return e.err }

// TooLarge wraps err (an HTTP 413, a size check) so the sender splits the
// batch in half and retries each half. A single item that is too large is
// dead-lettered.
func TooLarge(err error) error { return tooLargeError{err} }

// IsTooLarge reports whether err asks for a split.
func IsTooLarge(err error) bool {
	var t tooLargeError
	return errors.As(err, &t)
}

// ItemError is the failure of one item of a batch.
type ItemError struct {
	Index int   // index into the pushed batch
	Err   error // wrap with Permanent to dead-letter, Throttled to wait
}

// PartialError reports that some items of a batch failed and the rest were
// accepted. The sender removes accepted items from the queue, dead-letters
// the permanent failures, and retries only the others.
type PartialError struct {
	Failed []ItemError
}

func (e *PartialError) Error() string {
	perm := 0
	for _, f := range e.Failed {
		if IsPermanent(f.Err) {
			perm++
		}
	}
	first := ""
	if len(e.Failed) > 0 {
		first = ": first: " + e.Failed[0].Err.Error()
	}
	return fmt.Sprintf("%d item(s) failed (%d permanent)%s", len(e.Failed), perm, first)
}
