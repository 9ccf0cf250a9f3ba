// Package pgtest gives each test its own PostgreSQL database, migrated to the
// latest schema and dropped when the test ends.
//
// Migrating is the slow part, so it is done once per set of migrations: the
// first test to need it migrates a template database (named after a hash of
// migrations.FS) under an advisory lock, so parallel test binaries neither race
// nor duplicate the work, and every test then copies it with CREATE DATABASE
// ... TEMPLATE, which takes milliseconds.
//
// The server is TEST_DATABASE_URL, by default
// postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable; the
// template's name starts with TEST_DATABASE_TEMPLATE, by default
// invoicing_tmpl_ (two checkouts with other migrations on one server each
// find their own; a prefix of its own keeps one test run's apart).
package pgtest

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/invoicing-dev/invoicing/internal/invoicing/invoicingpg"
	"github.com/invoicing-dev/invoicing/internal/invoicing/migrations"
)

// DefaultURL is the server used when TEST_DATABASE_URL is not set.
const DefaultURL = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"

// DefaultTemplate starts the template database's name when
// TEST_DATABASE_TEMPLATE is not set; a hash of the migrations ends it.
const DefaultTemplate = "invoicing_tmpl_"

// startHint is what to run when the server is down.
const startHint = "pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start"

// templateLockKey is the advisory lock serializing template creation across
// test processes (any fixed int64; this one is "pgtest" in ASCII).
const templateLockKey int64 = 0x706774657374

// New returns a pool on a fresh database migrated to the latest version,
// dropped (pool closed first) in t.Cleanup. It skips the test in -short mode
// if PostgreSQL is unreachable and fails it otherwise.
func New(t testing.TB) *pgxpool.Pool {
	t.Helper()
	dbURL := NewURL(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	pool, err := invoicingpg.Connect(ctx, dbURL)
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	// Cleanups run last-in first-out: the pool closes before NewURL's drop.
	t.Cleanup(pool.Close)
	return pool
}

// NewURL is like New but returns the database's URL (for tests that start the
// binary or open their own pools). Close those pools before the test ends:
// the database is dropped WITH (FORCE) in t.Cleanup.
func NewURL(t testing.TB) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	s, err := getServer(ctx)
	if err != nil {
		var unreachable *unreachableError
		if errors.As(err, &unreachable) && testing.Short() {
			t.Skipf("pgtest: PostgreSQL is unreachable, skipping in -short mode: %v", err)
		}
		t.Fatalf("pgtest: %v", err)
	}
	name := "invoicing_test_" + randomHex(8)
	if err := s.create(ctx, name); err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if _, err := s.admin.Exec(ctx, "DROP DATABASE IF EXISTS "+ident(name)+" WITH (FORCE)"); err != nil {
			t.Errorf("pgtest: drop database %s: %v", name, err)
		}
	})
	return withDatabase(s.url, name)
}

// server is the process-wide connection to the test server and the name of a
// ready template; it is set up by the first test and shared by the rest.
type server struct {
	url      *url.URL
	admin    *pgxpool.Pool
	template string
}

var (
	serverMu sync.Mutex
	shared   *server
)

// getServer returns the shared server, connecting and preparing the template
// on first use. A failure is not cached, so a later test tries again.
func getServer(ctx context.Context) (*server, error) {
	serverMu.Lock()
	defer serverMu.Unlock()
	if shared != nil {
		return shared, nil
	}
	raw := os.Getenv("TEST_DATABASE_URL")
	if raw == "" {
		raw = DefaultURL
	}
	u, err := url.Parse(raw)
	if err != nil || u.Scheme == "" {
		return nil, fmt.Errorf("TEST_DATABASE_URL is not a postgres:// URL")
	}
	admin, err := pgxpool.New(ctx, raw)
	if err != nil {
		return nil, fmt.Errorf("TEST_DATABASE_URL %s: %w", u.Redacted(), err)
	}
	if err := admin.Ping(ctx); err != nil {
		admin.Close()
		return nil, &unreachableError{url: u.Redacted(), err: err}
	}
	s := &server{url: u, admin: admin}
	if s.template, err = s.ensureTemplate(ctx); err != nil {
		admin.Close()
		return nil, err
	}
	shared = s
	return s, nil
}

