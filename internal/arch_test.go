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
	"maps"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// The dependency rules of the service. Deps are transitive: a package may not
// reach a forbidden package through another one either. Tests are exempt
// (domain tests use pgregory.net/rapid).
//
// Scopes and the package lists of the rules are patterns of module-relative
// import paths, element by element as path.Match reads them ("notify*"),
// where "..." stands for any number of elements, none included, as in
// `go list ./internal/...`.
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

// jsontextPaths are github.com/go-json-experiment/json/jsontext and the
// packages it imports: the CloudEvent envelope quotes and compacts JSON
// with it, so the relay, which encodes envelopes, reaches them too.
var jsontextPaths = []string{
	"github.com/go-json-experiment/json/jsontext", "github.com/go-json-experiment/json/internal",
	"github.com/go-json-experiment/json/internal/jsonflags", "github.com/go-json-experiment/json/internal/jsonopts",
	"github.com/go-json-experiment/json/internal/jsonwire",
}

// pkg is the part of a `go list -json` record the rules read.
type pkg struct {
	ImportPath string
	Standard   bool
	GoFiles    []string
	Imports    []string
	Deps       []string
	Error      *struct{ Err string }
}

// edge is one dependency of a package of the module, as a rule sees it.
type edge struct {
	from  string // module-relative
	to    string // module-relative when local, the import path otherwise
	local bool   // to is a package of the module
	std   bool   // to is in the standard library
}

// in reports whether e leads to a package of the module matching one of
// patterns.
func (e edge) in(patterns ...string) bool {
	return e.local && slices.ContainsFunc(patterns, func(p string) bool { return match(p, e.to) })
}

// external reports whether e leads out of the module and the standard
// library, to one of paths.
func (e edge) external(paths ...string) bool {
	return !e.local && !e.std && slices.Contains(paths, e.to)
}

// rule forbids the packages matching one of scopes, except those matching
// one of except, to depend on a package for which allowed returns false.
type rule struct {
	name    string
	scopes  []string
	except  []string
	allowed func(e edge) bool
}

// everywhere is the scope of the rules that hold for every package of the
// module: they do not count as giving a package its rule (see uncovered).
const everywhere = "..."

// shared are the packages both contexts may use; the kernel holds what
// they share (money, currency, tenant, event metadata).
var shared = []string{"internal/failure/...", "internal/kernel/..."}

// adapters are the directories of the adapters and decorators of both
// contexts: each directory a pattern matches is one adapter, its
// sub-packages included. adapterRigs maps a test rig that sets up an
// adapter's store to that adapter.
var (
	adapters    = []string{"internal/invoicing/invoicing*", "internal/invoicing/metrics", "internal/invoicing/tracing", "internal/notification/notify*"}
	adapterRigs = map[string]string{"internal/pgtest": "internal/invoicing/invoicingpg"}
)

// wiring are the packages that build a context into something a process
// runs: each may use its own context's adapters, as main does, but only
// main may use it.
var wiring = []string{"internal/invoicing/invoicingsvc", "internal/notification/notifysvc"}

// contexts are the directories of the bounded contexts.
var contexts = []string{"internal/invoicing", "internal/notification"}

// compositionRoots may depend on every package: they wire the service.
var compositionRoots = []string{"cmd/invoicing"}

// What each inner layer of the invoicing context may depend on besides
// itself: what the layers beneath it may, and those layers. The outbox
// record and its wire format sit beside the domain: the app records events
// as outbox records, the envelope encodes them, the relay moves them.
var (
	domainMay = func(e edge) bool { return e.std || e.external(uuidPath) || e.external(idnaPaths...) || e.in(shared...) }
	appMay    = func(e edge) bool {
		return domainMay(e) || e.in("internal/invoicing/domain/...", "internal/invoicing/outbox/...")
	}
	cloudeventMay = func(e edge) bool {
		return domainMay(e) || e.external(jsontextPaths...) || e.in("internal/invoicing/outbox/...")
	}
	relayMay = func(e edge) bool {
		return appMay(e) || e.external(jsontextPaths...) || e.in("internal/invoicing/app/...", "internal/invoicing/cloudevent/...")
	}
)

