package main

import (
	"net/url"
	"os"
	"slices"
	"strings"
	"testing"

	yaml "github.com/oasdiff/yaml3"

	"github.com/invoicing-dev/invoicing/internal/pgtest"
)

// TestComposePostgresServesTheTests keeps the README's test section true:
// after `docker compose up -d postgres`, the test command finds its server
// where TEST_DATABASE_URL's default points (127.0.0.1:5432, role postgres,
// no password), published on the loopback address only.
func TestComposePostgresServesTheTests(t *testing.T) {
	b, err := os.ReadFile("../../docker-compose.yml")
	if err != nil {
		t.Fatal(err)
	}
	var f struct {
		Services map[string]struct {
			Environment map[string]any `yaml:"environment"`
			Ports       []string       `yaml:"ports"`
			Volumes     []string       `yaml:"volumes"`
		} `yaml:"services"`
	}
	if err := yaml.Unmarshal(b, &f); err != nil {
		t.Fatal(err)
	}
	pg, ok := f.Services["postgres"]
	if !ok {
		t.Fatal("docker-compose.yml has no service postgres")
	}
	def, err := url.Parse(pgtest.DefaultURL)
	if err != nil {
		t.Fatal(err)
	}
	if want := def.Host + ":5432"; !slices.Contains(pg.Ports, want) {
		t.Errorf("service postgres publishes %v, want %q (pgtest.DefaultURL's host and port, loopback only)", pg.Ports, want)
	}
	if pg.Environment["POSTGRES_HOST_AUTH_METHOD"] != "trust" {
		t.Errorf("service postgres: POSTGRES_HOST_AUTH_METHOD is %v, want trust: pgtest.DefaultURL has no password", pg.Environment["POSTGRES_HOST_AUTH_METHOD"])
	}
	const initFile = "./deploy/postgres-tests.sql"
	if !slices.ContainsFunc(pg.Volumes, func(v string) bool { return strings.HasPrefix(v, initFile+":/docker-entrypoint-initdb.d/") }) {
		t.Errorf("service postgres does not mount %s into /docker-entrypoint-initdb.d/: %v", initFile, pg.Volumes)
	}
	sql, err := os.ReadFile("../../" + initFile)
	if err != nil {
		t.Fatal(err)
	}
	if role := def.User.Username(); !strings.Contains(string(sql), "CREATE ROLE "+role+" SUPERUSER LOGIN") {
		t.Errorf("%s does not create the role %s that pgtest.DefaultURL connects as", initFile, role)
	}
}
