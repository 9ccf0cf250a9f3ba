package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/nats-io/nats-server/v2/server"
)

// replica is one `invoicing serve` process.
type replica struct {
	cmd     *exec.Cmd
	addr    chan string   // the address it logged it listens on
	leading chan struct{} // closed when it logs "relay: leading"
	exited  chan error
}

// startReplica runs `bin serve` with env, its stdout and stderr going to
// logPath. It returns once the process started; wait on addr.
func startReplica(bin string, env []string, logPath string) (*replica, error) {
	logf, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, "serve")
	cmd.Env = env
	cmd.Stderr = logf
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, errors.Join(err, logf.Close())
	}
	if err := cmd.Start(); err != nil {
		return nil, errors.Join(err, logf.Close())
	}
	r := &replica{cmd: cmd, addr: make(chan string, 1), leading: make(chan struct{}), exited: make(chan error, 1)}
	go func() {
		var once sync.Once
		sc := bufio.NewScanner(out)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			line := sc.Bytes()
			_, _ = logf.Write(append(line, '\n'))
			var l struct{ Msg, Addr string }
			if json.Unmarshal(line, &l) != nil {
				continue
			}
			switch l.Msg {
			case "listening":
				r.addr <- l.Addr
			case "relay: leading":
				once.Do(func() { close(r.leading) })
			}
		}
		_, _ = io.Copy(logf, out)
		r.exited <- errors.Join(cmd.Wait(), logf.Close())
	}()
	return r, nil
}

// waitAddr returns the replica's address once it listens, or an error if it
// exits first or takes longer than timeout.
func (r *replica) waitAddr(timeout time.Duration) (string, error) {
	select {
	case a := <-r.addr:
		return a, nil
	case err := <-r.exited:
		r.exited <- err
		return "", fmt.Errorf("serve exited before listening: %v", err)
	case <-time.After(timeout):
		return "", fmt.Errorf("serve did not listen within %s", timeout)
	}
}

// stop sends SIGTERM and waits up to 30 s before killing the process.
func (r *replica) stop() {
	_ = r.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-r.exited:
	case <-time.After(30 * time.Second):
		_ = r.cmd.Process.Kill()
		<-r.exited
	}
}

// runBin runs bin with args and env and returns its stdout; the error
// carries its stderr.
func runBin(ctx context.Context, bin string, env []string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = env
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("invoicing %s: %v: %s", strings.Join(args, " "), err, stderr.String())
	}
	return string(out), nil
}

// createDatabase creates a database of its own on the server at pg and
// returns its URL and a function that drops it.
func createDatabase(ctx context.Context, pg string) (string, func(), error) {
	admin := strings.TrimRight(pg, "/") + "/postgres?sslmode=disable"
	conn, err := pgx.Connect(ctx, admin)
	if err != nil {
		return "", nil, fmt.Errorf("PostgreSQL at %s (start it, or set -pg): %w", pg, err)
	}
	defer conn.Close(ctx)
	name := fmt.Sprintf("bench_replicas_%d_%d", os.Getpid(), time.Now().Unix())
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		return "", nil, err
	}
	drop := func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if c, err := pgx.Connect(ctx, admin); err == nil {
			_, _ = c.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
			_ = c.Close(ctx)
		}
	}
	return strings.TrimRight(pg, "/") + "/" + name + "?sslmode=disable", drop, nil
}

// startNATS starts an embedded JetStream server on a random loopback port,
// its store in dir: never the machine's shared server.
func startNATS(dir string) (*server.Server, error) {
	s, err := server.NewServer(&server.Options{
		Host: "127.0.0.1", Port: server.RANDOM_PORT, JetStream: true,
		StoreDir: filepath.Join(dir, "nats"), NoSigs: true, NoLog: true,
	})
	if err != nil {
		return nil, err
	}
	go s.Start()
	if !s.ReadyForConnections(10 * time.Second) {
		s.Shutdown()
		return nil, errors.New("embedded nats-server did not start within 10s")
	}
	return s, nil
}
