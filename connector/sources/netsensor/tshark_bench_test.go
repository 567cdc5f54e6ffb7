package netsensor

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"syscall"
	"testing"
	"time"

	"github.com/castellan-itdr/castellan/mappings/schema"
)

// tsharkFilter and tsharkFields are what the comparison asks of tshark:
// the same protocols castellan dissects, with the fields a detection needs.
const tsharkFilter = "kerberos || ldap || ntlmssp || dcerpc || dns"

var tsharkFields = []string{"frame.number", "frame.time_epoch", "ip.src", "ip.dst", "kerberos.msg_type",
	"kerberos.CNameString", "kerberos.SNameString", "kerberos.error_code", "ldap.protocolOp", "ldap.bindRequest_element",
	"ldap.filter", "ntlmssp.auth.username", "ntlmssp.auth.domain", "dcerpc.cn_bind_to_uuid", "dcerpc.opnum",
	"dns.qry.name", "dns.qry.type"}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkCaptureFile is castellan's side of BenchmarkVsTshark alone
// (for profiling: -cpuprofile), on one core.
func BenchmarkCaptureFile(b *testing.B) {
	path := os.Getenv("CASTELLAN_BENCH_PCAP")
	if path == "" {
		b.Skip("CASTELLAN_BENCH_PCAP is not set: set it to a pcap (castellan samples generate --format pcap --size 600MB --out DIR)")
	}
	fi, err := os.Stat(path)
	if err != nil {
		b.Fatal(err)
	}
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	b.SetBytes(fi.Size())
	cpu0 := cpuTime()
	var events, packets int64
	for b.Loop() {
		st, err := ReadFile(path, func(schema.Event) { events++ }, Options{})
		if err != nil || st.Damage != "" {
			b.Fatalf("read: %v %s", err, st.Damage)
		}
		packets += st.Packets
	}
	cpu := cpuTime() - cpu0
	b.ReportMetric(float64(fi.Size())*8*float64(b.N)/cpu.Seconds()/1e9, "Gbit/s/core")
	b.ReportMetric(float64(packets)/b.Elapsed().Seconds(), "packets/s")
	b.ReportMetric(float64(events)/float64(b.N), "events/op")
}

// BenchmarkVsTshark compares castellan's full decode and dissection of the
// capture named by CASTELLAN_BENCH_PCAP (make one with `castellan samples
// generate --format pcap --size 600MB --out DIR`) with tshark filtering and
// printing the same protocols, run from this process. Castellan runs on
// one core (GOMAXPROCS 1, the reader is single-threaded); tshark runs once.
// Reported: castellan MB/s, Gbit/s per core (bits per CPU second of this
// process, GC included), packets/s and events/op; tshark's wall seconds and
// MB/s; and the speed ratios in wall time (x_tshark) and CPU time
// (x_tshark_cpu, fairer on a loaded machine).
func BenchmarkVsTshark(b *testing.B) {
	path := os.Getenv("CASTELLAN_BENCH_PCAP")
	if path == "" {
		b.Skip("CASTELLAN_BENCH_PCAP is not set: set it to a pcap (castellan samples generate --format pcap --size 600MB --out DIR) to compare with tshark")
	}
	fi, err := os.Stat(path)
	if err != nil {
		b.Fatal(err)
	}
	tshark, err := exec.LookPath("tshark")
	if err != nil {
		b.Fatal("tshark is not installed (Debian: apt-get install -y tshark)")
	}
	size := float64(fi.Size())

	// Warm the page cache (and check the file) before either side is timed.
	st, err := ReadFile(path, func(schema.Event) {}, Options{})
	if err != nil || st.Damage != "" {
		b.Fatalf("read %s: %v %s", path, err, st.Damage)
	}
	packets := st.Packets

	args := []string{"-r", path, "-n", "-Y", tsharkFilter, "-T", "fields"}
	for _, f := range tsharkFields {
		args = append(args, "-e", f)
	}
	cmd := exec.Command(tshark, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	begin := time.Now()
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	lines := 0
	sc := bufio.NewScanner(stdout)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	for sc.Scan() {
		lines++
	}
	if err := cmd.Wait(); err != nil {
		b.Fatalf("tshark: %v\n%s", err, stderr.String())
	}
	tsharkWall := time.Since(begin)
	tsharkCPU := cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()

	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	runtime.GC()
	b.SetBytes(fi.Size())
	b.ResetTimer()
	cpu0 := cpuTime()
	var events int64
	for b.Loop() {
		st, err := ReadFile(path, func(schema.Event) { events++ }, Options{})
		if err != nil || st.Packets != packets {
			b.Fatalf("read %d of %d packets: %v", st.Packets, packets, err)
		}
	}
	cpu := cpuTime() - cpu0
	wall := b.Elapsed()
	b.StopTimer()

	n := float64(b.N)
	perRead := wall.Seconds() / n
	gbitCore := size * 8 * n / cpu.Seconds() / 1e9
	ratio := tsharkWall.Seconds() / perRead
	b.ReportMetric(size*n/wall.Seconds()/1e6, "castellan_MB/s")
	b.ReportMetric(gbitCore, "Gbit/s/core")
	b.ReportMetric(float64(packets)*n/wall.Seconds(), "packets/s")
	b.ReportMetric(float64(events)/n, "events/op")
	b.ReportMetric(tsharkWall.Seconds(), "tshark_s")
	b.ReportMetric(size/tsharkWall.Seconds()/1e6, "tshark_MB/s")
	b.ReportMetric(ratio, "x_tshark")
	b.ReportMetric(tsharkCPU.Seconds()/(cpu.Seconds()/n), "x_tshark_cpu")
	b.Log(fmt.Sprintf("%s: %.0f MB, %d packets; castellan %.3fs/read (%.0f MB/s, %.2f Gbit/s per core, %.0f events); "+
		"tshark %.2fs wall, %.2fs CPU, %d matching packets; castellan %.1fx faster (%.1fx in CPU time)",
		path, size/1e6, packets, perRead, size/perRead/1e6, gbitCore, float64(events)/n,
		tsharkWall.Seconds(), tsharkCPU.Seconds(), lines, ratio, tsharkCPU.Seconds()/(cpu.Seconds()/n)))
}