var rules = []rule{
	{
		name:    "the shared packages depend only on the standard library, uuid and one another",
		scopes:  shared,
		allowed: func(e edge) bool { return e.std || e.external(uuidPath) || e.in(shared...) },
	},
	{
		name:    "the invoicing domain depends only on the standard library, uuid, IDNA, the shared packages and itself",
		scopes:  []string{"internal/invoicing/domain/..."},
		allowed: func(e edge) bool { return domainMay(e) || e.in("internal/invoicing/domain/...") },
	},
	{
		name:    "the invoicing app depends only on what the domain may, the domain, the outbox record and itself",
		scopes:  []string{"internal/invoicing/app/..."},
		allowed: func(e edge) bool { return appMay(e) || e.in("internal/invoicing/app/...") },
	},
	{
		name:    "the outbox record depends only on what the domain may and itself",
		scopes:  []string{"internal/invoicing/outbox/..."},
		allowed: func(e edge) bool { return domainMay(e) || e.in("internal/invoicing/outbox/...") },
	},
	{
		// A wire format of the outbox record: it knows no use case.
		name:    "the CloudEvent envelope depends only on what the domain may, jsontext, the outbox record and itself",
		scopes:  []string{"internal/invoicing/cloudevent/..."},
		allowed: func(e edge) bool { return cloudeventMay(e) || e.in("internal/invoicing/cloudevent/...") },
	},
	{
		// The relay defines the ports it needs (Store, Publisher, Metrics);
		// PostgreSQL and NATS implement them.
		name:    "the relay depends only on what the app may, jsontext, the app, the envelope and itself",
		scopes:  []string{"internal/invoicing/relay/..."},
		except:  []string{"internal/invoicing/relay/relaytest/..."},
		allowed: func(e edge) bool { return relayMay(e) || e.in("internal/invoicing/relay/...") },
	},
	{
		// invoicinghttp decodes requests into the domain's values (ids, due
		// dates, statuses), matches the domain's error sentinels and encodes
		// the aggregates the app returns: it calls the service through the
		// app only, but reads the domain. The event feed serves the
		// envelope's bytes, as the relay publishes them; the webhook API
		// speaks the notification context's webhook types.
		name: "invoicinghttp depends, in the module, only on the app, the domain, the outbox record, " +
			"the CloudEvent envelope, the shared packages, the contract (api) and itself",
		scopes: []string{"internal/invoicing/invoicinghttp/..."},
		allowed: func(e edge) bool {
			return !e.local || e.in("internal/invoicing/app/...", "internal/invoicing/domain/...", "internal/invoicing/cloudevent/...",
				"internal/invoicing/outbox/...", "api", "internal/invoicing/invoicinghttp/...") || e.in(shared...)
		},
	},
	{
		// pgtest migrates through invoicingpg: it is the same adapter's.
		name:   "an adapter depends on no other adapter (pgtest counts as invoicingpg's)",
		scopes: append(subtrees(adapters), subtrees(slices.Collect(maps.Keys(adapterRigs)))...),
		except: subtrees(wiring),
		allowed: func(e edge) bool {
			to := adapterOf(e.to)
			return !e.local || to == "" || to == adapterOf(e.from)
		},
	},
	{
		// The domain, the use cases, the relay, the notification core:
		// adapters depend on them, never the reverse; main wires them.
		name:    "a context's packages other than its adapters depend on no adapter",
		scopes:  subtrees(contexts),
		except:  subtrees(adapters),
		allowed: func(e edge) bool { return !e.local || adapterOf(e.to) == "" },
	},
	{
		// The notification context knows invoicing only through the
		// published events (api/asyncapi.yaml), as another team's service.
		// An adapter keeps the table of its own variables (NATS_URL, the
		// OTEL_* ones), parsed with envconfig, which knows no context.
		name:   "a context depends on no package of the module outside it but the shared ones, and its adapters on envconfig too (invoicinghttp, wiring: their own rules)",
		scopes: subtrees(contexts),
		except: append([]string{"internal/invoicing/invoicinghttp/..."}, subtrees(wiring)...),
		allowed: func(e edge) bool {
			ctx := strings.Join(strings.SplitN(e.from, "/", 3)[:2], "/")
			return !e.local || e.in(ctx+"/...") || e.in(shared...) || adapterOf(e.from) != "" && e.in("internal/envconfig/...")
		},
	},
	{
		// A wiring package builds its own context only: what it needs of
		// another (a stream name, a subject prefix) main passes in its
		// Config. The contract comes with invoicinghttp, which serves it.
		name:   "a context's wiring package depends, in the module, only on its own context, the shared packages, envconfig, pgurl, schemastate and the contract (api)",
		scopes: subtrees(wiring),
		allowed: func(e edge) bool {
			ctx := strings.Join(strings.SplitN(e.from, "/", 3)[:2], "/")
			return !e.local || e.in(ctx+"/...", "api", "internal/envconfig/...", "internal/pgurl/...", "internal/schemastate/...") || e.in(shared...)
		},
	},
	{
		// A context's wiring package (its adapters built into something a
		// process runs) is main's to start: a package inside a context that
		// used it would reach every adapter through it. That it stays in
		// its own context is the rule above.
		name:    "only main depends on a context's wiring package (invoicingsvc, notifysvc)",
		scopes:  []string{everywhere},
		except:  append(subtrees(wiring), subtrees(compositionRoots)...),
		allowed: func(e edge) bool { return !e.in(subtrees(wiring)...) },
	},
	{
		// The special-purpose address registries are kept by a library
		// generated from IANA's, rather than by hand.
		name:    "the webhook package depends only on the standard library and the SSRF address registry",
		scopes:  []string{"internal/notification/webhook/..."},
		allowed: func(e edge) bool { return e.std || e.external(ssrfPath) },
	},
	{
		// A test server, a proxy or a consumer, as outside the service as
		// the system it stands in for.
		name: "test rigs standing in for an outside system depend on no package of the module",
		scopes: []string{"internal/natstest/...", "internal/prismtest/...", "internal/notification/notifysmtp/smtptest/...",
			"internal/invoicing/relay/relaytest/..."},
		allowed: func(e edge) bool { return !e.local },
	},
	{
		// A stand-in for a mail server on a developer's machine: it knows
		// the service by the SMTP it receives alone.
		name:    "the development mail sink (devmail) depends on no package of the module",
		scopes:  []string{"internal/devmail/..."},
		allowed: func(e edge) bool { return !e.local },
	},
	{
		// What `invoicing dev` runs around the service: main builds the
		// service and hands it only addresses and names.
		name:    "the development stack (devstack) depends, in the module, only on devmail and envconfig",
		scopes:  []string{"internal/devstack/..."},
		allowed: func(e edge) bool { return !e.local || e.in("internal/devmail/...", "internal/envconfig/...") },
	},
	{
		// The API tests' client knows the service by its document alone,
		// as a client of another team would: it tests what both contexts
		// serve, so it belongs to neither.
		name:    "the contract client (apitest) depends, in the module, only on the contract (api)",
		scopes:  []string{"internal/apitest/..."},
		allowed: func(e edge) bool { return !e.local || e.in("api") },
	},
	{
		// Parsers of settings and the help that describes them, generic
		// over the configuration they fill: each table of variables stays
		// with the package it configures.
		name:    "envconfig depends only on the standard library",
		scopes:  []string{"internal/envconfig/..."},
		allowed: func(e edge) bool { return e.std },
	},
	{
		// Both contexts' PostgreSQL URLs, read the same way, by the
		// driver's rules alone.
		name:    "pgurl depends on no package of the module",
		scopes:  []string{"internal/pgurl/..."},
		allowed: func(e edge) bool { return !e.local },
	},
	{
		// Where a schema stands and what an operator reads of it, the same
		// for both contexts, whichever database driver reads the version.
		name:    "schemastate depends only on the standard library",
		scopes:  []string{"internal/schemastate/..."},
		allowed: func(e edge) bool { return e.std },
	},
	{
		name:    "embedded documents and migrations depend only on the standard library",
		scopes:  []string{"api/...", "internal/*/migrations/..."},
		allowed: func(e edge) bool { return e.std },
	},
	{
		// Other teams import the Go client and the event types: nothing of
		// the service may come with them (a build outside the module could
		// not import internal/ anyway; the rule says so first).
		name:    "the Go client (client) depends on no package of the module",
		scopes:  []string{"client/..."},
		allowed: func(e edge) bool { return !e.local },
	},
	{
		name:    "the subscribers' event types (event) depend only on the standard library",
		scopes:  []string{"event/..."},
		allowed: func(e edge) bool { return e.std },
	},
	{
		// The fault suite, the load tool, the benchmarks and the tools talk
		// to the service over the network only, as a client would.
		name:    "clients and tools depend on no package under internal or cmd",
		scopes:  []string{"internal/faulttest/...", "bench/...", "tools/..."},
		allowed: func(e edge) bool { return !e.in("internal/...", "cmd/...") },
	},
	{
		// Measurements leave through ports (relay.Metrics,
		// invoicinghttp.RequestObserver). A tool reading /metrics, as
		// Prometheus itself would, uses the exposition format's parser.
		name:   "only the metrics adapter and main depend on Prometheus; tools and benchmarks only on its text-format parser (prometheus/common, client_model)",
		scopes: []string{everywhere},
		except: []string{"internal/invoicing/metrics/...", "cmd/invoicing/..."},
		allowed: func(e edge) bool {
			return !under(e.to, "github.com/prometheus") ||
				(match("tools/...", e.from) || match("bench/...", e.from)) && (under(e.to, "github.com/prometheus/common") || under(e.to, "github.com/prometheus/client_model"))
		},
	},
	{
		// A helper starts servers, fakes ports or builds fixtures for tests;
		// in a binary it would run beside the real thing.
		name:    "no package but a test helper (named *test) depends on a test helper",
		scopes:  []string{everywhere},
		except:  []string{".../*test"},
		allowed: func(e edge) bool { return !e.in(".../*test") },
	},
	{
		// The use cases declare the ports they need; notifypg implements
		// them, and notifyhttp calls them.
		name: "the notification app depends only on the standard library, the SSRF address registry, " +
			"the context's domain (notification, webhook), the shared packages and itself",
		scopes: []string{"internal/notification/app/..."},
		allowed: func(e edge) bool {
			return e.std || e.external(ssrfPath) ||
				e.in("internal/notification", "internal/notification/webhook/...", "internal/notification/app/...") || e.in(shared...)
		},
	},
}

