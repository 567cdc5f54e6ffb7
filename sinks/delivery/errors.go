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
