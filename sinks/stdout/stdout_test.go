package stdout

import (
	"bytes"
	"context"
	"testing"

	"github.com/castellan-itdr/castellan/sinks/delivery"
)

func TestPushWritesLines(t *testing.T) {
	var b bytes.Buffer
	s := New(&b)
	err := s.Push(context.Background(), []delivery.Item{{Body: []byte(`{"id":"1"}`)}, {Body: []byte(`{"id":"2"}`)}})
	if err != nil {
		t.Fatal(err)
	}
	if got := b.String(); got != "{\"id\":\"1\"}\n{\"id\":\"2\"}\n" {
		t.Fatalf("wrote %q", got)
	}
}