// subtrees returns the pattern of each of dirs with everything under it.
func subtrees(dirs []string) []string {
	out := make([]string, len(dirs))
	for i, d := range dirs {
		out[i] = d + "/..."
	}
	slices.Sort(out)
	return out
}

// adapterOf returns the directory of the adapter the module-relative
// package p belongs to, or "" if it belongs to none.
func adapterOf(p string) string {
	for rig, a := range adapterRigs {
		if under(p, rig) {
			return a
		}
	}
	elems := strings.Split(p, "/")
	for _, a := range adapters {
		n := strings.Count(a, "/") + 1
		if len(elems) >= n && match(a, strings.Join(elems[:n], "/")) {
			return strings.Join(elems[:n], "/")
		}
	}
	return ""
}

// match reports whether the module-relative package p matches pattern.
func match(pattern, p string) bool {
	return matchElems(strings.Split(pattern, "/"), strings.Split(p, "/"))
}

func matchElems(pattern, elems []string) bool {
	if len(pattern) == 0 {
		return len(elems) == 0
	}
	if pattern[0] == "..." {
		for i := range len(elems) + 1 {
			if matchElems(pattern[1:], elems[i:]) {
				return true
			}
		}
		return false
	}
	if len(elems) == 0 {
		return false
	}
	ok, err := path.Match(pattern[0], elems[0])
	return err == nil && ok && matchElems(pattern[1:], elems[1:])
}

