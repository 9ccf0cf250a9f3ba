package internal_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"go/ast"
	"go/importer"
	"go/parser"
	"go/token"
	"go/types"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// The dependency rules of the service. Deps are transitive: a package may not
// reach a forbidden package through another one either. Tests are exempt
// (domain tests use pgregory.net/rapid).
const (
	uuidPath = "github.com/google/uuid"
	ssrfPath = "code.dny.dev/ssrf"
)

// idnaPaths are golang.org/x/net/idna and the packages it imports: the
// domain validates email domains with it (a pure function, no I/O), so
// what builds on the domain reaches them too.
var idnaPaths = []string{
	"golang.org/x/net/idna", "golang.org/x/text/secure/bidirule", "golang.org/x/text/transform",
	"golang.org/x/text/unicode/bidi", "golang.org/x/text/unicode/norm",
}

// idna reports whether dep is one of idnaPaths.
func idna(dep string) bool { return slices.Contains(idnaPaths, dep) }

// pkg is the part of a `go list -json` record the rules read.
type pkg struct {
	ImportPath string
	Standard   bool
	GoFiles    []string
	Imports    []string
	Deps       []string
	Error      *struct{ Err string }
}

// rule forbids packages under one of scopes (module-relative), except those
// under one of except, to depend on a package for which allowed returns false.
type rule struct {
	name    string
	scopes  []string
	except  []string
	allowed func(mod, dep string, std bool) bool
}

// invoicingAdapters are the invoicing context's adapters and decorators
// (module-relative), with the test servers that stand in for theirs.
var invoicingAdapters = []string{
	"internal/invoicing/invoicingpg", "internal/pgtest", "internal/invoicing/invoicingnats", "internal/natstest",
	"internal/invoicing/metrics", "internal/invoicing/tracing",
}

// compositionRoots may depend on every package: they wire the service.
var compositionRoots = []string{"cmd/invoicing"}

