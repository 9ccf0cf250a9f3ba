// Package prismtest runs Prism's validating proxy (`prism proxy --errors`) in
// front of a test server, so a test sees what a client team using Prism for
// contract tests would see.
package prismtest

import (
	"bytes"
	"context"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"testing"
	"time"
)

// Binary returns Prism's binary from INVOICING_PRISM, or skips the test when
// it is unset: these tests run in .ci/run (tools/spec/check.sh prism).
func Binary(t testing.TB) string {
	t.Helper()
	prism := os.Getenv("INVOICING_PRISM")
	if prism == "" {
		t.Skip("set INVOICING_PRISM to Prism's binary: tools/spec/check.sh prism")
	}
	return prism
}

// Start runs `prism proxy --errors spec upstream` on a free port until the
// test ends, and returns its URL once it accepts connections. It fails the
// test, with Prism's output, if Prism exits or does not listen within two
// minutes.
func Start(t testing.TB, prism, spec, upstream string) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
	_ = ln.Close()

	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, prism, "proxy", "--errors", "-h", "127.0.0.1", "-p", port, spec, upstream)
	out := &lockedBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	cmd.WaitDelay = 5 * time.Second
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatalf("start Prism (%s): %v", prism, err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		cancel()
		<-exited
		if t.Failed() {
			t.Logf("Prism's output:\n%s", out)
		}
	})

	// Prism takes seconds to start, more on a loaded machine.
	deadline := time.Now().Add(2 * time.Minute)
	for {
		conn, err := net.DialTimeout("tcp", "127.0.0.1:"+port, time.Second)
		if err == nil {
			_ = conn.Close()
			return "http://127.0.0.1:" + port
		}
		select {
		case <-exited:
			t.Fatalf("Prism exited before listening:\n%s", out)
		case <-time.After(200 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("Prism did not listen on %s within 2 minutes:\n%s", port, out)
		}
	}
}

// Violations returns what Prism found wrong with an exchange it proxied
// (its sl-violations header: errors, which --errors turns into a 500
// problem, and warnings), or "" if nothing.
func Violations(res *http.Response) string { return res.Header.Get("sl-violations") }

// lockedBuffer collects a process's output, safe for its copying goroutines.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
