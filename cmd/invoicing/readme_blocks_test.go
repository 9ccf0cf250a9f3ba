package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"go/format"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/invoicing-dev/invoicing/internal/pgtest"
)

// readmeBlock is one fenced code block of README.md.
type readmeBlock struct {
	line int    // of the opening fence
	info string // the fence's info string: "sh", "sh norun", "go", ...
	text string
}

// readmeBlocks returns the fenced code blocks of the Markdown in md, indented
// ones (in a list) included, their lines unindented as the fence is.
func readmeBlocks(md string) ([]readmeBlock, error) {
	var (
		blocks []readmeBlock
		open   *readmeBlock
		indent string
	)
	sc := bufio.NewScanner(strings.NewReader(md))
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		trimmed := strings.TrimLeft(line, " ")
		switch {
		case open == nil && strings.HasPrefix(trimmed, "```"):
			indent = line[:len(line)-len(trimmed)]
			open = &readmeBlock{line: n, info: strings.TrimSpace(strings.TrimPrefix(trimmed, "```"))}
		case open != nil && trimmed == "```":
			blocks = append(blocks, *open)
			open = nil
		case open != nil:
			open.text += strings.TrimPrefix(line, indent) + "\n"
		}
	}
	if open != nil {
		return nil, fmt.Errorf("the block opened on line %d is never closed", open.line)
	}
	return blocks, sc.Err()
}

// shellLanguages are the info strings of blocks the test runs; a block
// marked "norun" after the language is left out.
var shellLanguages = map[string]bool{"sh": true, "bash": true, "console": true, "shell": true}

// norunAllowed are the only commands a norun block may hold: compose, which
// no engine here runs (.ci/run validates docker-compose.yml instead), go
// test (with variables before it), which would run this test again, and
// `go run ./cmd/invoicing dev`, which the blocks run as the built binary
// (go run would not pass on the signal that stops it).
var norunAllowed = regexp.MustCompile(`^(docker compose |([A-Z_]+=\S* )*go test |go run \./cmd/invoicing dev )`)

// TestREADMEShellBlocksAreMarked keeps the convention of README.md's shell
// blocks: each runs in TestREADMEBlocksRun unless marked `sh norun`, which
// only blocks of compose and go test commands may be.
func TestREADMEShellBlocksAreMarked(t *testing.T) {
	blocks := readREADMEBlocks(t)
	runnable := 0
	for _, b := range blocks {
		lang, mark, _ := strings.Cut(b.info, " ")
		if !shellLanguages[lang] {
			continue
		}
		switch strings.TrimSpace(mark) {
		case "":
			runnable++
		case "norun":
			for _, l := range strings.Split(strings.TrimSpace(b.text), "\n") {
				if !norunAllowed.MatchString(l) {
					t.Errorf("README.md:%d: a `%s` block may hold only docker compose, go test and go run ./cmd/invoicing dev commands; %q must run (take the mark off and make it run)", b.line, b.info, l)
				}
			}
		default:
			t.Errorf("README.md:%d: info string %q: after the language only `norun` is known", b.line, b.info)
		}
	}
	if runnable == 0 {
		t.Fatal("README.md has no runnable shell block; the parser is wrong")
	}
}

// TestREADMEWebhookReceiverIsTheTool keeps the receiver the README shows
// equal to tools/webhook-receiver, which its webhook block builds and runs.
func TestREADMEWebhookReceiverIsTheTool(t *testing.T) {
	var shown []byte
	for _, b := range readREADMEBlocks(t) {
		if b.info == "go" && strings.Contains(b.text, `"POST /hook"`) {
			var err error
			if shown, err = format.Source([]byte(b.text)); err != nil {
				t.Fatalf("README.md:%d: the receiver does not parse: %v", b.line, err)
			}
		}
	}
	tool, err := os.ReadFile("../../tools/webhook-receiver/main.go")
	if err != nil {
		t.Fatal(err)
	}
	if shown == nil || string(shown) != string(tool) {
		t.Errorf("the README's receiver, gofmt-ed, differs from tools/webhook-receiver/main.go: change both. README's:\n%s", shown)
	}
}

