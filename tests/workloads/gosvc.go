// gosvc.go: a test workload shaped like a Go service: a live set held in a map, requests that
// allocate short-lived buffers (the garbage that gives the GC its sawtooth), and optionally
// the classic leak, a global map that keeps growing. GOGC and GOMEMLIMIT come from the
// environment, as in production, so the heap's shape is the Go runtime's own.
// It exits 0 at --timeout, so "survived" is exit status 0; an OOM kill is 137.
// Stdlib only; says what it does on stderr.
package main

import (
	"flag"
	"fmt"
	"os"
	"time"
)

const (
	ticksPerSecond = 100
	entryBytes     = 4096 // one map entry: a page, so the bytes held are the bytes charged
	requestBytes   = 64 << 10
)

// touch writes every page, because fresh pages from the OS are not charged until touched,
// and a real service fills the buffers it allocates.
func touch(b []byte) {
	for i := 0; i < len(b); i += 4096 {
		b[i] = 1
	}
}

var (
	live   = map[int][]byte{} // the service's working set
	leaked = map[int][]byte{} // the global-map leak: entries added, never removed
	sink   []byte             // keeps the compiler from dropping request buffers
)

func fill(m map[int][]byte, bytes float64) {
	for n := len(m); float64(len(m))*entryBytes < bytes; n++ {
		b := make([]byte, entryBytes)
		touch(b)
		m[n] = b
	}
}

func main() {
	liveMB := flag.Float64("live", 50, "live set in MB (1 MB = 1e6 bytes, as leak.c)")
	churn := flag.Float64("churn", 20, "request garbage in MB/s")
	leak := flag.Float64("leak", 0, "global map growth in MB/s (0: no leak)")
	timeout := flag.Float64("timeout", 60, "exit 0 after this many seconds")
	flag.Parse()
	if *liveMB < 0 || *churn < 0 || *leak < 0 || *timeout <= 0 {
		fmt.Fprintln(os.Stderr, "gosvc: sizes must be >= 0 and --timeout > 0")
		os.Exit(2)
	}
	fmt.Fprintf(os.Stderr, "gosvc: pid %d live %.0f MB churn %.1f MB/s leak %.2f MB/s GOGC=%q GOMEMLIMIT=%q\n",
		os.Getpid(), *liveMB, *churn, *leak, os.Getenv("GOGC"), os.Getenv("GOMEMLIMIT"))
	fill(live, *liveMB*1e6)

	start := time.Now()
	tick := time.NewTicker(time.Second / ticksPerSecond)
	defer tick.Stop()
	var garbage float64 // request bytes due but not yet allocated
	for range tick.C {
		t := time.Since(start).Seconds()
		if t > *timeout {
			fmt.Fprintln(os.Stderr, "gosvc: time bound reached, exiting")
			return
		}
		// paced by the clock, like leak.c: the leak holds leak*t MB at time t
		fill(leaked, *leak*1e6*t)
		garbage += *churn * 1e6 / ticksPerSecond
		for ; garbage >= requestBytes; garbage -= requestBytes {
			b := make([]byte, requestBytes)
			touch(b)
			sink = b
		}
	}
}
