//go:build !linux

package pipeline

import "time"

// threadCPU is not measured off Linux: the CPU share metric is left out.
func threadCPU() time.Duration { return 0 }
