package evtx

import (
	"time"

	"github.com/castellan-itdr/castellan/mappings/windows"
)

// decoder turns the binary XML of one chunk's records into Records.
type decoder struct {
	b []byte
}

func (d *decoder) init()          {}
func (d *decoder) reset(b []byte) { d.b = b }
func (d *decoder) prime(p, e int) {}
func (d *decoder) record(rec *windows.Record, p, e int) error {
	return nil
}

// filetime converts a FILETIME (100 ns ticks since 1601) to UTC.
func filetime(ft uint64) time.Time {
	const epochDiff = 116444736000000000 // 1601 → 1970 in 100 ns
	if ft < epochDiff {
		return time.Time{}
	}
	t := ft - epochDiff
	return time.Unix(int64(t/1e7), int64(t%1e7)*100).UTC()
}