var rules = []rule{
	{
		name:   "the service's error type depends only on the standard library",
		scopes: []string{"internal/failure"},
		allowed: func(_, _ string, std bool) bool {
			return std
		},
	},
	{
		// The kernel is what the aggregates share; it knows none of them.
		name:   "the kernel depends only on the standard library, uuid and the error type",
		scopes: []string{"internal/kernel"},
		allowed: func(mod, dep string, std bool) bool {
			return std || dep == uuidPath || under(dep, mod+"/internal/failure")
		},
	},
	{
		name:   "the domain depends only on the standard library, uuid, IDNA, the error type and the kernel",
		scopes: []string{"internal/invoicing/domain"},
		allowed: func(mod, dep string, std bool) bool {
			return std || dep == uuidPath || idna(dep) || under(dep, mod+"/internal/invoicing/domain") || under(dep, mod+"/internal/failure") ||
				under(dep, mod+"/internal/kernel")
		},
	},
	{
		name:   "the app depends only on the standard library, uuid, IDNA, the error type, the kernel, the outbox record and the domain",
		scopes: []string{"internal/invoicing/app"},
		allowed: func(mod, dep string, std bool) bool {
			return std || dep == uuidPath || idna(dep) || under(dep, mod+"/internal/invoicing/domain") || under(dep, mod+"/internal/invoicing/app") ||
				under(dep, mod+"/internal/failure") || under(dep, mod+"/internal/kernel") || under(dep, mod+"/internal/invoicing/outbox")
		},
	},
	{
		name:   "the outbox record depends only on the standard library, uuid and the kernel",
		scopes: []string{"internal/invoicing/outbox"},
		allowed: func(mod, dep string, std bool) bool {
			return std || dep == uuidPath || under(dep, mod+"/internal/kernel") || under(dep, mod+"/internal/failure")
		},
	},
	{
		// A wire format of the outbox record: it knows no use case.
		name:   "the CloudEvent envelope depends only on the outbox record and what it depends on",
		scopes: []string{"internal/invoicing/cloudevent"},
		allowed: func(mod, dep string, std bool) bool {
			return std || dep == uuidPath || under(dep, mod+"/internal/invoicing/outbox") || under(dep, mod+"/internal/kernel") ||
				under(dep, mod+"/internal/failure")
		},
	},
	{
		// The relay defines the ports it needs (Store, Publisher, Metrics);
		// PostgreSQL and NATS implement them.
		name:   "the relay depends only on the app, the CloudEvent envelope and what they depend on",
		scopes: []string{"internal/invoicing/relay"},
		except: []string{"internal/invoicing/relay/relaytest"},
		allowed: func(mod, dep string, std bool) bool {
			return std || dep == uuidPath || idna(dep) || under(dep, mod+"/internal/invoicing/relay") || under(dep, mod+"/internal/invoicing/cloudevent") ||
				under(dep, mod+"/internal/invoicing/app") || under(dep, mod+"/internal/invoicing/domain") || under(dep, mod+"/internal/failure") ||
				under(dep, mod+"/internal/kernel") || under(dep, mod+"/internal/invoicing/outbox")
		},
	},
	{
		name:   "relaytest reads events with the CloudEvents SDK only",
		scopes: []string{"internal/invoicing/relay/relaytest"},
		allowed: func(mod, dep string, std bool) bool {
			return std || !under(dep, mod)
		},
	},
	{
		// The event feed serves cloudevent's bytes, as the relay publishes them.
		name:   "invoicinghttp reaches the service through the app only: no relay, no adapter, no notification but its webhook package",
		scopes: []string{"internal/invoicing/invoicinghttp"},
		allowed: func(mod, dep string, _ bool) bool {
			return !under(dep, mod+"/internal/invoicing/relay") &&
				!slices.ContainsFunc(invoicingAdapters, func(a string) bool { return under(dep, mod+"/"+a) }) &&
				(!under(dep, mod+"/internal/notification") || under(dep, mod+"/internal/notification/webhook"))
		},
	},
	{
		// pgtest migrates through invoicingpg: it is the same adapter's.
		name:    "adapters do not depend on one another, nor on invoicinghttp",
		scopes:  []string{"internal/invoicing/invoicingpg", "internal/pgtest"},
		allowed: forbid("internal/invoicing/invoicingnats", "internal/natstest", "internal/invoicing/metrics", "internal/invoicing/invoicinghttp", "internal/notification"),
	},
	{
		name:    "adapters do not depend on one another, nor on invoicinghttp",
		scopes:  []string{"internal/invoicing/invoicingnats", "internal/natstest"},
		allowed: forbid("internal/invoicing/invoicingpg", "internal/pgtest", "internal/invoicing/metrics", "internal/invoicing/invoicinghttp", "internal/notification"),
	},
	{
		// Decorators of the app's and the relay's ports, wired by main.
		name:    "tracing decorates ports: it depends on no adapter, nor on invoicinghttp or the notification context",
		scopes:  []string{"internal/invoicing/tracing"},
		allowed: forbid("internal/invoicing/invoicingpg", "internal/pgtest", "internal/invoicing/invoicingnats", "internal/natstest", "internal/invoicing/metrics", "internal/invoicing/invoicinghttp", "internal/notification"),
	},
	{
		name:    "adapters do not depend on one another, nor on invoicinghttp",
		scopes:  []string{"internal/invoicing/metrics"},
		allowed: forbid("internal/invoicing/invoicingpg", "internal/pgtest", "internal/invoicing/invoicingnats", "internal/natstest", "internal/invoicing/invoicinghttp", "internal/notification"),
	},
	{
		name:   "embedded documents and migrations are data",
		scopes: []string{"api", "internal/invoicing/migrations", "internal/notification/migrations"},
		allowed: func(_, _ string, std bool) bool {
			return std
		},
	},
	{
		// The fault suite, the load tool, the benchmarks and the tools talk
		// to the service over the network only, as a client would.
		name:   "clients and tools import no package of the service",
		scopes: []string{"internal/faulttest", "cmd/invoicing-load", "bench", "tools"},
		allowed: func(mod, dep string, _ bool) bool {
			return !under(dep, mod+"/internal") && !under(dep, mod+"/cmd")
		},
	},
	{
		// Measurements leave through ports (relay.Metrics, invoicinghttp.RequestObserver).
		name: "only the metrics adapter and main know Prometheus",
		scopes: []string{
			"internal/invoicing/domain", "internal/invoicing/app", "internal/invoicing/relay", "internal/invoicing/invoicinghttp",
			"internal/invoicing/invoicingpg", "internal/pgtest", "internal/invoicing/invoicingnats", "internal/natstest", "internal/notification",
		},
		allowed: func(_, dep string, _ bool) bool {
			return !under(dep, "github.com/prometheus")
		},
	},
	{
		// The notification context knows invoicing only through the
		// published events (api/asyncapi.yaml), as another team's service.
		name:   "the notification context knows nothing of the invoicing packages",
		scopes: []string{"internal/notification"},
		allowed: func(mod, dep string, _ bool) bool {
			return !under(dep, mod+"/internal") || under(dep, mod+"/internal/notification")
		},
	},
	{
		// The webhook API is served by the invoicing HTTP adapter through
		// a port (invoicinghttp.Webhooks) in the context's own terms; the
		// adapters behind it are wired by main.
		name:   "the HTTP adapter knows the notification context only through its webhook package",
		scopes: []string{"internal/invoicing/invoicinghttp"},
		allowed: func(mod, dep string, _ bool) bool {
			return !under(dep, mod+"/internal/notification") || dep == mod+"/internal/notification/webhook"
		},
	},
	{
		// The special-purpose address registries are kept by a library
		// generated from IANA's, rather than by hand.
		name:    "the webhook package depends only on the standard library and the SSRF address registry",
		scopes:  []string{"internal/notification/webhook"},
		allowed: func(_, dep string, std bool) bool { return std || dep == ssrfPath },
	},
	{
		name: "adapters never depend on cmd",
		scopes: append(slices.Clone(invoicingAdapters), "internal/invoicing/invoicinghttp",
			"internal/notification/notifypg", "internal/notification/notifynats", "internal/notification/notifysmtp"),
		allowed: func(mod, dep string, _ bool) bool {
			return !under(dep, mod+"/cmd")
		},
	},
}

