// Package invoicingpg implements the app's ports on PostgreSQL with pgx: the
// invoice repository (state and outbox in one transaction), gapless invoice
// numbers and API keys, plus the schema migrations.
package invoicingpg

import (
	"context"
	"fmt"
	"net/url"

	"github.com/jackc/pgx/v5/pgxpool"
)

// PoolOption tunes the pool Connect creates.
type PoolOption func(*pgxpool.Config)

// MaxConns caps the pool at n connections (DB_MAX_CONNS), overriding the
// URL's pool_max_conns; n < 1 leaves the cap alone.
func MaxConns(n int) PoolOption {
	return func(c *pgxpool.Config) {
		if n >= 1 {
			c.MaxConns = int32(min(n, 1<<30))
		}
	}
}

// Connect parses url, creates a pool tuned by opts and pings the server. It
// returns an error naming the step that failed (parse, connect or ping) and
// the URL with its password redacted; the pool is closed on failure.
func Connect(ctx context.Context, url string, opts ...PoolOption) (*pgxpool.Pool, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		// pgx's parse errors already redact the password; say which URL anyway.
		return nil, fmt.Errorf("postgres: parse database URL %s: %w", redact(url), err)
	}
	for _, opt := range opts {
		opt(cfg)
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: create pool for %s: %w", redact(url), err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgres: ping %s: %w", redact(url), err)
	}
	return pool, nil
}

// redact returns s with the password of a URL replaced by "xxxxx", or a
// placeholder if s is not a URL (a key=value DSN may hold a password anywhere).
func redact(s string) string {
	u, err := url.Parse(s)
	if err != nil || u.Scheme == "" {
		return "(connection string)"
	}
	if q := u.Query(); q.Has("password") {
		q.Set("password", "xxxxx")
		u.RawQuery = q.Encode()
	}
	return u.Redacted()
}
