package internal_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// contextValues are the only functions allowed to put a value into a
// context: request id, logger and trace correlation. A
// transaction, an idempotency request or a tenant is a parameter.
var contextValues = []string{
	"internal/invoicing/app/trace.go: WithTrace",
	"internal/invoicing/invoicinghttp/middleware.go: requestID",
}

// withValueCalls returns "file: func" for every call of context.WithValue in
// the Go source src of file (whatever name context is imported under).
func withValueCalls(file string, src []byte) ([]string, error) {
	f, err := parser.ParseFile(token.NewFileSet(), file, src, 0)
	if err != nil {
		return nil, err
	}
	name := ""
	for _, imp := range f.Imports {
		if path, _ := strconv.Unquote(imp.Path.Value); path == "context" {
			name = "context"
			if imp.Name != nil {
				name = imp.Name.Name
			}
		}
	}
	if name == "" {
		return nil, nil
	}
	var out []string
	for _, d := range f.Decls {
		fn, ok := d.(*ast.FuncDecl)
		if !ok {
			continue
		}
		ast.Inspect(fn, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok {
				return true
			}
			if sel, ok := call.Fun.(*ast.SelectorExpr); ok && sel.Sel.Name == "WithValue" && isIdent(sel.X, name) {
				out = append(out, file+": "+fn.Name.Name)
			}
			return true
		})
	}
	return out, nil
}

// isIdent reports whether e is the identifier name.
func isIdent(e ast.Expr, name string) bool {
	id, ok := e.(*ast.Ident)
	return ok && id.Name == name
}

// TestNothingHidesInAContext checks that no code but request id, logger and
// trace correlation puts values into a context.
func TestNothingHidesInAContext(t *testing.T) {
	root := ".." // the module root: this test lives in internal/
	var found []string
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == "testdata" || strings.HasPrefix(d.Name(), ".")) && path != root {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		rel, _ := filepath.Rel(root, path)
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		calls, err := withValueCalls(filepath.ToSlash(rel), src)
		found = append(found, calls...)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range found {
		if !slices.Contains(contextValues, c) {
			t.Errorf("%s puts a value into a context: pass it as a parameter (only request id, logger and trace travel in a context)", c)
		}
	}
	if len(found) == 0 {
		t.Fatal("no context.WithValue found at all; the walk checks nothing")
	}
}

// TestWithValueCallsCanFail checks the finder on made-up sources.
func TestWithValueCallsCanFail(t *testing.T) {
	src := `package p
import stdctx "context"
func withTx(ctx stdctx.Context, tx any) stdctx.Context { return stdctx.WithValue(ctx, key{}, tx) }
func other(ctx stdctx.Context) { _ = func() { _ = stdctx.WithValue(ctx, 1, 2) } }
`
	got, err := withValueCalls("p/tx.go", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"p/tx.go: withTx", "p/tx.go: other"}; !slices.Equal(got, want) {
		t.Fatalf("calls %q, want %q", got, want)
	}
}
