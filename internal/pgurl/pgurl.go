// Package pgurl reads PostgreSQL connection URLs for both contexts: it
// checks them without connecting, finds their pool size, and turns a
// driver's "database does not exist" into the command that creates it.
package pgurl

import (
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strconv"
	"strings"

	"github.com/jackc/pgerrcode"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Check returns an error unless v is a postgres:// URL that pgx takes.
func Check(v string) error {
	if !strings.HasPrefix(v, "postgres://") && !strings.HasPrefix(v, "postgresql://") {
		return errors.New("must be a postgres:// URL")
	}
	// The parser the pools use, pool settings included; it reads no
	// network, only the URL (and PG* variables, passfile, certificates).
	_, err := pgxpool.ParseConfig(v)
	return err
}

// MaxConns returns the pool_max_conns of a PostgreSQL URL that Check
// accepted, and whether it has one.
func MaxConns(v string) (int, bool) {
	u, err := url.Parse(v)
	if err != nil || !u.Query().Has("pool_max_conns") {
		return 0, false
	}
	pc, err := pgxpool.ParseConfig(v)
	if err != nil {
		return 0, false
	}
	return int(pc.MaxConns), true
}

// Var is a PostgreSQL URL and the setting it came from.
type Var struct{ Name, URL string }

// MissingDatabaseError is a command's failure because the database its URL
// names does not exist: it says which createdb to run. Unwrap returns the
// driver's error.
type MissingDatabaseError struct {
	name, variable, createdb string
	cause                    error
}

func (e *MissingDatabaseError) Error() string {
	return fmt.Sprintf("database %q does not exist: run `%s`, then `invoicing migrate up` (%s names the database)", e.name, e.createdb, e.variable)
}

func (e *MissingDatabaseError) Unwrap() error { return e.cause }

// missingDBMessage is PostgreSQL's message for an unknown database, as it
// appears in an error's text when a library wrapped it without %w.
var missingDBMessage = regexp.MustCompile(`database "((?:[^"]|"")+)" does not exist \(SQLSTATE 3D000\)`)

// HintMissingDatabase returns err as a *MissingDatabaseError if it says
// that a database does not exist (SQLSTATE 3D000), naming the first of
// vars whose URL names that database (else the first of vars); any other
// error, and nil, unchanged. vars must not be empty.
func HintMissingDatabase(err error, vars ...Var) error {
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
	v := varOf(vars, name)
	return &MissingDatabaseError{name: name, variable: v.Name, createdb: CreatedbCommand(v.URL, name), cause: err}
}

// varOf returns the first of vars whose URL names database, else the first
// of vars.
func varOf(vars []Var, database string) Var {
	for _, v := range vars {
		if Database(v.URL) == database {
			return v
		}
	}
	return vars[0]
}

// Database returns the database a PostgreSQL URL names, or "" if it does
// not parse.
func Database(url string) string {
	c, err := pgconn.ParseConfig(url)
	if err != nil {
		return ""
	}
	return c.Database
}

// CreatedbCommand returns the createdb command line that creates name on
// the server and as the user of url.
func CreatedbCommand(url, name string) string {
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