// forbid returns a rule's allowed function that refuses the packages under
// dirs (module-relative) and accepts every other.
func forbid(dirs ...string) func(mod, dep string, std bool) bool {
	return func(mod, dep string, _ bool) bool {
		return !slices.ContainsFunc(dirs, func(d string) bool { return under(dep, mod+"/"+d) })
	}
}

// covers reports whether r applies to the package path of module mod.
func (r rule) covers(mod, path string) bool {
	in := func(s string) bool { return under(path, mod+"/"+s) }
	return slices.ContainsFunc(r.scopes, in) && !slices.ContainsFunc(r.except, in)
}

// uncovered returns the packages of module mod that no rule applies to,
// composition roots and packages with test files only aside.
func uncovered(mod string, pkgs map[string]pkg) []string {
	var out []string
	for _, p := range sortedValues(pkgs) {
		if !under(p.ImportPath, mod) || len(p.GoFiles) == 0 ||
			slices.ContainsFunc(compositionRoots, func(c string) bool { return p.ImportPath == mod+"/"+c }) {
			continue
		}
		if !slices.ContainsFunc(rules, func(r rule) bool { return r.covers(mod, p.ImportPath) }) {
			out = append(out, p.ImportPath)
		}
	}
	return out
}

// under reports whether path is dir or inside it.
func under(path, dir string) bool {
	return path == dir || strings.HasPrefix(path, dir+"/")
}

// violations returns one line per forbidden dependency of a package of module
// mod, naming the direct import that brings it in. Only the first forbidden
// package on each path is named, not everything it drags in after it.
func violations(mod string, pkgs map[string]pkg) []string {
	var out []string
	for _, p := range sortedValues(pkgs) {
		for _, r := range rules {
			if !r.covers(mod, p.ImportPath) {
				continue
			}
			var bad []string
			for _, dep := range p.Deps {
				if !r.allowed(mod, dep, isStandard(pkgs, dep)) {
					bad = append(bad, dep)
				}
			}
			for _, dep := range bad {
				if slices.ContainsFunc(bad, func(b string) bool { return slices.Contains(pkgs[b].Deps, dep) }) {
					continue // reported through b
				}
				out = append(out, p.ImportPath+" depends on "+dep+via(pkgs, p, dep)+" ("+r.name+")")
			}
		}
	}
	return out
}

// isStandard uses go list's verdict, or, for a package it could not load, the
// rule that standard import paths have no dot in their first element.
func isStandard(pkgs map[string]pkg, path string) bool {
	if p, ok := pkgs[path]; ok {
		return p.Standard
	}
	first, _, _ := strings.Cut(path, "/")
	return !strings.Contains(first, ".")
}

