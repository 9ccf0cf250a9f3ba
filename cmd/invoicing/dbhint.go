package main

import (
	"errors"
	"fmt"
	"net"
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
	variable, url := "DATABASE_URL", cfg.DatabaseURL
	if cfg.NotifyDatabaseURL != "" && databaseOf(cfg.NotifyDatabaseURL) == name && databaseOf(cfg.DatabaseURL) != name {
		variable, url = "NOTIFY_DATABASE_URL", cfg.NotifyDatabaseURL
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

// hintDatabase returns err with a hint when it is one a user fixes outside
// the service: a missing database (see hintMissingDatabase), a server that
// cannot be reached or refuses the role, or a schema not migrated yet. Any
// other error, and nil, it returns unchanged.
func hintDatabase(err error, cfg config) error {
	if err == nil {
		return nil
	}
	if h := hintMissingDatabase(err, cfg); h != err {
		return h
	}
	if h := hintConnect(err, cfg); h != nil {
		return h
	}
	if h := hintUnmigrated(err); h != nil {
		return h
	}
	return err
}

// hintError is a database failure explained in one line; Unwrap returns the
// driver's error.
type hintError struct {
	msg   string
	cause error
}

func (e *hintError) Error() string { return e.msg }

func (e *hintError) Unwrap() error { return e.cause }

// connectFailure matches pgconn's "failed to connect to `user=U
// database=D`: host:port (host): dial error: ..." (or server error), also
// when a library wrapped it without %w; the attempt's lines may follow on
// lines of their own.
var connectFailure = regexp.MustCompile("failed to connect to `user=(.*?) database=(.*?)`:\\s*\\S+ \\([^)]*\\): (dial|server) error: ([^\\n]*)")

// fatalMessage is the text of a server's FATAL error within a connect
// failure.
var fatalMessage = regexp.MustCompile(`(?:FATAL|ERROR): (.*) \(SQLSTATE (\w+)\)`)

// hintConnect returns err explained if PostgreSQL could not be reached or
// refused the role, naming the server, the role and the variable to check;
// nil for any other error.
func hintConnect(err error, cfg config) error {
	m := connectFailure.FindStringSubmatch(err.Error())
	if m == nil {
		return nil
	}
	role, database, kind, detail := m[1], m[2], m[3], m[4]
	variable, url := "DATABASE_URL", cfg.DatabaseURL
	if cfg.NotifyDatabaseURL != "" && databaseOf(cfg.NotifyDatabaseURL) == database && databaseOf(cfg.DatabaseURL) != database {
		variable, url = "NOTIFY_DATABASE_URL", cfg.NotifyDatabaseURL
	}
	server := serverOf(url)
	if kind == "dial" {
		reason := detail[strings.LastIndex(detail, ": ")+2:]
		return &hintError{cause: err, msg: fmt.Sprintf(
			"cannot reach PostgreSQL at %s (%s): %s; check that the server is running and listening there, or set %s to where it is",
			server, variable, reason, variable)}
	}
	f := fatalMessage.FindStringSubmatch(detail)
	if f == nil || !strings.HasPrefix(f[2], "28") { // 28000, 28P01: the role or its password
		return nil
	}
	return &hintError{cause: err, msg: fmt.Sprintf(
		"PostgreSQL at %s refused role %q (%s): %s; check the user and password in %s (createuser makes a role) and the server's pg_hba.conf",
		server, role, variable, f[1], variable)}
}

// serverOf returns the host:port a PostgreSQL URL names, or "" if it does
// not parse.
func serverOf(url string) string {
	c, err := pgconn.ParseConfig(url)
	if err != nil {
		return ""
	}
	return net.JoinHostPort(c.Host, strconv.Itoa(int(c.Port)))
}

// undefinedObject matches PostgreSQL's message for a missing table or
// schema, also in the text of an error wrapped without %w.
var undefinedObject = regexp.MustCompile(`((?:relation|schema) "[^"]*" does not exist) \(SQLSTATE (?:42P01|3F000)\)`)

// hintUnmigrated returns err explained if it says a table or schema the
// service creates does not exist: the database is not migrated; nil for any
// other error.
func hintUnmigrated(err error) error {
	if strings.Contains(err.Error(), "invoicing migrate up") {
		return nil // said already, with the versions
	}
	var what string
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && (pgErr.Code == pgerrcode.UndefinedTable || pgErr.Code == pgerrcode.InvalidSchemaName) {
		what = pgErr.Message
	} else if m := undefinedObject.FindStringSubmatch(err.Error()); m != nil {
		what = m[1]
	} else {
		return nil
	}
	return &hintError{cause: err, msg: fmt.Sprintf("the database is not migrated (%s): run `invoicing migrate up`", what)}
}
