package samples_test

import (
	"fmt"
	"log"
	"os"

	"github.com/castellan-itdr/castellan/samples"
)

func ExampleGenerate() {
	dir, err := os.MkdirTemp("", "castellan-samples")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)

	m, err := samples.Generate(samples.Options{Scenario: "default", Seed: 1, OutDir: dir})
	if err != nil {
		log.Fatal(err)
	}
	for _, f := range m.Files {
		fmt.Printf("%s (%s, %s): %d events\n", f.Path, f.Format, f.Host, f.Events)
	}
	fmt.Printf("%d users; attacker %s (%s) took over %s\n", m.Users, m.Attacker.SourceIP,
		m.Attacker.SourceHost, m.Attacker.CompromisedUser)
	for _, s := range m.Stages {
		fmt.Printf("%-15s %-9s %s–%s %d events\n", s.Name, s.Technique,
			s.Start.Format("15:04:05"), s.End.Format("15:04:05"), s.Events)
	}
	// Output:
	// dc01-security.jsonl (winlogbeat, DC01.corp.castellan.test): 2996 events
	// dc02-security.jsonl (nxlog, DC02.corp.castellan.test): 3068 events
	// fs01-system.jsonl (nxlog, FS01.corp.castellan.test): 36 events
	// 240 users; attacker 10.1.66.6 (WS-EVIL) took over wclark
	// reconnaissance  T1087.002 14:06:19–14:09:05 15 events
	// password-spray  T1110.003 14:14:26–14:19:14 33 events
	// asrep-roasting  T1558.004 14:28:49–14:28:49 1 events
	// kerberoasting   T1558.003 14:31:38–14:32:59 8 events
	// dcsync          T1003.006 14:39:52–14:39:52 5 events
	// log-cleared     T1070.001 14:49:34–14:50:16 3 events
	// cloud-sign-in   T1078.004 17:33:38–17:33:38 1 events
}