// covers reports whether r applies to the package ip of module mod.
func (r rule) covers(mod, ip string) bool {
	rel, ok := strings.CutPrefix(ip, mod+"/")
	if !ok {
		return false
	}
	in := func(p string) bool { return match(p, rel) }
	return slices.ContainsFunc(r.scopes, in) && !slices.ContainsFunc(r.except, in)
}

// uncovered returns the packages of module mod that no rule applies to but
// those holding everywhere, composition roots and packages with test files
// only aside.
func uncovered(mod string, pkgs map[string]pkg) []string {
	var out []string
	for _, p := range sortedValues(pkgs) {
		if !under(p.ImportPath, mod) || len(p.GoFiles) == 0 ||
			slices.ContainsFunc(compositionRoots, func(c string) bool { return p.ImportPath == mod+"/"+c }) {
			continue
		}
		if !slices.ContainsFunc(rules, func(r rule) bool {
			return !slices.Contains(r.scopes, everywhere) && r.covers(mod, p.ImportPath)
		}) {
			out = append(out, p.ImportPath)
		}
	}
	return out
}

// under reports whether p is dir or inside it.
func under(p, dir string) bool {
	return p == dir || strings.HasPrefix(p, dir+"/")
}

// violation is a forbidden dependency of a package, reached through via
// (a direct import of the package) unless via is empty.
type violation struct {
	pkg, dep, via string
	rule          *rule
}

