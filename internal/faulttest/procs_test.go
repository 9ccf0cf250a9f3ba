package faulttest

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// buildBinary builds ./cmd/invoicing (without -race: the race detector
// slows the test process, the service runs at full speed) and returns its
// path.
func buildBinary(t testing.TB) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), "invoicing")
	cmd := exec.Command("go", "build", "-o", out, "./cmd/invoicing")
	cmd.Dir = filepath.Join("..", "..") // the module root, from this package's directory
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build ./cmd/invoicing: %v\n%s", err, b)
	}
	return out
}

// runOnce runs the binary with args to completion and returns its stdout.
func runOnce(ctx context.Context, bin string, env []string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = env
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("invoicing %s: %w: %s", strings.Join(args, " "), err, stderr.String())
	}
	return string(out), nil
}

// proc is one long-running invoicing process (serve or relay) under a
// supervisor that restarts it whenever it exits, like a container runtime
// would: after a kill by the suite, after a random delay; after an exit of
// its own, at once (and the exit is counted).
type proc struct {
	name    string
	bin     string
	args    []string
	env     []string
	logPath string
	// ready, if set, waits until a started process serves; a process that
	// exits first is counted as a failed start.
	ready func(ctx context.Context, exited <-chan struct{}) error

	mu      sync.Mutex
	cmd     *exec.Cmd
	exited  chan struct{}
	killed  bool // the suite killed the running process
	stopped bool

	// Counts, read after the supervisor has returned.
	starts, kills, failedStarts int
	crashes                     []string // exits the suite did not cause, with the log's tail
}

// supervise keeps the process running until ctx is done, then stops it with
// SIGTERM (its graceful shutdown) and returns.
func (p *proc) supervise(ctx context.Context) {
	for ctx.Err() == nil {
		exited, err := p.start()
		if err != nil {
			p.failedStarts++
			sleep(ctx, 200*time.Millisecond)
			continue
		}
		up := time.Now()
		if p.ready != nil {
			if err := p.ready(ctx, exited); err != nil && ctx.Err() == nil {
				p.kill() // hung or failed: start afresh
			}
		}
		select {
		case <-exited:
		case <-ctx.Done():
			p.stop()
			return
		}
		p.mu.Lock()
		killed := p.killed
		p.killed, p.cmd = false, nil
		p.mu.Unlock()
		switch {
		case killed:
			// Down for a while, as a crashed container waits for its restart.
			sleep(ctx, time.Duration(100+rand.IntN(1400))*time.Millisecond)
		case time.Since(up) < 5*time.Second:
			// It could not start, typically the database being restarted.
			p.failedStarts++
			sleep(ctx, 200*time.Millisecond)
		default:
			p.crashes = append(p.crashes, fmt.Sprintf("%s exited on its own after %s:\n%s",
				p.name, time.Since(up).Round(time.Millisecond), tail(p.logPath, 20)))
			sleep(ctx, 200*time.Millisecond)
		}
	}
}

// start starts the process and returns a channel closed when it exits.
func (p *proc) start() (<-chan struct{}, error) {
	log, err := os.OpenFile(p.logPath, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(p.bin, p.args...)
	cmd.Env = p.env
	cmd.Stdout, cmd.Stderr = log, log
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		_ = log.Close()
		return nil, err
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); _ = log.Close(); close(exited) }()
	p.mu.Lock()
	p.cmd, p.exited = cmd, exited
	p.starts++
	p.mu.Unlock()
	return exited, nil
}

// kill sends SIGKILL to the running process and reports whether one ran.
// The supervisor restarts it after a random delay.
func (p *proc) kill() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd == nil || p.killed || p.stopped {
		return false
	}
	select {
	case <-p.exited:
		return false
	default:
	}
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		return false
	}
	p.killed = true
	p.kills++
	return true
}

// stop shuts the running process down with SIGTERM and waits for it.
func (p *proc) stop() {
	p.mu.Lock()
	p.stopped = true
	cmd, exited := p.cmd, p.exited
	p.mu.Unlock()
	if cmd == nil {
		return
	}
	_ = cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-exited:
	case <-time.After(30 * time.Second):
		_ = cmd.Process.Kill()
		<-exited
	}
}

// running reports whether the process is up.
func (p *proc) running() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd == nil {
		return false
	}
	select {
	case <-p.exited:
		return false
	default:
		return true
	}
}

// sleep waits d or until ctx is done.
func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}

// errExited is what a ready check reports when the process exited first.
var errExited = errors.New("process exited")
