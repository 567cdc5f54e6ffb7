//go:build !unix

package evtx

import "os"

// fileIdentity is unavailable here: replacement is then detected by size
// only, and renamed files are not recognized.
func fileIdentity(os.FileInfo) (dev, ino uint64) { return 0, 0 }
