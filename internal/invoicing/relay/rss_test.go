package relay_test

import (
	"bufio"
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/invoicing-dev/invoicing/internal/invoicing/invoicingnats"
	"github.com/invoicing-dev/invoicing/internal/invoicing/invoicingpg"
	"github.com/invoicing-dev/invoicing/internal/invoicing/relay"
)

// TestRelayDrainsABacklogInBoundedMemory drains RELAY_RSS_EVENTS events
// (e.g. 1000000) with the relay alone in a child process and checks that
// process's peak RSS stays under 100 MiB. It is skipped unless the variable
// is set: seeding and draining a million events takes a minute or two.
func TestRelayDrainsABacklogInBoundedMemory(t *testing.T) {
	n, _ := strconv.Atoi(os.Getenv("RELAY_RSS_EVENTS"))
	if n <= 0 {
		t.Skip("set RELAY_RSS_EVENTS=1000000 to measure the relay's memory on a large backlog")
	}
	h := newHarness(t)
	seedBacklog(t, h, n, 5, true)

	cmd := exec.Command(os.Args[0], "-test.run=^TestRelayProcess$")
	cmd.Env = append(os.Environ(), "RELAY_PROCESS_DB="+h.pool.Config().ConnString(), "RELAY_PROCESS_NATS="+h.nats.URL())
	cmd.Stdout, cmd.Stderr = t.Output(), t.Output()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	for h.anyUnpublished() {
		time.Sleep(time.Second)
	}
	elapsed := time.Since(start)
	peak := peakRSS(t, cmd.Process.Pid)
	_ = cmd.Process.Signal(syscall.SIGTERM)
	if err := cmd.Wait(); err != nil {
		t.Errorf("relay process: %v", err)
	}
	t.Logf("%d events drained in %s (%.0f events/s); relay peak RSS %.1f MiB",
		n, elapsed.Round(time.Millisecond), float64(n)/elapsed.Seconds(), float64(peak)/(1<<20))
	if peak >= 100<<20 {
		t.Errorf("relay peak RSS %.1f MiB, want < 100 MiB", float64(peak)/(1<<20))
	}
}

// TestRelayProcess is the child of TestRelayDrainsABacklogInBoundedMemory:
// `invoicing relay` in miniature, until SIGTERM.
func TestRelayProcess(t *testing.T) {
	db := os.Getenv("RELAY_PROCESS_DB")
	if db == "" {
		t.Skip("runs only as the child of TestRelayDrainsABacklogInBoundedMemory")
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
	defer stop()
	log := slog.New(slog.DiscardHandler)
	pool, err := invoicingpg.Connect(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	nc, err := invoicingnats.Connect(ctx, os.Getenv("RELAY_PROCESS_NATS"), log)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	pub, err := invoicingnats.NewPublisher(nc, invoicingnats.StreamConfig{})
	if err != nil {
		t.Fatal(err)
	}
	r, err := relay.New(invoicingpg.NewOutbox(pool), invoicingpg.NewRelayLeadership(pool), pub, relay.Config{}, log)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Run(ctx); err != nil {
		t.Fatal(err)
	}
}

// peakRSS returns the VmHWM (peak resident set) of process pid, in bytes.
func peakRSS(t *testing.T, pid int) int64 {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		if rest, ok := strings.CutPrefix(s.Text(), "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			return kb << 10
		}
	}
	t.Fatal("no VmHWM in /proc status")
	return 0
}
