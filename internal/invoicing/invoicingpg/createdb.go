package invoicingpg

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgerrcode"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// CreateDatabase creates the database url names if it does not exist, as
// the user of url, through the server's maintenance database (postgres),
// and reports whether it created it. It returns an error naming the step
// that failed, with url's password redacted.
func CreateDatabase(ctx context.Context, url string) (created bool, err error) {
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		return false, fmt.Errorf("postgres: parse database URL %s: %w", redact(url), err)
	}
	// Connecting to the database itself needs no right on any other.
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err == nil {
		return false, conn.Close(ctx)
	}
	if pgErr := (*pgconn.PgError)(nil); !errors.As(err, &pgErr) || pgErr.Code != pgerrcode.InvalidCatalogName {
		return false, fmt.Errorf("postgres: connect to %s: %w", redact(url), err)
	}
	name := cfg.Database
	cfg.Database = "postgres"
	if conn, err = pgx.ConnectConfig(ctx, cfg); err != nil {
		return false, fmt.Errorf("postgres: create database %q: connect to the maintenance database postgres: %w", name, err)
	}
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize())
	if pgErr := (*pgconn.PgError)(nil); errors.As(err, &pgErr) && pgErr.Code == pgerrcode.DuplicateDatabase {
		return false, nil // created by another process meanwhile
	}
	if err != nil {
		return false, fmt.Errorf("postgres: create database %q: %w", name, err)
	}
	return true, nil
}
