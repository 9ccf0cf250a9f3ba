package faulttest

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/invoicing-dev/invoicing/internal/natstest"
)

// pgCluster is a throwaway PostgreSQL cluster: initdb into a temporary
// directory, started with pg_ctl on a free port, so the suite can restart it
// without touching the machine's server. PostgreSQL refuses to run as root,
// so as root every command runs as the "postgres" user, which owns the
// directory.
type pgCluster struct {
	bin  string // directory holding initdb and pg_ctl
	dir  string // the cluster's parent directory (data/ and pg.log)
	port int
	cred *syscall.Credential // nil: run as the current user
}

// startPG creates and starts a cluster, stopped and removed when the test
// ends. It fails the test if the binaries are missing or the cluster does
// not start.
func startPG(t testing.TB) *pgCluster {
	t.Helper()
	bin, err := pgBinDir()
	if err != nil {
		t.Fatal(err)
	}
	// Not t.TempDir: its parents are root's and closed to the postgres user.
	dir, err := os.MkdirTemp("", "invoicing-fault-pg-")
	if err != nil {
		t.Fatal(err)
	}
	c := &pgCluster{bin: bin, dir: dir, port: freePort(t)}
	t.Cleanup(func() {
		_ = c.pgctl("stop", "-m", "immediate")
		_ = os.RemoveAll(dir)
	})
	if os.Geteuid() == 0 {
		if c.cred, err = credentialOf("postgres"); err != nil {
			t.Fatalf("running as root needs a postgres user to own the throwaway cluster: %v", err)
		}
		if err := os.Chown(dir, int(c.cred.Uid), int(c.cred.Gid)); err != nil {
			t.Fatal(err)
		}
	}
	if out, err := c.command("initdb", "-D", c.data(), "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-sync").CombinedOutput(); err != nil {
		t.Fatalf("initdb: %v\n%s", err, out)
	}
	// fsync is off for speed: the suite restarts PostgreSQL (fast or
	// immediate), which loses nothing the kernel already has; only a machine
	// crash would. synchronous_commit stays on, so a commit is in the WAL
	// (the kernel's page cache) before the client hears of it.
	conf := fmt.Sprintf("\nlisten_addresses = '127.0.0.1'\nport = %d\nunix_socket_directories = ''\n"+
		"max_connections = 200\nfsync = off\nfull_page_writes = off\nshared_buffers = 128MB\n", c.port)
	f, err := os.OpenFile(filepath.Join(c.data(), "postgresql.conf"), os.O_APPEND|os.O_WRONLY, 0)
	if err == nil {
		_, err = f.WriteString(conf)
		err = joinClose(err, f)
	}
	if err != nil {
		t.Fatalf("configure cluster: %v", err)
	}
	if err := c.pgctl("start"); err != nil {
		t.Fatal(err)
	}
	return c
}

// URL returns the URL of database db, tagging the sessions with app so the
// suite can tell which process holds what.
func (c *pgCluster) URL(db, app string) string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/%s?sslmode=disable&application_name=%s", c.port, db, app)
}

// Restart runs pg_ctl restart in mode (fast: sessions are terminated and
// in-flight transactions roll back; immediate: the server crashes and
// recovers from the WAL) and waits until the server accepts connections.
func (c *pgCluster) Restart(mode string) error { return c.pgctl("restart", "-m", mode) }

func (c *pgCluster) data() string { return filepath.Join(c.dir, "data") }

func (c *pgCluster) pgctl(action string, args ...string) error {
	args = append([]string{action, "-D", c.data(), "-w", "-t", "60", "-l", filepath.Join(c.dir, "pg.log")}, args...)
	if out, err := c.command("pg_ctl", args...).CombinedOutput(); err != nil {
		return fmt.Errorf("pg_ctl %s: %w\n%s", action, err, out)
	}
	return nil
}

func (c *pgCluster) command(name string, args ...string) *exec.Cmd {
	cmd := exec.Command(filepath.Join(c.bin, name), args...)
	cmd.Dir = c.dir
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: c.cred}
	return cmd
}

