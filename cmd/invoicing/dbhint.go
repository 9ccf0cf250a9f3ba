package main

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/jackc/pgerrcode"
	"github.com/jackc/pgx/v5/pgconn"
)

// missingDatabaseError is a command's failure because the database its URL
// names does not exist: it says which createdb to run. Unwrap returns the
// driver's error.
type missingDatabaseError struct {
	name, variable, createdb string
	cause                    error
}

func (e *missingDatabaseError) Error() string {
	return fmt.Sprintf("database %q does not exist: run `%s`, then `invoicing migrate up` (%s names the database)", e.name, e.createdb, e.variable)
}

func (e *missingDatabaseError) Unwrap() error { return e.cause }

// missingDBMessage is PostgreSQL's message for an unknown database, as it
// appears in an error's text when a library wrapped it without %w.
var missingDBMessage = regexp.MustCompile(`database "((?:[^"]|"")+)" does not exist \(SQLSTATE 3D000\)`)

// hintMissingDatabase returns err as a *missingDatabaseError if it says that
// the database named by DATABASE_URL or NOTIFY_DATABASE_URL does not exist
// (SQLSTATE 3D000); any other error, and nil, unchanged.
func hintMissingDatabase(err error, cfg config) error {
	if err == nil {
		return nil
	}
	var name string
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == pgerrcode.InvalidCatalogName {
		if m := missingDBMessage.FindStringSubmatch(pgErr.Message + " (SQLSTATE 3D000)"); m != nil {
			name = m[1]
		}
	} else if m := missingDBMessage.FindStringSubmatch(err.Error()); m != nil {
		name = m[1]
	}
	if name == "" {
		return err
	}
	name = strings.ReplaceAll(name, `""`, `"`)
	variable, url := "DATABASE_URL", cfg.Invoicing.DatabaseURL
	if n := cfg.Notify; n.DatabaseVar == "NOTIFY_DATABASE_URL" && databaseOf(n.DatabaseURL) == name && databaseOf(cfg.Invoicing.DatabaseURL) != name {
		variable, url = n.DatabaseVar, n.DatabaseURL
	}
	return &missingDatabaseError{name: name, variable: variable, createdb: createdbCommand(url, name), cause: err}
}

// databaseOf returns the database a PostgreSQL URL names, or "" if it does
// not parse.
func databaseOf(url string) string {
	c, err := pgconn.ParseConfig(url)
	if err != nil {
		return ""
	}
	return c.Database
}

// createdbCommand returns the createdb command line that creates name on the
// server and as the user of url.
func createdbCommand(url, name string) string {
	args := []string{"createdb"}
	if c, err := pgconn.ParseConfig(url); err == nil {
		if c.Host != "" {
			args = append(args, "-h", shellQuote(c.Host))
		}
		if c.Port != 0 && c.Port != 5432 {
			args = append(args, "-p", strconv.Itoa(int(c.Port)))
		}
		if c.User != "" {
			args = append(args, "-U", shellQuote(c.User))
		}
	}
	return strings.Join(append(args, shellQuote(name)), " ")
}

// shellQuote returns s as one word for a POSIX shell: as is when it holds
// only characters no shell treats specially, else in single quotes.
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-./:@") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
