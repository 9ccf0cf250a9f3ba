package pgtest

import (
	"context"
	"strings"
	"testing"
	"time"
)

// TestTemplateNameCanBeSet: TEST_DATABASE_TEMPLATE names the template
// database (the migrations' hash still ends the name), so that runs that
// must not share one can each have their own.
func TestTemplateNameCanBeSet(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	s, err := getServer(ctx)
	if err != nil {
		if testing.Short() {
			t.Skipf("PostgreSQL is unreachable, skipping in -short mode: %v", err)
		}
		t.Fatal(err)
	}
	prefix := "pgtest_own_" + randomHex(4) + "_"
	t.Setenv("TEST_DATABASE_TEMPLATE", prefix)
	own := &server{url: s.url, admin: s.admin}
	name, err := own.ensureTemplate(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(name, prefix) || len(name) == len(prefix) {
		t.Fatalf("template %q with TEST_DATABASE_TEMPLATE=%s, want that prefix and the migrations' hash", name, prefix)
	}
	// Only this test's own template: the shared one stays.
	if _, err := s.admin.Exec(ctx, "ALTER DATABASE "+ident(name)+" WITH IS_TEMPLATE false"); err != nil {
		t.Errorf("unmark %s: %v", name, err)
	}
	if _, err := s.admin.Exec(ctx, "DROP DATABASE "+ident(name)+" WITH (FORCE)"); err != nil {
		t.Errorf("drop %s: %v", name, err)
	}
}