// pgBinDir returns PG_BIN, the directory of initdb on the PATH, or the
// newest /usr/lib/postgresql/*/bin.
func pgBinDir() (string, error) {
	if d := os.Getenv("PG_BIN"); d != "" {
		return d, nil
	}
	if p, err := exec.LookPath("initdb"); err == nil {
		return filepath.Dir(p), nil
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	slices.SortFunc(dirs, func(a, b string) int { return versionOf(a) - versionOf(b) })
	for _, d := range slices.Backward(dirs) {
		if _, err := os.Stat(filepath.Join(d, "initdb")); err == nil {
			return d, nil
		}
	}
	return "", fmt.Errorf("no PostgreSQL binaries (initdb, pg_ctl): set PG_BIN to their directory")
}

func versionOf(binDir string) int {
	v, _ := strconv.Atoi(filepath.Base(filepath.Dir(binDir)))
	return v
}

func credentialOf(name string) (*syscall.Credential, error) {
	u, err := user.Lookup(name)
	if err != nil {
		return nil, err
	}
	uid, err1 := strconv.ParseUint(u.Uid, 10, 32)
	gid, err2 := strconv.ParseUint(u.Gid, 10, 32)
	if err1 != nil || err2 != nil {
		return nil, fmt.Errorf("user %s has non-numeric ids %s:%s", name, u.Uid, u.Gid)
	}
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}, nil
}

// natsServer is a nats-server subprocess with JetStream, its store in a
// temporary directory, restartable on the same port and store.
type natsServer struct {
	bin  string
	dir  string
	conf string // "": no configuration file
	port int

	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{} // closed when cmd has exited
}

// startNATS starts the server, stopped when the test ends. The binary is
// NATS_SERVER_BIN, nats-server on the PATH, or /usr/sbin/nats-server. With
// FAULT_NATS_SYNC_ALWAYS=1 it fsyncs every JetStream write before the ack
// (sync_interval: always, nats-server 2.10 or later), as deploy/nats.conf.
func startNATS(t testing.TB) *natsServer {
	t.Helper()
	bin := natstest.Binary("NATS_SERVER_BIN")
	s := &natsServer{bin: bin, dir: t.TempDir(), port: freePort(t)}
	if os.Getenv("FAULT_NATS_SYNC_ALWAYS") != "" {
		s.conf = filepath.Join(s.dir, "nats.conf")
		if err := os.WriteFile(s.conf, []byte("jetstream { sync_interval: always }\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() { s.Stop(syscall.SIGTERM) })
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	return s
}

// URL returns the client URL.
func (s *natsServer) URL() string { return fmt.Sprintf("nats://127.0.0.1:%d", s.port) }

// Start starts the server if it is not running and waits until it accepts
// connections.
func (s *natsServer) Start() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd != nil {
		return nil
	}
	args := []string{"-a", "127.0.0.1", "-p", strconv.Itoa(s.port), "-js",
		"-sd", filepath.Join(s.dir, "store"), "-l", filepath.Join(s.dir, "nats.log")}
	if s.conf != "" {
		args = append(args, "-c", s.conf)
	}
	cmd := exec.Command(s.bin, args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start nats-server %s: %w", s.bin, err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	s.cmd, s.done = cmd, done
	if err := waitTCP(s.port, 10*time.Second, done); err != nil {
		return fmt.Errorf("nats-server: %w (log: %s)", err, filepath.Join(s.dir, "nats.log"))
	}
	return nil
}

// Stop sends sig (SIGTERM: orderly shutdown; SIGKILL: a crash) and waits
// for the server to exit. Stopping a stopped server does nothing.
func (s *natsServer) Stop(sig syscall.Signal) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd == nil {
		return
	}
	_ = s.cmd.Process.Signal(sig)
	select {
	case <-s.done:
	case <-time.After(30 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.done
	}
	s.cmd, s.done = nil, nil
}

// describe returns the server's version and JetStream sync mode.
func (s *natsServer) describe() string {
	out, _ := exec.Command(s.bin, "--version").Output()
	sync := "JetStream fsync every 2m (default)"
	if s.conf != "" {
		sync = "JetStream sync_interval: always"
	}
	return strings.TrimSpace(string(out)) + ", " + sync
}

// freePort returns a TCP port free on 127.0.0.1 right now.
func freePort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// waitTCP waits until 127.0.0.1:port accepts a connection, the timeout
// passes, or exited is closed.
func waitTCP(port int, timeout time.Duration, exited <-chan struct{}) error {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	var d net.Dialer
	for {
		c, err := d.DialContext(ctx, "tcp", "127.0.0.1:"+strconv.Itoa(port))
		if err == nil {
			return c.Close()
		}
		select {
		case <-exited:
			return fmt.Errorf("exited before listening on port %d", port)
		case <-ctx.Done():
			return fmt.Errorf("not listening on port %d after %s", port, timeout)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func joinClose(err error, f *os.File) error {
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// tail returns the last n lines of the file at path, for failure reports.
func tail(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}
