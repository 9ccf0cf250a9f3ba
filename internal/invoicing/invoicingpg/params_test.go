package invoicingpg_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgtype"

	"github.com/invoicing-dev/invoicing/internal/invoicing/invoicingpg"
	"github.com/invoicing-dev/invoicing/internal/pgtest"
)

// integerOIDs are the integer types PostgreSQL can infer for a parameter.
var integerOIDs = map[uint32]string{
	pgtype.Int2OID: "smallint", pgtype.Int4OID: "integer", pgtype.Int8OID: "bigint", pgtype.NumericOID: "numeric",
	pgtype.Int2ArrayOID: "smallint[]", pgtype.Int4ArrayOID: "integer[]", pgtype.Int8ArrayOID: "bigint[]",
}

// PostgreSQL types an untyped parameter by its first use: in `$2 > 0` it is
// an integer (int4), and pgx then refuses any value from 2^31 on (the event
// feed once failed for every cursor past 2^31). So every integer
// parameter of every statement says its type at each use: `$2::bigint`.
func TestIntegerParametersAreTypedAtEveryUse(t *testing.T) {
	stmts := invoicingpg.Statements()
	for _, name := range sqlNames(t) {
		if _, ok := stmts[name]; !ok {
			t.Errorf("%s is not in Statements (export_test.go): add it, so its parameters are checked", name)
		}
	}
	pool := pgtest.New(t)
	conn, err := pool.Acquire(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Release()
	param := regexp.MustCompile(`\$(\d+)(::)?`)
	for name, sql := range stmts {
		desc, err := conn.Conn().PgConn().Prepare(t.Context(), "", sql, nil)
		if err != nil {
			t.Errorf("%s: prepare: %v", name, err)
			continue
		}
		for _, m := range param.FindAllStringSubmatchIndex(sql, -1) {
			n := sql[m[2]:m[3]]
			i, _ := strconv.Atoi(n)
			typ, integer := integerOIDs[desc.ParamOIDs[i-1]]
			if integer && m[4] < 0 {
				line := sql[strings.LastIndex(sql[:m[0]], "\n")+1:]
				line, _, _ = strings.Cut(line, "\n")
				t.Errorf("%s: $%s (%s) is used without its type in %q", name, n, typ, strings.TrimSpace(line))
			}
		}
	}
}

// sqlNames returns the names of the package's constants and variables whose
// name ends in SQL: its statements, by convention.
func sqlNames(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, file := range files {
		if strings.HasSuffix(file, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(token.NewFileSet(), file, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range f.Decls {
			gen, ok := d.(*ast.GenDecl)
			if !ok {
				continue
			}
			for _, spec := range gen.Specs {
				vs, ok := spec.(*ast.ValueSpec)
				if !ok {
					continue
				}
				for _, id := range vs.Names {
					if strings.HasSuffix(id.Name, "SQL") {
						names = append(names, id.Name)
					}
				}
			}
		}
	}
	return names
}
