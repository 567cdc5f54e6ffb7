// Package corpus locates the third-party corpus (EVTX attack logs, OTRF
// captures and host logs, SigmaHQ rules) that some tests and benchmarks read
// when it is present. The project's own tests never need it: callers skip
// with Dir's message when it is absent.
//
// The corpus is $CASTELLAN_CORPUS, else ../shared/corpus beside the
// repository.
package corpus

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

// Root is the corpus directory: $CASTELLAN_CORPUS, else shared/corpus
// beside the repository (which need not exist).
func Root() string {
	if d := os.Getenv("CASTELLAN_CORPUS"); d != "" {
		return d
	}
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "..", "shared", "corpus")
}

// Dir returns Root joined with sub, skipping the test with a message naming
// the directory when it does not exist.
func Dir(t testing.TB, sub ...string) string {
	t.Helper()
	d := filepath.Join(append([]string{Root()}, sub...)...)
	if st, err := os.Stat(d); err != nil || !st.IsDir() {
		t.Skipf("third-party corpus not present at %s (set CASTELLAN_CORPUS or place shared/corpus beside the repository)", d)
	}
	return d
}