func readREADMEBlocks(t *testing.T) []readmeBlock {
	t.Helper()
	md, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	blocks, err := readmeBlocks(string(md))
	if err != nil {
		t.Fatalf("README.md: %v", err)
	}
	return blocks
}

// readmeShows are what the README's examples promise to print; the test
// fails if their output lacks one (case-insensitively).
var readmeShows = []string{
	`invoicing dev is running`,  // dev's banner, which the quickstart prints
	`Receipt for invoice`,       // an email on the mail sink's page
	`"status": "paid"`,          // the walk-through pays its invoice
	`Idempotent-Replayed: true`, // the retry with the same Idempotency-Key
	`"status": "succeeded"`,     // the webhook delivery
	`invoicing.invoice.paid`,    // the nats CLI reads the paid events
	`exhausted`,                 // the overdue invoice's reminder process ran its schedule
	`reminder for INV-`,         // and its email is on the mail sink's page
}

// TestREADMEBlocksRun runs every runnable shell block of README.md verbatim,
// in order, as one `bash -e -o pipefail` script from the repository root: it
// builds the binary, runs `dev` and pays an invoice there, then serves with
// NATS_URL=embedded, walks through the API, runs notify with the mail sink
// and a webhook receiver, installs the nats CLI (into a GOBIN of its own, on
// PATH) and reads the stream. Everything has its own place: a database that
// does not exist yet (dev creates it), the embedded NATS and every address on
// free ports (the blocks' variables with defaults), TMPDIR for logs; and the
// defaults themselves are taken (4222 is, on a machine running its own NATS),
// so a block that forgets a variable fails. Whatever the blocks leave
// running is stopped (their process group) when the test ends. It takes
// about a minute, minutes when the nats CLI is built for the first time: it
// runs with INVOICING_README=1 (.ci/run).
func TestREADMEBlocksRun(t *testing.T) {
	if os.Getenv("INVOICING_README") != "1" {
		t.Skip("runs README.md's shell blocks (half a minute or more): set INVOICING_README=1 (.ci/run does)")
	}
	for _, tool := range []string{"bash", "curl", "jq", "psql", "createdb", "go"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("the README's blocks need %s on the PATH: %v", tool, err)
		}
	}
	var script strings.Builder
	for _, b := range readREADMEBlocks(t) {
		if lang, mark, _ := strings.Cut(b.info, " "); shellLanguages[lang] && mark == "" {
			fmt.Fprintf(&script, "printf '\\n### README.md:%d\\n'\n%s", b.line, b.text)
		}
	}
	script.WriteString("printf '\\n### README.md: every block ran\\n'\n")

	tmp := t.TempDir()
	gobin := filepath.Join(tmp, "gobin")
	takeDefaults(t)
	api, notifyAddr, natsAddr, receiver, smtp, mail := freePort(t), freePort(t), freePort(t), freePort(t), freePort(t), freePort(t)
	home := pgtest.NewURL(t)
	dbURL, dbName := missingURL(t, home)
	// Registered first, so it runs last: after the blocks' processes stopped.
	t.Cleanup(func() { execSQL(t, home, "DROP DATABASE IF EXISTS "+pgx.Identifier{dbName}.Sanitize()+" WITH (FORCE)") })
	vars := map[string]string{
		"DATABASE_URL":       dbURL,
		"HTTP_ADDR":          api,
		"INVOICING_URL":      "http://" + api,
		"NOTIFY_ADDR":        notifyAddr,
		"NATS_URL":           "nats://" + natsAddr, // serve's line says embedded; notify and the nats CLI read this
		"NATS_EMBEDDED_ADDR": natsAddr,
		"NATS_EMBEDDED_DIR":  filepath.Join(tmp, "nats"),
		"RECEIVER_ADDR":      receiver,
		"DEV_SMTP_ADDR":      smtp,
		"DEV_MAIL_ADDR":      mail,
		"TMPDIR":             tmp,
		"GOBIN":              gobin,
		"PATH":               gobin + string(os.PathListSeparator) + os.Getenv("PATH"),
	}
	outPath := filepath.Join(tmp, "readme.out")
	out, err := os.Create(outPath)
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", "-e", "-o", "pipefail", "-c", script.String())
	cmd.Dir = "../.."
	cmd.Env = readmeEnv(vars)
	cmd.Stdout, cmd.Stderr = out, out // a file: background processes may hold it past bash's exit
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	// The script's own process group: serve, notify and the receiver it
	// leaves running are stopped with it, and nothing else.
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { stopGroup(t, cmd.Process.Pid) }) // before the database is dropped
	start := time.Now()
	runErr := cmd.Wait()
	t.Logf("README.md's blocks ran in %s", time.Since(start).Round(time.Second))

	b, _ := os.ReadFile(outPath)
	output := string(b)
	report := func() string {
		logs := ""
		for _, name := range []string{"dev.log", "invoicing.log", "notify.log", "mail.log"} {
			l, _ := os.ReadFile(filepath.Join(tmp, name))
			logs += fmt.Sprintf("\n--- %s (last 40 lines):\n%s", name, tail(string(l), 40))
		}
		return fmt.Sprintf("output (last 80 lines; `### README.md:N` opens the block on line N):\n%s%s", tail(output, 80), logs)
	}
	if runErr != nil {
		t.Fatalf("README.md's blocks failed: %v (under `bash -e -o pipefail`, the last block named below stopped at a failing command)\n%s", runErr, report())
	}
	for _, want := range readmeShows {
		if !strings.Contains(strings.ToLower(output), strings.ToLower(want)) {
			t.Errorf("README.md's blocks never printed %q", want)
		}
	}
	if t.Failed() || testing.Verbose() {
		t.Log(report())
	}
}

