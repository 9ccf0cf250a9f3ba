package main

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
	"github.com/jackc/pgx/v5"

	"github.com/invoicing-dev/invoicing/internal/pgtest"
)

// TestDevRunsTheWholeSystem starts the built binary's `dev` as a developer
// would, on a database that does not exist yet and with every address moved
// off its default: it pays an invoice with the key dev printed, finds the
// receipt on the mail page and the paid event in the feed, stops it with
// SIGINT (exit 0), and starts it again on the same data, which reuses the
// tenant and prints no key.
func TestDevRunsTheWholeSystem(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary on PostgreSQL")
	}
	t.Parallel()
	home := pgtest.NewURL(t)
	dbURL, name := missingURL(t, home)
	t.Cleanup(func() { execSQL(t, home, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)") })
	bin := buildBinary(t)
	api, nats, smtpAddr, mail := freePort(t), freePort(t), freePort(t), freePort(t)
	vars := map[string]string{
		"DATABASE_URL": dbURL, "HTTP_ADDR": api, "NATS_EMBEDDED_ADDR": nats,
		"NATS_EMBEDDED_DIR": filepath.Join(t.TempDir(), "nats"), "LOG_LEVEL": "warn",
	}
	args := []string{"dev", "--smtp", smtpAddr, "--mail", mail}

	p := startProcess(t, bin, vars, args...)
	out := waitOutput(t, p, "invoicing dev is running")
	for _, want := range []string{"for development only", `created the database "` + name + `"`, "http://" + api + "/metrics",
		"http://" + mail, "nats://" + nats} {
		if !strings.Contains(out, want) {
			t.Errorf("dev's output lacks %q:\n%s", want, out)
		}
	}
	m := regexp.MustCompile(`(?m)^KEY=(\S+)$`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("dev printed no KEY= line:\n%s", out)
	}
	c := client{t: t, base: "http://" + api, key: m[1]}
	// The curl line works as printed: the body it sends creates a draft.
	curl := regexp.MustCompile(`(?m)^  curl .* -d '(.*)'$`).FindStringSubmatch(out)
	if curl == nil || !strings.Contains(curl[0], "'Authorization: Bearer "+m[1]+"'") {
		t.Fatalf("dev printed no curl line with the key:\n%s", out)
	}
	id := c.call("POST", "/v1/invoices", curl[1], 201)["id"].(string)
	number := c.call("POST", "/v1/invoices/"+id+"/issue", "", 200)["number"].(string)
	c.call("POST", "/v1/invoices/"+id+"/payments", `{"amount": 5000, "reference": "psp_dev_1"}`, 200)

	receipt := "Receipt for invoice " + number
	page := poll(t, 30*time.Second, "the receipt on the mail page", func() (string, bool) {
		body := httpGet(t, "http://"+mail+"/")
		return body, strings.Contains(body, receipt)
	})
	if !strings.Contains(page, "ada@example.com") {
		t.Errorf("the mail page shows the receipt but not its recipient:\n%s", page)
	}
	poll(t, 30*time.Second, "invoicing.invoice.paid in the feed", func() (string, bool) {
		feed := c.call("GET", "/v1/events?after=0&type=invoicing.invoice.paid", "", 200)
		data, _ := feed["data"].([]any)
		return "", len(data) == 1
	})

	stop := func(p *process) {
		t.Helper()
		if err := p.cmd.Process.Signal(syscall.SIGINT); err != nil {
			t.Fatal(err)
		}
		select {
		case err := <-p.exit:
			if err != nil {
				t.Fatalf("dev after SIGINT: %v, want exit 0\n%s", err, tail(p.logs.String(), 30))
			}
		case <-time.After(30 * time.Second):
			t.Fatalf("dev did not stop within 30s of SIGINT\n%s", tail(p.logs.String(), 30))
		}
	}
	stop(p)

	p = startProcess(t, bin, vars, args...)
	out = waitOutput(t, p, "invoicing dev is running")
	if !strings.Contains(out, "tenant demo: reused") || strings.Contains(out, "KEY=") || strings.Contains(out, "created the database") {
		t.Errorf("the second start did not reuse the data, or printed a key:\n%s", out)
	}
	if got := c.call("GET", "/v1/invoices/"+id, "", 200)["status"]; got != "paid" {
		t.Errorf("after a restart the invoice is %v, want paid", got)
	}
	stop(p)
}

// TestDevRefusesATakenPort: each address dev listens on, taken by another
// process, stops it at once with the variable or flag that moves it, before
// it touches the database (here one that cannot be reached).
func TestDevRefusesATakenPort(t *testing.T) {
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	addr := taken.Addr().String()
	for _, tc := range []struct {
		name string
		vars map[string]string
		args []string
	}{
		{"--smtp", nil, []string{"--smtp", addr}},
		{"--mail", nil, []string{"--mail", addr}},
		{"HTTP_ADDR", map[string]string{"HTTP_ADDR": addr}, nil},
		{"NATS_EMBEDDED_ADDR", map[string]string{"NATS_EMBEDDED_ADDR": addr}, nil},
		{"PPROF_ADDR", map[string]string{"PPROF_ADDR": addr}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			vars := map[string]string{"DATABASE_URL": "postgres://nobody@127.0.0.1:1/none?connect_timeout=1"}
			free := map[string]string{"HTTP_ADDR": freePort(t), "NATS_EMBEDDED_ADDR": freePort(t)}
			for k, v := range free {
				vars[k] = v
			}
			for k, v := range tc.vars {
				vars[k] = v
			}
			args := append([]string{"dev", "--smtp", freePort(t), "--mail", freePort(t)}, tc.args...)
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			err := run(ctx, args, env(vars), io.Discard)
			if err == nil || !strings.Contains(err.Error(), tc.name+" "+addr) || !strings.Contains(err.Error(), "address already in use") {
				t.Errorf("dev with %s taken: %v, want an error naming %s %s", tc.name, err, tc.name, addr)
			}
			if errors.Is(err, context.DeadlineExceeded) {
				t.Error("it waited for the database first")
			}
		})
	}
}

