//go:build !(linux && cgo && afpacket)

package netsensor

import (
	"context"
	"errors"
)

// ErrNoLive reports a build without live capture.
var ErrNoLive = errors.New("netsensor: live capture is not built in (build on Linux with cgo and -tags afpacket)")

// liveAvailable reports whether this build can capture live.
const liveAvailable = false

// capture is unavailable in this build.
func capture(context.Context, *Config, func([]byte, packetInfo)) error { return ErrNoLive }
