//go:build !unix

package tail

import "os"

// fileIdentity is unavailable here: rotation is then detected by size only.
func fileIdentity(os.FileInfo) (dev, ino uint64) { return 0, 0 }
