package windows

import (
	"bufio"
	"strings"
	"testing"
)

// A cut-off event does not swallow the next one: the splitter resyncs at
// the next <Event> start tag.
func TestSplitXMLResyncsAfterCutOffEvent(t *testing.T) {
	good := `<Event xmlns="http://schemas.microsoft.com/win/2004/08/events/event"><System><EventID>4624</EventID><EventRecordID>7</EventRecordID><Channel>Security</Channel><Computer>DC01</Computer></System><EventData><Data Name="TargetUserName">a</Data></EventData></Event>`
	input := "<Event><System><EventID>46\n" + good + "\n" + good + "\n"
	sc := bufio.NewScanner(strings.NewReader(input))
	sc.Split(SplitXMLEvents)
	var ok, bad int
	for sc.Scan() {
		if _, err := DecodeXML(sc.Bytes()); err != nil {
			bad++
		} else {
			ok++
		}
	}
	if ok != 2 || bad != 1 {
		t.Fatalf("ok %d bad %d, want 2 and 1", ok, bad)
	}
}
