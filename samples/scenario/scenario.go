package scenario

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"time"
)

// Output files, one per logging host.
const (
	FileDC01 = "dc01-security.jsonl"
	FileDC02 = "dc02-security.jsonl"
	FileFS01 = "fs01-system.jsonl"
)

// Formats of the output files.
const (
	FormatWinlogbeat = "winlogbeat"
	FormatNXLog      = "nxlog"
)

// DefaultStart is the start of the simulated day when none is given.
var DefaultStart = time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)

// LogFile describes one logging host's output file.
type LogFile struct {
	Name       string // file name relative to the output directory
	Computer   string // FQDN of the logging host
	Format     string // FormatWinlogbeat or FormatNXLog
	RecordBase int64  // record number of the file's first event
}

// Attacker is the ground truth about the attack chain of a scenario.
type Attacker struct {
	SourceIP        string
	SourceHost      string
	CompromisedUser string   // sAMAccountName of the sprayed-and-taken account
	Domain          string   // DNS name of the attacked domain
	ASREPRoasted    string   // account whose AS-REP was roasted
	Kerberoasted    []string // service accounts whose RC4 tickets were requested, sorted
	CloudAccount    string   // the Kerberoasted account then used to sign in to Entra ID from abroad
	CloudIP         string   // the address of that sign-in
}

// Stage is one step of the attack chain.
type Stage struct {
	Name      string
	Technique string // MITRE ATT&CK technique id
	Start     time.Time
	End       time.Time
	Events    int
}

// Result is everything one scenario run produced.
type Result struct {
	Domain *Domain
	Files  []LogFile
	Events []Event // in generation order; the writer sorts per file by time
	// Cloud are the Entra ID sign-ins of the day (the domain is synchronized
	// to Entra ID), sorted by time.
	Cloud    []CloudSignIn
	Attacker Attacker
	Stages   []Stage
}

type scenarioFunc func(b *builder)

var scenarios = map[string]scenarioFunc{
	"default": func(b *builder) { b.benignDay(); b.attackChain(); b.cloudDay(); b.hybridChain() },
	"benign":  func(b *builder) { b.benignDay(); b.cloudDay() },
}

// Names returns the known scenario names, sorted.
func Names() []string {
	names := make([]string, 0, len(scenarios))
	for n := range scenarios {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// Build runs the named scenario for the day beginning at start (UTC; zero means
// DefaultStart). The same arguments always produce the same result.
func Build(name string, seed int64, start time.Time) (*Result, error) {
	fn, ok := scenarios[name]
	if !ok {
		return nil, fmt.Errorf("scenario: unknown scenario %q (known: %v)", name, Names())
	}
	if start.IsZero() {
		start = DefaultStart
	}
	rng := rand.New(rand.NewPCG(uint64(seed), 0x63617374656c6c61)) // "castella"
	d := newDomain(rng)
	b := &builder{rng: rng, d: d, day: start.UTC().Truncate(time.Millisecond)}
	b.res = &Result{Domain: d, Files: []LogFile{
		{Name: FileDC01, Computer: d.FQDN("DC01"), Format: FormatWinlogbeat, RecordBase: 100_000 + rng.Int64N(900_000)},
		{Name: FileDC02, Computer: d.FQDN("DC02"), Format: FormatNXLog, RecordBase: 100_000 + rng.Int64N(900_000)},
		{Name: FileFS01, Computer: d.FQDN("FS01"), Format: FormatNXLog, RecordBase: 1_000 + rng.Int64N(90_000)},
	}}
	fn(b)
	return b.res, nil
}

// builder accumulates the events of one scenario run.
type builder struct {
	rng *rand.Rand
	d   *Domain
	day time.Time // start of the simulated day
	res *Result
	// objectIDs are the Entra object ids of synchronized accounts, by sam.
	objectIDs map[string]string
	// firstRoasted is the service account whose ticket the attacker
	// requested first.
	firstRoasted string
}

func (b *builder) emit(e Event) {
	end := b.day.Add(24 * time.Hour)
	if e.Time.Before(b.day) || !e.Time.Before(end) {
		return // activity spilling over the simulated day is not recorded
	}
	b.res.Events = append(b.res.Events, e)
}

func (b *builder) dcFile(dc int) string {
	if dc == 0 {
		return FileDC01
	}
	return FileDC02
}

// at returns the time of day h:m:s plus a random millisecond part.
func (b *builder) at(h, m, s int) time.Time {
	return b.day.Add(time.Duration(h)*time.Hour + time.Duration(m)*time.Minute +
		time.Duration(s)*time.Second + time.Duration(b.rng.IntN(1000))*time.Millisecond)
}

// between returns a random millisecond-precision time in [from, to).
func (b *builder) between(from, to time.Time) time.Time {
	span := to.Sub(from).Milliseconds()
	if span <= 0 {
		return from
	}
	return from.Add(time.Duration(b.rng.Int64N(span)) * time.Millisecond)
}

// after returns t plus a random delay in [min, max).
func (b *builder) after(t time.Time, min, max time.Duration) time.Time {
	return b.between(t.Add(min), t.Add(max))
}

// homeDC mostly returns the account's usual domain controller, sometimes the other one.
func (b *builder) homeDC(a *Account) int {
	if b.rng.IntN(100) < 85 {
		return a.DC
	}
	return 1 - a.DC
}