// via names the direct import of p through which it reaches dep, if indirect.
func via(pkgs map[string]pkg, p pkg, dep string) string {
	if slices.Contains(p.Imports, dep) {
		return ""
	}
	for _, imp := range p.Imports {
		if slices.Contains(pkgs[imp].Deps, dep) {
			return " via " + imp
		}
	}
	return ""
}

func sortedValues(pkgs map[string]pkg) []pkg {
	out := make([]pkg, 0, len(pkgs))
	for _, p := range pkgs {
		out = append(out, p)
	}
	slices.SortFunc(out, func(a, b pkg) int { return strings.Compare(a.ImportPath, b.ImportPath) })
	return out
}

// goList runs `go list -e -deps -json ./...` in the module containing this
// test and returns the module path and every package listed, by import path.
func goList(t *testing.T) (string, map[string]pkg) {
	t.Helper()
	run := func(args ...string) []byte {
		cmd := exec.Command("go", args...)
		cmd.Dir = ".." // the module root: this test lives in internal/
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("go %s: %v\n%s", strings.Join(args, " "), err, stderr.Bytes())
		}
		return out
	}
	mod := strings.TrimSpace(string(run("list", "-m")))
	pkgs := map[string]pkg{}
	dec := json.NewDecoder(bytes.NewReader(run("list", "-e", "-deps", "-json", "./...")))
	for {
		var p pkg
		if err := dec.Decode(&p); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatalf("decoding go list output: %v", err)
		}
		if p.Error != nil && under(p.ImportPath, mod) {
			// Work in progress elsewhere; its imports may be incomplete.
			t.Logf("package %s does not load: %s", p.ImportPath, p.Error.Err)
		}
		pkgs[p.ImportPath] = p
	}
	return mod, pkgs
}

func TestDependencyDirection(t *testing.T) {
	mod, pkgs := goList(t)
	if _, ok := pkgs[mod+"/internal/invoicing/domain/invoice"]; !ok {
		t.Fatalf("go list did not list %s/internal/invoicing/domain/invoice; the rules would check nothing", mod)
	}
	for _, v := range violations(mod, pkgs) {
		t.Error(v)
	}
	for _, p := range uncovered(mod, pkgs) {
		t.Errorf("%s: no dependency rule covers this package; add one to rules", p)
	}
}