func (v violation) String() string {
	s := v.pkg + " depends on " + v.dep
	if v.via != "" {
		s += " via " + v.via
	}
	return s + " (" + v.rule.name + ")"
}

// violations returns every forbidden dependency of a package of module mod,
// naming the direct import that brings it in. Only the first forbidden
// package on each path is named, not everything it drags in after it.
func violations(mod string, pkgs map[string]pkg) []violation {
	var out []violation
	for _, p := range sortedValues(pkgs) {
		for i := range rules {
			r := &rules[i]
			if !r.covers(mod, p.ImportPath) {
				continue
			}
			from := strings.TrimPrefix(p.ImportPath, mod+"/")
			var bad []string
			for _, dep := range p.Deps {
				rel, local := strings.CutPrefix(dep, mod+"/")
				if !r.allowed(edge{from: from, to: rel, local: local, std: isStandard(pkgs, dep)}) {
					bad = append(bad, dep)
				}
			}
			for _, dep := range bad {
				if slices.ContainsFunc(bad, func(b string) bool { return slices.Contains(pkgs[b].Deps, dep) }) {
					continue // reported through b
				}
				out = append(out, violation{pkg: p.ImportPath, dep: dep, via: via(pkgs, p, dep), rule: r})
			}
		}
	}
	return out
}

// isStandard uses go list's verdict, or, for a package it could not load, the
// rule that standard import paths have no dot in their first element.
func isStandard(pkgs map[string]pkg, ip string) bool {
	if p, ok := pkgs[ip]; ok {
		return p.Standard
	}
	first, _, _ := strings.Cut(ip, "/")
	return !strings.Contains(first, ".")
}

