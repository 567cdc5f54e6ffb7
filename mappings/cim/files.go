package cim

import (
	"embed"
	"strings"
)

// SplunkApp holds the Splunk app files a user installs:
// splunk/props.conf, splunk/eventtypes.conf and splunk/tags.conf.
//
//go:embed splunk/*.conf
var SplunkApp embed.FS

// Sourcetypes are the record kinds the Splunk app configures; the sink
// sends "<prefix>:<kind>".
var Sourcetypes = []string{"event", "alert", "incident", "finding", "action"}

// Stanzas parses a Splunk .conf file into stanza → key → value (comments
// and blank lines skipped). It is enough for the app files' own tests.
func Stanzas(conf string) map[string]map[string]string {
	out := map[string]map[string]string{}
	var cur map[string]string
	for _, line := range strings.Split(conf, "\n") {
		line = strings.TrimSpace(line)
		switch {
		case line == "" || strings.HasPrefix(line, "#"):
		case strings.HasPrefix(line, "[") && strings.HasSuffix(line, "]"):
			cur = map[string]string{}
			out[line[1:len(line)-1]] = cur
		case cur != nil:
			if k, v, ok := strings.Cut(line, "="); ok {
				cur[strings.TrimSpace(k)] = strings.TrimSpace(v)
			}
		}
	}
	return out
}