// TestDependencyRulesCanFail checks the checker on a made-up module that
// breaks every rule, so TestDependencyDirection cannot pass vacuously.
func TestDependencyRulesCanFail(t *testing.T) {
	const mod = "example.com/svc"
	pkgs := map[string]pkg{}
	add := func(path string, std bool, imports []string, deps ...string) {
		pkgs[path] = pkg{ImportPath: path, Standard: std, Imports: imports, Deps: deps}
	}
	add("context", true, nil)
	add("net/http", true, []string{"context"}, "context")
	add(uuidPath, false, nil)
	add("github.com/jackc/pgx/v5", false, []string{"context"}, "context")
	add(mod+"/internal/invoicing/domain/invoice", false, []string{uuidPath, "net/http", "github.com/jackc/pgx/v5"},
		uuidPath, "net/http", "context", "github.com/jackc/pgx/v5")
	add(mod+"/internal/invoicing/invoicingpg", false, []string{mod + "/cmd/svc", "github.com/jackc/pgx/v5"},
		mod+"/cmd/svc", "github.com/jackc/pgx/v5", "context")
	add(mod+"/internal/invoicing/app", false, []string{mod + "/internal/invoicing/domain/invoice", mod + "/internal/invoicing/invoicingpg"},
		mod+"/internal/invoicing/domain/invoice", mod+"/internal/invoicing/invoicingpg", mod+"/cmd/svc", uuidPath, "context", "net/http", "github.com/jackc/pgx/v5")
	add(mod+"/internal/invoicing/invoicinghttp", false, []string{mod + "/internal/invoicing/app", mod + "/internal/invoicing/relay"},
		mod+"/internal/invoicing/app", mod+"/internal/invoicing/relay", mod+"/internal/invoicing/domain/invoice", mod+"/internal/invoicing/invoicingpg", mod+"/cmd/svc", uuidPath, "context", "github.com/jackc/pgx/v5",
		"github.com/prometheus/client_golang/prometheus")
	add(mod+"/cmd/svc", false, nil)
	add("github.com/prometheus/client_golang/prometheus", false, nil)
	add(mod+"/internal/invoicing/relay", false, []string{"github.com/prometheus/client_golang/prometheus"}, "github.com/prometheus/client_golang/prometheus")
	add(mod+"/internal/newthing", false, nil)
	add(mod+"/internal/invoicing/outbox", false, nil)
	add(mod+"/internal/invoicing/cloudevent", false, []string{mod + "/internal/invoicing/outbox", mod + "/internal/invoicing/app"},
		mod+"/internal/invoicing/outbox", mod+"/internal/invoicing/app", mod+"/internal/invoicing/domain/invoice", mod+"/internal/invoicing/invoicingpg",
		mod+"/cmd/svc", uuidPath, "context", "net/http", "github.com/jackc/pgx/v5")
	add(mod+"/internal/kernel", false, []string{mod + "/internal/invoicing/domain/invoice"},
		mod+"/internal/invoicing/domain/invoice", uuidPath, "net/http", "context", "github.com/jackc/pgx/v5")
	add(mod+"/internal/notification/notifypg", false, []string{mod + "/internal/invoicing/invoicingpg"},
		mod+"/internal/invoicing/invoicingpg", mod+"/cmd/svc", "github.com/jackc/pgx/v5", "context")
	add(mod+"/internal/notification/webhook", false, []string{"github.com/jackc/pgx/v5"}, "github.com/jackc/pgx/v5", "context")
	add(mod+"/internal/invoicing/invoicinghttp/webhooks", false, []string{mod + "/internal/notification/notifypg"},
		mod+"/internal/notification/notifypg", mod+"/internal/invoicing/invoicingpg", mod+"/cmd/svc", "github.com/jackc/pgx/v5", "context")

	got := violations(mod, pkgs)
	want := []string{
		mod + "/internal/invoicing/app depends on " + mod + "/internal/invoicing/invoicingpg (the app depends only on the standard library, uuid, IDNA, the error type, the kernel, the outbox record and the domain)",
		mod + "/internal/invoicing/cloudevent depends on " + mod + "/internal/invoicing/app (the CloudEvent envelope depends only on the outbox record and what it depends on)",
		mod + "/internal/invoicing/domain/invoice depends on github.com/jackc/pgx/v5 (the domain depends only on the standard library, uuid, IDNA, the error type and the kernel)",
		mod + "/internal/invoicing/invoicinghttp depends on " + mod + "/internal/invoicing/relay (invoicinghttp reaches the service through the app only: no relay, no adapter, no notification but its webhook package)",
		mod + "/internal/invoicing/invoicinghttp depends on " + mod + "/internal/invoicing/invoicingpg via " + mod + "/internal/invoicing/app (invoicinghttp reaches the service through the app only: no relay, no adapter, no notification but its webhook package)",
		mod + "/internal/invoicing/invoicinghttp depends on github.com/prometheus/client_golang/prometheus via " + mod + "/internal/invoicing/relay (only the metrics adapter and main know Prometheus)",
		mod + "/internal/invoicing/invoicinghttp depends on " + mod + "/cmd/svc via " + mod + "/internal/invoicing/app (adapters never depend on cmd)",
		mod + "/internal/invoicing/invoicinghttp/webhooks depends on " + mod + "/internal/notification/notifypg (invoicinghttp reaches the service through the app only: no relay, no adapter, no notification but its webhook package)",
		mod + "/internal/invoicing/invoicinghttp/webhooks depends on " + mod + "/internal/notification/notifypg (the HTTP adapter knows the notification context only through its webhook package)",
		mod + "/internal/invoicing/invoicinghttp/webhooks depends on " + mod + "/cmd/svc via " + mod + "/internal/notification/notifypg (adapters never depend on cmd)",
		mod + "/internal/invoicing/invoicingpg depends on " + mod + "/cmd/svc (adapters never depend on cmd)",
		mod + "/internal/invoicing/relay depends on github.com/prometheus/client_golang/prometheus (the relay depends only on the app, the CloudEvent envelope and what they depend on)",
		mod + "/internal/invoicing/relay depends on github.com/prometheus/client_golang/prometheus (only the metrics adapter and main know Prometheus)",
		mod + "/internal/kernel depends on " + mod + "/internal/invoicing/domain/invoice (the kernel depends only on the standard library, uuid and the error type)",
		mod + "/internal/notification/notifypg depends on " + mod + "/internal/invoicing/invoicingpg (the notification context knows nothing of the invoicing packages)",
		mod + "/internal/notification/notifypg depends on " + mod + "/cmd/svc via " + mod + "/internal/invoicing/invoicingpg (adapters never depend on cmd)",
		mod + "/internal/notification/webhook depends on github.com/jackc/pgx/v5 (the webhook package depends only on the standard library and the SSRF address registry)",
	}
	if !slices.Equal(got, want) {
		t.Errorf("violations:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	for path, p := range pkgs {
		p.GoFiles = []string{"x.go"}
		pkgs[path] = p
	}
	if got, want := uncovered(mod, pkgs), []string{mod + "/cmd/svc", mod + "/internal/newthing"}; !slices.Equal(got, want) {
		t.Errorf("uncovered packages %q, want %q", got, want)
	}
}

// funcFields returns "pkg.Type.Field" for every field of a struct type
// declared in pkg whose type is a function (or a pointer to one). The app's
// commands, requests and options are data a reader sees: a function value
// in one would run wherever a lower layer calls it (inside a transaction,
// say), out of the sight of the request it serves.
func funcFields(pkg *types.Package) []string {
	var out []string
	scope := pkg.Scope()
	for _, name := range scope.Names() { // sorted
		tn, ok := scope.Lookup(name).(*types.TypeName)
		if !ok {
			continue
		}
		st, ok := tn.Type().Underlying().(*types.Struct)
		if !ok {
			continue
		}
		for f := range st.Fields() {
			typ := f.Type()
			if p, ok := typ.Underlying().(*types.Pointer); ok {
				typ = p.Elem()
			}
			if _, ok := typ.Underlying().(*types.Signature); ok {
				out = append(out, pkg.Name()+"."+name+"."+f.Name())
			}
		}
	}
	return out
}

// typeCheck type-checks the non-test Go files of dir, in package path, from
// source.
func typeCheck(t *testing.T, path, dir string) *types.Package {
	t.Helper()
	fset := token.NewFileSet()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var files []*ast.File
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".go") || strings.HasSuffix(e.Name(), "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, filepath.Join(dir, e.Name()), nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, f)
	}
	conf := types.Config{Importer: importer.ForCompiler(fset, "source", nil)}
	pkg, err := conf.Check(path, fset, files, nil)
	if err != nil {
		t.Fatalf("type-check %s: %v", dir, err)
	}
	return pkg
}