// via names the direct import of p through which it reaches dep, or "" if
// p imports dep itself.
func via(pkgs map[string]pkg, p pkg, dep string) string {
	if slices.Contains(p.Imports, dep) {
		return ""
	}
	for _, imp := range p.Imports {
		if slices.Contains(pkgs[imp].Deps, dep) {
			return imp
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

// TestDependencyRulesCanFail checks the checker on a made-up module laid out
// as ours, whose packages break every rule, so TestDependencyDirection cannot
// pass vacuously: each rule must find a violation in it. A new rule needs an
// import here that breaks it.
func TestDependencyRulesCanFail(t *testing.T) {
	const mod = "example.com/svc"
	const (
		pgx    = "github.com/jackc/pgx/v5"
		prom   = "github.com/prometheus/client_golang/prometheus"
		expfmt = "github.com/prometheus/common/expfmt"
	)
	pkgs := map[string]pkg{}
	// add lists a package importing imports, each added before; its deps
	// are theirs and theirs.
	add := func(ip string, imports ...string) {
		local := func(s string) string {
			if strings.HasPrefix(s, "internal/") || strings.HasPrefix(s, "cmd/") || strings.HasPrefix(s, "tools/") || s == "api" || s == "client" || s == "event" {
				return mod + "/" + s
			}
			return s
		}
		p := pkg{ImportPath: local(ip), Standard: !strings.Contains(strings.Split(ip, "/")[0], ".") && local(ip) == ip}
		for _, imp := range imports {
			dep, ok := pkgs[local(imp)]
			if !ok {
				t.Fatalf("%s imports %s, not added yet", ip, imp)
			}
			p.Imports = append(p.Imports, dep.ImportPath)
			p.Deps = append(p.Deps, dep.ImportPath)
			p.Deps = append(p.Deps, dep.Deps...)
		}
		slices.Sort(p.Deps)
		p.Deps = slices.Compact(p.Deps)
		pkgs[p.ImportPath] = p
	}
	add("context")
	add("net/http", "context")
	add(uuidPath)
	add(pgx, "context")
	add(prom)
	add("cmd/svc")
	add("api", "context")
	add("internal/newthing")
	add("internal/failure", "context")
	add("internal/envconfig", "context", uuidPath)
	add("internal/pgurl", pgx, "internal/failure")
	add("internal/schemastate", pgx)
	add("internal/kernel", uuidPath, pgx)
	add("internal/apitest", "api", "internal/kernel")
	add("internal/devmail", "internal/kernel")
	add("internal/devstack", "internal/envconfig", "internal/pgurl")
	add("internal/invoicing/domain/invoice", uuidPath, "net/http", pgx, "internal/failure")
	add("internal/invoicing/domain/invoice/invoicetest", "internal/invoicing/domain/invoice")
	add("internal/invoicing/invoicingpg", pgx, "internal/invoicing/domain/invoice")
	add("internal/invoicing/app", "internal/invoicing/domain/invoice", "internal/invoicing/invoicingpg")
	add("internal/invoicing/app/apptest", "context")
	add("internal/invoicing/cloudevent", pgx)
	add("internal/invoicing/outbox", pgx)
	add("internal/invoicing/relay", prom)
	add("internal/invoicing/relay/relaytest", "internal/invoicing/cloudevent")
	add("internal/invoicing/invoicingnats", "internal/invoicing/app/apptest")
	add("internal/invoicing/invoicinghttp", "internal/invoicing/app", "internal/invoicing/relay")
	add("internal/invoicing/migrations", "context")
	add("internal/notification/migrations", pgx)
	add("internal/notification/webhook", pgx)
	add("internal/notification/notifypg", "internal/invoicing/invoicingpg")
	add("internal/notification/notifynats", "internal/notification/notifypg")
	add("internal/notification/notifysmtp", "api", "cmd/svc")
	add("internal/notification/app", "internal/notification/notifypg", "internal/envconfig")
	add("internal/natstest", "internal/invoicing/invoicingnats")
	add("internal/invoicing/invoicingsvc", "internal/invoicing/invoicingpg")
	add("internal/invoicing/metrics", "internal/invoicing/invoicingsvc")
	add("internal/notification/notifysvc", "internal/invoicing/invoicingsvc")
	add("tools/load", "internal/invoicing/domain/invoice")
	add(expfmt)
	add("tools/scrape", expfmt, prom)
	add("client", "internal/kernel")
	add("event", uuidPath)

	const (
		shared  = "the shared packages depend only on the standard library, uuid and one another"
		domain  = "the invoicing domain depends only on the standard library, uuid, IDNA, the shared packages and itself"
		app     = "the invoicing app depends only on what the domain may, the domain, the outbox record and itself"
		envel   = "the CloudEvent envelope depends only on what the domain may, jsontext, the outbox record and itself"
		relay   = "the relay depends only on what the app may, jsontext, the app, the envelope and itself"
		outbox  = "the outbox record depends only on what the domain may and itself"
		http    = "invoicinghttp depends, in the module, only on the app, the domain, the outbox record, the CloudEvent envelope, the shared packages, the contract (api) and itself"
		notiapp = "the notification app depends only on the standard library, the SSRF address registry, the context's domain (notification, webhook), the shared packages and itself"
		adapter = "an adapter depends on no other adapter (pgtest counts as invoicingpg's)"
		inner   = "a context's packages other than its adapters depend on no adapter"
		outside = "a context depends on no package of the module outside it but the shared ones, and its adapters on envconfig too (invoicinghttp, wiring: their own rules)"
		webhook = "the webhook package depends only on the standard library and the SSRF address registry"
		rig     = "test rigs standing in for an outside system depend on no package of the module"
		apicli  = "the contract client (apitest) depends, in the module, only on the contract (api)"
		envcfg  = "envconfig depends only on the standard library"
		pgurl   = "pgurl depends on no package of the module"
		schemas = "schemastate depends only on the standard library"
		devmail = "the development mail sink (devmail) depends on no package of the module"
		devstk  = "the development stack (devstack) depends, in the module, only on devmail and envconfig"
		data    = "embedded documents and migrations depend only on the standard library"
		client  = "clients and tools depend on no package under internal or cmd"
		prome   = "only the metrics adapter and main depend on Prometheus; tools and benchmarks only on its text-format parser (prometheus/common, client_model)"
		helper  = "no package but a test helper (named *test) depends on a test helper"
		wire    = "only main depends on a context's wiring package (invoicingsvc, notifysvc)"
		wirectx = "a context's wiring package depends, in the module, only on its own context, the shared packages, envconfig, pgurl, schemastate and the contract (api)"
		gocli   = "the Go client (client) depends on no package of the module"
		events  = "the subscribers' event types (event) depend only on the standard library"
	)
	m := mod + "/"
	want := []string{
		m + "client depends on " + m + "internal/kernel (" + gocli + ")",
		m + "event depends on " + uuidPath + " (" + events + ")",
		m + "internal/apitest depends on " + m + "internal/kernel (" + apicli + ")",
		m + "internal/devmail depends on " + m + "internal/kernel (" + devmail + ")",
		m + "internal/devstack depends on " + m + "internal/pgurl (" + devstk + ")",
		m + "internal/envconfig depends on " + uuidPath + " (" + envcfg + ")",
		m + "internal/invoicing/app depends on " + m + "internal/invoicing/invoicingpg (" + app + ")",
		m + "internal/invoicing/app depends on " + m + "internal/invoicing/invoicingpg (" + inner + ")",
		m + "internal/invoicing/cloudevent depends on " + pgx + " (" + envel + ")",
		m + "internal/invoicing/domain/invoice depends on " + pgx + " (" + domain + ")",
		m + "internal/invoicing/domain/invoice/invoicetest depends on " + pgx + " via " + m + "internal/invoicing/domain/invoice (" + domain + ")",
		m + "internal/invoicing/invoicinghttp depends on " + m + "internal/invoicing/invoicingpg via " + m + "internal/invoicing/app (" + http + ")",
		m + "internal/invoicing/invoicinghttp depends on " + m + "internal/invoicing/relay (" + http + ")",
		m + "internal/invoicing/invoicinghttp depends on " + m + "internal/invoicing/invoicingpg via " + m + "internal/invoicing/app (" + adapter + ")",
		m + "internal/invoicing/invoicinghttp depends on " + prom + " via " + m + "internal/invoicing/relay (" + prome + ")",
		m + "internal/invoicing/invoicingnats depends on " + m + "internal/invoicing/app/apptest (" + helper + ")",
		m + "internal/invoicing/metrics depends on " + m + "internal/invoicing/invoicingsvc (" + adapter + ")",
		m + "internal/invoicing/metrics depends on " + m + "internal/invoicing/invoicingsvc (" + wire + ")",
		m + "internal/invoicing/outbox depends on " + pgx + " (" + outbox + ")",
		m + "internal/invoicing/relay depends on " + prom + " (" + relay + ")",
		m + "internal/invoicing/relay depends on " + prom + " (" + prome + ")",
		m + "internal/invoicing/relay/relaytest depends on " + m + "internal/invoicing/cloudevent (" + rig + ")",
		m + "internal/kernel depends on " + pgx + " (" + shared + ")",
		m + "internal/natstest depends on " + m + "internal/invoicing/invoicingnats (" + rig + ")",
		m + "internal/notification/app depends on " + m + "internal/notification/notifypg (" + inner + ")",
		m + "internal/notification/app depends on " + m + "internal/envconfig (" + outside + ")",
		m + "internal/notification/app depends on " + m + "internal/invoicing/invoicingpg via " + m + "internal/notification/notifypg (" + outside + ")",
		m + "internal/notification/app depends on " + m + "internal/envconfig (" + notiapp + ")",
		m + "internal/notification/app depends on " + m + "internal/notification/notifypg (" + notiapp + ")",
		m + "internal/notification/migrations depends on " + pgx + " (" + data + ")",
		m + "internal/notification/notifynats depends on " + m + "internal/notification/notifypg (" + adapter + ")",
		m + "internal/notification/notifynats depends on " + m + "internal/invoicing/invoicingpg via " + m + "internal/notification/notifypg (" + outside + ")",
		m + "internal/notification/notifypg depends on " + m + "internal/invoicing/invoicingpg (" + adapter + ")",
		m + "internal/notification/notifypg depends on " + m + "internal/invoicing/invoicingpg (" + outside + ")",
		m + "internal/notification/notifysmtp depends on " + m + "api (" + outside + ")",
		m + "internal/notification/notifysmtp depends on " + m + "cmd/svc (" + outside + ")",
		m + "internal/notification/notifysvc depends on " + m + "internal/invoicing/invoicingsvc (" + wirectx + ")",
		m + "internal/notification/webhook depends on " + pgx + " (" + webhook + ")",
		m + "internal/pgurl depends on " + m + "internal/failure (" + pgurl + ")",
		m + "internal/schemastate depends on " + pgx + " (" + schemas + ")",
		m + "tools/load depends on " + m + "internal/invoicing/domain/invoice (" + client + ")",
		m + "tools/scrape depends on " + prom + " (" + prome + ")",
	}
	got := violations(mod, pkgs)
	var lines []string
	for _, v := range got {
		lines = append(lines, v.String())
	}
	if !slices.Equal(lines, want) {
		t.Errorf("violations:\n%s\nwant:\n%s", strings.Join(lines, "\n"), strings.Join(want, "\n"))
	}
	for i := range rules {
		if !slices.ContainsFunc(got, func(v violation) bool { return v.rule == &rules[i] }) {
			t.Errorf("no package of the made-up module breaks %q: add an import that does", rules[i].name)
		}
	}

	for ip, p := range pkgs {
		p.GoFiles = []string{"x.go"}
		pkgs[ip] = p
	}
	if got, want := uncovered(mod, pkgs), []string{m + "cmd/svc", m + "internal/newthing"}; !slices.Equal(got, want) {
		t.Errorf("uncovered packages %q, want %q", got, want)
	}
}

// TestMatch checks the patterns the rules are written in.
func TestMatch(t *testing.T) {
	for _, c := range []struct {
		pattern, p string
		want       bool
	}{
		{"internal/invoicing/domain/...", "internal/invoicing/domain", true},
		{"internal/invoicing/domain/...", "internal/invoicing/domain/invoice/invoicetest", true},
		{"internal/invoicing/domain/...", "internal/invoicing/domainx", false},
		{"internal/notification/notify*/...", "internal/notification/notifysmtp/smtptest", true},
		{"internal/notification/notify*/...", "internal/notification", false},
		{"internal/*/migrations/...", "internal/notification/migrations", true},
		{".../*test", "internal/pgtest", true},
		{".../*test", "internal/invoicing/app/apptest", true},
		{".../*test", "internal/invoicing/app/apptest/x", false},
		{"...", "api", true},
		{"api", "api/prismtest", false},
	} {
		if got := match(c.pattern, c.p); got != c.want {
			t.Errorf("match(%q, %q) = %v, want %v", c.pattern, c.p, got, c.want)
		}
	}
	for p, want := range map[string]string{
		"internal/notification/notifysmtp/smtptest": "internal/notification/notifysmtp",
		"internal/invoicing/invoicinghttp":          "internal/invoicing/invoicinghttp",
		"internal/pgtest":                           "internal/invoicing/invoicingpg",
		"internal/invoicing/app":                    "",
		"internal/notification":                     "",
	} {
		if got := adapterOf(p); got != want {
			t.Errorf("adapterOf(%q) = %q, want %q", p, got, want)
		}
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