// readmeEnv returns this process's environment without the variables the
// binary reads (a developer's LOG_LEVEL or RELAY_ENABLED must not change
// the README's run) and without those vars sets, then vars.
func readmeEnv(vars map[string]string) []string {
	drop := map[string]bool{}
	for _, v := range envVars {
		drop[v.Name] = true
	}
	var e []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if !drop[k] && vars[k] == "" {
			e = append(e, kv)
		}
	}
	for k, v := range vars {
		e = append(e, k+"="+v)
	}
	return e
}

// stopGroup stops the processes of group pgid: SIGTERM (serve and notify
// shut down cleanly), then SIGKILL to what is left after 20 s.
func stopGroup(t *testing.T, pgid int) {
	if err := syscall.Kill(-pgid, syscall.SIGTERM); errors.Is(err, syscall.ESRCH) {
		return
	}
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if errors.Is(syscall.Kill(-pgid, 0), syscall.ESRCH) {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Errorf("processes the README started did not stop within 20s of SIGTERM; killing them")
	_ = syscall.Kill(-pgid, syscall.SIGKILL)
}

// readmeDefaults are the default addresses of the README's blocks (see its
// "Running beside other services").
var readmeDefaults = []string{"127.0.0.1:8080", "127.0.0.1:8081", "127.0.0.1:4222", "127.0.0.1:9000", "127.0.0.1:1025", "127.0.0.1:8025"}

// takeDefaults listens, until the test ends, on each of readmeDefaults that
// is free: a block that falls back on a default then fails, as it would on a
// machine where another service holds it. One already taken is left to its
// holder (4222 is the machine's NATS here).
func takeDefaults(t *testing.T) {
	for _, addr := range readmeDefaults {
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			t.Logf("%s is taken already: %v", addr, err)
			continue
		}
		t.Cleanup(func() { ln.Close() })
	}
}
