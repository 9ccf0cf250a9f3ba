package main

import (
	"context"
	"errors"
	"go/ast"
	"go/parser"
	"go/token"
	"os/exec"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// badEnv is an environment no command could start with: help and version
// must not read it.
var badEnv = env(map[string]string{"LOG_LEVEL": "loud", "RELAY_BATCH_SIZE": "0"})

// helpOf returns the output of `invoicing args...` run with badEnv, failing
// the test on an error.
func helpOf(t *testing.T, args ...string) string {
	t.Helper()
	var out strings.Builder
	if err := run(context.Background(), args, badEnv, &out); err != nil {
		t.Fatalf("invoicing %s: %v", strings.Join(args, " "), err)
	}
	return out.String()
}

// TestHelpIsPerCommand: `invoicing help COMMAND`, `COMMAND -h` and
// `COMMAND --help` print that command's own help (its forms and the
// variables it reads, with their defaults), not the general usage, and
// read no configuration.
func TestHelpIsPerCommand(t *testing.T) {
	general := helpOf(t, "help")
	for _, name := range []string{"COMMAND", "help env", "README.md"} {
		if !strings.Contains(general, name) {
			t.Errorf("invoicing help does not mention %q:\n%s", name, general)
		}
	}
	seen := map[string]string{}
	for _, c := range commands {
		got := helpOf(t, "help", c.Name)
		if got == general {
			t.Errorf("invoicing help %s prints the general usage", c.Name)
		}
		if other, dup := seen[got]; dup {
			t.Errorf("invoicing help %s prints the same as help %s", c.Name, other)
		}
		seen[got] = c.Name
		for _, s := range c.Synopsis {
			form, _, _ := strings.Cut(s, "\t")
			if !strings.Contains(got, "invoicing "+form+"\n") {
				t.Errorf("invoicing help %s lacks the form %q:\n%s", c.Name, form, got)
			}
		}
		for _, v := range c.Env {
			if !strings.Contains(got, "  "+v+" (") {
				t.Errorf("invoicing help %s does not name %s with its default:\n%s", c.Name, v, got)
			}
		}
		if c.Name == "help" {
			continue
		}
		for _, flag := range []string{"-h", "--help"} {
			if alt := helpOf(t, c.Name, flag); alt != got {
				t.Errorf("invoicing %s %s differs from invoicing help %s:\n%s", c.Name, flag, c.Name, alt)
			}
		}
	}
	if got := helpOf(t, "migrate", "down", "-h"); got != helpOf(t, "help", "migrate") {
		t.Errorf("invoicing migrate down -h is not migrate's help:\n%s", got)
	}
	serve := helpOf(t, "serve", "--help")
	for _, want := range []string{"HTTP_ADDR (:8080)", "DATABASE_URL (postgres://", "NATS_URL (", "README.md"} {
		if !strings.Contains(serve, want) {
			t.Errorf("invoicing serve --help lacks %q:\n%s", want, serve)
		}
	}
	all := helpOf(t, "help", "env")
	for _, v := range envVars {
		if !strings.Contains(all, "  "+v.Name+" (") {
			t.Errorf("invoicing help env lacks %s", v.Name)
		}
	}
}

// TestHelpNamesOnlyVariablesTheBinaryReads keeps the commands' variable
// lists within envVars, so a renamed variable cannot linger in a help.
func TestHelpNamesOnlyVariablesTheBinaryReads(t *testing.T) {
	for _, c := range commands {
		for _, name := range c.Env {
			if !slices.ContainsFunc(envVars, func(v envVar) bool { return v.Name == name }) {
				t.Errorf("help of %s names %s, which envVars does not have", c.Name, name)
			}
		}
	}
}

func TestHelpOfAnUnknownTopicIsAUsageError(t *testing.T) {
	for _, args := range [][]string{{"help", "frobnicate"}, {"help", "serve", "relay"}, {"version", "extra"}} {
		err := run(context.Background(), args, badEnv, &strings.Builder{})
		if !errors.Is(err, errUsage) {
			t.Errorf("invoicing %s: %v, want a usage error", strings.Join(args, " "), err)
		}
	}
}

func TestVersionPrintsTheBuildInfo(t *testing.T) {
	var out strings.Builder
	err := printVersion(&out, &debug.BuildInfo{
		GoVersion: "go1.26.8",
		Main:      debug.Module{Path: "github.com/invoicing-dev/invoicing", Version: "v1.4.0"},
		Settings: []debug.BuildSetting{
			{Key: "vcs.revision", Value: "3b3295f1097df38626a5a7a0cf75ac6de91b826e"},
			{Key: "vcs.time", Value: "2026-11-30T09:31:50Z"},
			{Key: "vcs.modified", Value: "true"},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	want := `invoicing v1.4.0
  module    github.com/invoicing-dev/invoicing
  revision  3b3295f1097df38626a5a7a0cf75ac6de91b826e
  time      2026-11-30T09:31:50Z
  modified  true
  go        go1.26.8
`
	if out.String() != want {
		t.Errorf("printVersion:\n%s\nwant:\n%s", out.String(), want)
	}
	// The test binary has build information, but no VCS stamp.
	got := helpOf(t, "version")
	if !strings.HasPrefix(got, "invoicing ") || !strings.Contains(got, "  go        go1.") || !strings.Contains(got, "revision  unknown") {
		t.Errorf("invoicing version in a test binary:\n%s", got)
	}
}

// TestVersionOfTheBuiltBinaryNamesItsRevision builds the binary with VCS
// stamping and checks `invoicing version` against git. Where the go command
// leaves the stamp out whatever the flag (it does in some checkouts), the
// binary must say so rather than print a wrong revision.
func TestVersionOfTheBuiltBinaryNamesItsRevision(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	head, err := exec.Command("git", "rev-parse", "HEAD").Output()
	if err != nil {
		t.Fatalf("git rev-parse HEAD (git is needed for this test): %v", err)
	}
	bin := t.TempDir() + "/invoicing"
	if out, err := exec.Command("go", "build", "-buildvcs=true", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	out, err := exec.Command(bin, "version").Output()
	if err != nil {
		t.Fatalf("invoicing version: %v", err)
	}
	got := string(out)
	if !strings.Contains(got, "  module    github.com/invoicing-dev/invoicing\n") {
		t.Errorf("invoicing version does not name the module:\n%s", got)
	}
	if strings.Contains(got, "revision  unknown") {
		t.Logf("the go command left out the VCS stamp here; invoicing version says so:\n%s", got)
		return
	}
	if !strings.Contains(got, "  revision  "+strings.TrimSpace(string(head))+"\n") || !strings.Contains(got, "  modified  ") {
		t.Errorf("invoicing version does not name HEAD %s:\n%s", head, got)
	}
}

// TestEveryCommandHasHelp: every command runCommand dispatches (its `case`
// labels in main.go) has an entry in commands, so none is missing from the
// usage or without its own help.
func TestEveryCommandHasHelp(t *testing.T) {
	f, err := parser.ParseFile(token.NewFileSet(), "main.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	ast.Inspect(f, func(n ast.Node) bool {
		if fd, ok := n.(*ast.FuncDecl); ok && fd.Name.Name != "runCommand" {
			return false
		}
		if cc, ok := n.(*ast.CaseClause); ok {
			for _, e := range cc.List {
				if lit, ok := e.(*ast.BasicLit); ok && lit.Kind == token.STRING {
					name, _ := strconv.Unquote(lit.Value)
					names = append(names, name)
				}
			}
		}
		return true
	})
	if len(names) < 6 {
		t.Fatalf("found only %v in runCommand's cases; the test's reading of main.go is wrong", names)
	}
	for _, name := range names {
		if _, ok := helps.Find(name); !ok {
			t.Errorf("runCommand runs %q, which has no entry in commands (help.go): add its forms, what it does and its variables", name)
		}
	}
}

// TestHelpNamesTheVariablesACommandReads: a command's help lists the
// variables its code reads, such as the embedded NATS server's for serve
// and relay, and the tracing ones for every process that traces.
func TestHelpNamesTheVariablesACommandReads(t *testing.T) {
	otel := []string{"OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_EXPORTER_OTLP_PROTOCOL",
		"OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "OTEL_TRACES_EXPORTER"}
	for name, vars := range map[string][]string{
		// startProcessBase: StartEmbedded, startTracing; with WEBHOOKS_ENABLED
		// the webhook API's store (newNotify) and its URL policy.
		// Its endpoint limit too.
		"serve": append([]string{"NATS_EMBEDDED_ADDR", "NATS_EMBEDDED_DIR", "NOTIFY_DATABASE_URL", "WEBHOOK_ALLOW_PRIVATE_URLS", "WEBHOOK_MAX_ENDPOINTS"}, otel...),
		"relay": append([]string{"NATS_EMBEDDED_ADDR", "NATS_EMBEDDED_DIR"}, otel...),
		// ClientURL, startTracing.
		"notify": append([]string{"NATS_EMBEDDED_ADDR", "WEBHOOK_TENANT_CONCURRENCY", "WEBHOOK_MAX_ENDPOINTS"}, otel...),
	} {
		c, _ := helps.Find(name)
		for _, v := range vars {
			if !slices.Contains(c.Env, v) {
				t.Errorf("invoicing help %s does not list %s, which it reads", name, v)
			}
		}
	}
}
