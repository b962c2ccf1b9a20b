// degrade.go: a test workload shaped like a Go service with an unbounded cache: the cache
// grows by --rate MB/s; on SIGUSR1 the service sheds it and hands the memory back to the
// OS (debug.FreeOSMemory), as a service warned by `oomcast run --signal SIGUSR1` would.
// It exits 0 at --timeout, so "survived" is simply exit status 0; an OOM kill is 137.
// It says what it does on stderr only: stdout is left to the test harness.
package main

import (
	"flag"
	"fmt"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"
	"time"
)

const ticksPerSecond = 10

func main() {
	rate := flag.Float64("rate", 8, "cache growth in MB/s (1 MB = 1e6 bytes, as leak.c)")
	timeout := flag.Float64("timeout", 30, "exit 0 after this many seconds")
	flag.Parse()
	if *rate <= 0 || *timeout <= 0 {
		fmt.Fprintln(os.Stderr, "degrade: --rate and --timeout must be positive")
		os.Exit(2)
	}

	warned := make(chan os.Signal, 4)
	signal.Notify(warned, syscall.SIGUSR1)
	tick := time.NewTicker(time.Second / ticksPerSecond)
	defer tick.Stop()
	deadline := time.After(time.Duration(*timeout * float64(time.Second)))
	chunk := int(*rate * 1e6 / ticksPerSecond)
	var cache [][]byte
	drops := 0

	fmt.Fprintf(os.Stderr, "degrade: pid %d, cache grows %.1f MB/s\n", os.Getpid(), *rate)
	for {
		select {
		case <-tick.C:
			b := make([]byte, chunk)
			// fresh pages from the OS read as zero without being charged: touch them
			for i := 0; i < len(b); i += 4096 {
				b[i] = 1
			}
			cache = append(cache, b)
		case <-warned:
			held := len(cache) * chunk
			cache = nil
			debug.FreeOSMemory()
			drops++
			fmt.Fprintf(os.Stderr, "degrade: SIGUSR1: dropped %d MB of cache (drop %d)\n",
				held/1000000, drops)
		case <-deadline:
			fmt.Fprintf(os.Stderr, "degrade: survived %.0f s, dropped the cache %d times\n", *timeout, drops)
			os.Exit(0)
		}
	}
}
