package natstest

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Binary returns the nats-server executable for tests that run it as a
// process: the path in the environment variable env if set, else
// nats-server on the PATH, else /usr/sbin/nats-server (Debian's package).
// It does not check that the file exists: Version does.
func Binary(env string) string {
	if bin := os.Getenv(env); bin != "" {
		return bin
	}
	if p, err := exec.LookPath("nats-server"); err == nil {
		return p
	}
	return "/usr/sbin/nats-server"
}

// Version returns the major and minor version bin reports with --version
// ("nats-server: v2.15.2"), and that answer. It returns an error if bin
// cannot be run or its answer does not parse.
func Version(bin string) (major, minor int, answer string, err error) {
	out, err := exec.Command(bin, "--version").Output()
	answer = strings.TrimSpace(string(out))
	if err != nil {
		return 0, 0, answer, fmt.Errorf("natstest: %s --version: %w", bin, err)
	}
	if _, err := fmt.Sscanf(strings.TrimPrefix(answer, "nats-server: v"), "%d.%d", &major, &minor); err != nil {
		return 0, 0, answer, fmt.Errorf("natstest: %s --version said %q: %w", bin, answer, err)
	}
	return major, minor, answer, nil
}

// OldServer returns a nats-server binary older than major.minor, for the
// tests of what the service does on a server without a newer feature. It is
// the one in NATS_OLD_SERVER_BIN, failing the test if that one is not older;
// without the variable, /usr/sbin/nats-server (Debian's, 2.9.10 when
// written) or nats-server on the PATH if one is older, else it skips the
// test: `go test ./...` needs nothing but PostgreSQL. CI sets the variable,
// so there such tests always run.
func OldServer(t testing.TB, major, minor int) string {
	t.Helper()
	older := func(bin string) bool {
		ma, mi, _, err := Version(bin)
		return err == nil && (ma < major || ma == major && mi < minor)
	}
	if bin := os.Getenv("NATS_OLD_SERVER_BIN"); bin != "" {
		if !older(bin) {
			t.Fatalf("NATS_OLD_SERVER_BIN=%s is not a nats-server before %d.%d (the machine's, `apt-get install nats-server`, is 2.9.10)", bin, major, minor)
		}
		return bin
	}
	candidates := []string{"/usr/sbin/nats-server"}
	if p, err := exec.LookPath("nats-server"); err == nil {
		candidates = append(candidates, p)
	}
	for _, bin := range candidates {
		if older(bin) {
			return bin
		}
	}
	t.Skipf("no nats-server before %d.%d at %v: set NATS_OLD_SERVER_BIN to one (Debian's is 2.9.10) to run this test", major, minor, candidates)
	return ""
}

// StartProcess runs bin as a nats-server with JetStream on a free port, its
// store in a temporary directory, until the test ends, and returns its URL.
func StartProcess(t testing.TB, bin string) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	dir := t.TempDir()
	cmd := exec.Command(bin, "-a", "127.0.0.1", "-p", strconv.Itoa(port), "-js", "-sd", filepath.Join(dir, "store"),
		"-l", filepath.Join(dir, "nats.log"))
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", bin, err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	url := "nats://127.0.0.1:" + strconv.Itoa(port)
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if c, err := net.Dial("tcp", url[len("nats://"):]); err == nil {
			c.Close()
			return url
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s not listening on %s after 10s", bin, url)
		}
	}
}
