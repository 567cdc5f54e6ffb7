package jsonscan

import (
	"encoding/json"
	"testing"
)

// TestAppendStringMatchesMarshal checks AppendString against json.Marshal.
func TestAppendStringMatchesMarshal(t *testing.T) {
	for _, s := range []string{"", "plain id-42", "a\"b\\c", "<&>", "tab\there", "café", "bad\xff", "\u2028", "\x7f", "x\x00"} {
		want, _ := json.Marshal(s)
		if got := AppendString([]byte("pre"), s); string(got) != "pre"+string(want) {
			t.Errorf("AppendString(%q) = %s, want pre%s", s, got, want)
		}
	}
}