// ensureTemplate returns the name of a template database migrated with the
// current migrations.FS, creating it if no process has yet.
func (s *server) ensureTemplate(ctx context.Context) (string, error) {
	sum, err := migrationsHash()
	if err != nil {
		return "", err
	}
	prefix := os.Getenv("TEST_DATABASE_TEMPLATE")
	if prefix == "" {
		prefix = DefaultTemplate
	}
	// The hash stays in the name: a template of other migrations is
	// another database, never reused.
	name := prefix + sum[:12]

	// A session-level advisory lock held on one connection: parallel test
	// binaries queue here, and all but the first find the template ready.
	conn, err := s.admin.Acquire(ctx)
	if err != nil {
		return "", fmt.Errorf("acquire connection: %w", err)
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, "SELECT pg_advisory_lock($1)", templateLockKey); err != nil {
		return "", fmt.Errorf("lock template creation: %w", err)
	}
	defer func() {
		// Unlock with a fresh context: ctx may be what failed.
		uctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if _, err := conn.Exec(uctx, "SELECT pg_advisory_unlock($1)", templateLockKey); err != nil {
			conn.Conn().Close(uctx) // closing the session releases the lock
		}
	}()

	// datistemplate is set only after migrating succeeded, so a database
	// without it is the remains of a crashed attempt.
	var ready bool
	err = conn.QueryRow(ctx, "SELECT datistemplate FROM pg_database WHERE datname = $1", name).Scan(&ready)
	switch {
	case err == nil && ready:
		return name, nil
	case err == nil:
		if _, err := conn.Exec(ctx, "DROP DATABASE "+ident(name)+" WITH (FORCE)"); err != nil {
			return "", fmt.Errorf("drop unfinished template %s: %w", name, err)
		}
	case !errors.Is(err, pgx.ErrNoRows):
		return "", fmt.Errorf("look up template %s: %w", name, err)
	}
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+ident(name)); err != nil {
		return "", fmt.Errorf("create template %s: %w", name, err)
	}
	if err := invoicingpg.MigrateUp(withDatabase(s.url, name)); err != nil {
		return "", fmt.Errorf("migrate template %s: %w", name, err)
	}
	// Refusing connections keeps CREATE DATABASE ... TEMPLATE from failing
	// because someone is connected to the template.
	if _, err := conn.Exec(ctx, "ALTER DATABASE "+ident(name)+" WITH IS_TEMPLATE true ALLOW_CONNECTIONS false"); err != nil {
		return "", fmt.Errorf("mark template %s: %w", name, err)
	}
	return name, nil
}

// create makes database name as a copy of the template.
func (s *server) create(ctx context.Context, name string) error {
	q := "CREATE DATABASE " + ident(name) + " TEMPLATE " + ident(s.template)
	for attempt := 1; ; attempt++ {
		_, err := s.admin.Exec(ctx, q)
		var pgErr *pgconn.PgError
		// 55006 object_in_use: a session is still leaving the template (e.g.
		// the migrator's connection closing); it goes away in milliseconds.
		if errors.As(err, &pgErr) && pgErr.Code == "55006" && attempt < 50 {
			time.Sleep(100 * time.Millisecond)
			continue
		}
		if err != nil {
			return fmt.Errorf("create database %s from %s: %w", name, s.template, err)
		}
		return nil
	}
}

// migrationsHash returns the hex SHA-256 of every file name and content in
// migrations.FS, so a changed migration gets a new template.
func migrationsHash() (string, error) {
	h := sha256.New()
	err := fs.WalkDir(migrations.FS, ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(migrations.FS, path)
		if err != nil {
			return err
		}
		fmt.Fprintf(h, "%s\x00%d\x00", path, len(b))
		h.Write(b)
		return nil
	})
	if err != nil {
		return "", fmt.Errorf("hash migrations: %w", err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// unreachableError means the server did not answer a ping.
type unreachableError struct {
	url string
	err error
}

func (e *unreachableError) Error() string {
	return fmt.Sprintf("PostgreSQL at %s is unreachable (%v); start it with: %s", e.url, e.err, startHint)
}

func (e *unreachableError) Unwrap() error { return e.err }

// withDatabase returns u pointing at database name.
func withDatabase(u *url.URL, name string) string {
	c := *u
	c.Path = "/" + name
	c.RawPath = ""
	return c.String()
}

// ident quotes a generated database name as an SQL identifier.
func ident(name string) string { return pgx.Identifier{name}.Sanitize() }

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go 1.24+)
	return hex.EncodeToString(b)
}