// TestDevMailRunsTheSinkAlone: `dev mail` serves what its SMTP address
// receives on its page, without a database, until ctx ends.
func TestDevMailRunsTheSinkAlone(t *testing.T) {
	smtpAddr, mail := freePort(t), freePort(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	out := &syncBuffer{}
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"dev", "mail", "--smtp", smtpAddr, "--mail", mail},
			env(map[string]string{"DATABASE_URL": "postgres://nobody@127.0.0.1:1/none"}), out)
	}()
	poll(t, 10*time.Second, "the sink's start line", func() (string, bool) {
		return out.String(), strings.Contains(out.String(), "mail sink: SMTP on "+smtpAddr)
	})
	c, err := smtp.Dial(smtpAddr)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.SendMail("billing@example.com", []string{"ada@example.com"}, strings.NewReader("Subject: Receipt for invoice INV-1\r\n\r\npaid\r\n")); err != nil {
		t.Fatal(err)
	}
	c.Close()
	if page := httpGet(t, "http://"+mail+"/"); !strings.Contains(page, "Receipt for invoice INV-1") {
		t.Errorf("the page lacks the message:\n%s", page)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("dev mail after its context ended: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("dev mail did not return within 10s of its context's end")
	}
}

// waitOutput returns p's output once it holds want, or fails the test
// with it if p exits first or after 60s.
func waitOutput(t *testing.T, p *process, want string) string {
	t.Helper()
	deadline := time.After(60 * time.Second)
	for {
		if out := p.logs.String(); strings.Contains(out, want) {
			return out
		}
		select {
		case err := <-p.exit:
			t.Fatalf("dev exited (%v) before printing %q:\n%s", err, want, tail(p.logs.String(), 40))
		case <-deadline:
			t.Fatalf("dev did not print %q within 60s:\n%s", want, tail(p.logs.String(), 40))
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// poll calls f until it reports true, and returns its string; it fails the
// test naming what after timeout.
func poll(t *testing.T, timeout time.Duration, what string, f func() (string, bool)) string {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		s, ok := f()
		if ok {
			return s
		}
		if time.Now().After(deadline) {
			t.Fatalf("no %s after %s:\n%s", what, timeout, s)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// httpGet returns the body of a GET of url, or fails the test.
func httpGet(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