// TestAppTypesHoldNoFunctions checks that no struct type of the app (a
// command, a request, options, an outcome) has a function-typed field: what
// a use case hands a port is data, and no adapter calls back into the layer
// above it. apptest is the tests' harness, not the app's API.
func TestAppTypesHoldNoFunctions(t *testing.T) {
	pkg := typeCheck(t, "github.com/invoicing-dev/invoicing/internal/invoicing/app", "invoicing/app")
	if pkg.Scope().Lookup("IdempotentRequest") == nil {
		t.Fatal("the app has no IdempotentRequest: the check reads the wrong package")
	}
	for _, f := range funcFields(pkg) {
		t.Errorf("%s is a function: pass data (a result, a view) instead of a callback", f)
	}
}

// TestFuncFieldsCanFail checks the finder on a made-up package holding the
// kinds of function field it must find.
func TestFuncFieldsCanFail(t *testing.T) {
	const src = `package app
type UpdateFunc func() error
type Render = func([]byte) error
type IssueCreditNote struct {
	Respond func([]byte) ([]byte, error)
	Next    UpdateFunc
	Later   *UpdateFunc
	Alias   Render
	N       int
}
type request struct{ response func() }
type Plain struct{ Key string; Fn []func() }
`
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, "app.go", src, 0)
	if err != nil {
		t.Fatal(err)
	}
	pkg, err := (&types.Config{}).Check("example.com/svc/internal/app", fset, []*ast.File{f}, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"app.IssueCreditNote.Respond", "app.IssueCreditNote.Next", "app.IssueCreditNote.Later",
		"app.IssueCreditNote.Alias", "app.request.response"}
	if got := funcFields(pkg); !slices.Equal(got, want) {
		t.Errorf("function fields %q, want %q", got, want)
	}
}
