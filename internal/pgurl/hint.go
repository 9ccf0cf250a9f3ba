package pgurl

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

// Hint returns err explained in one line when it is one a user fixes
// outside the service: a missing database (HintMissingDatabase), a server
// that cannot be reached or refuses the role, or a schema not migrated yet.
// The explanation names the first of vars whose URL names the database at
// fault (else the first of vars). Any other error, and nil, it returns
// unchanged. vars must not be empty.
func Hint(err error, vars ...Var) error {
	if err == nil {
		return nil
	}
	if h := HintMissingDatabase(err, vars...); h != err {
		return h
	}
	if h := hintConnect(err, vars); h != nil {
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
func hintConnect(err error, vars []Var) error {
	m := connectFailure.FindStringSubmatch(err.Error())
	if m == nil {
		return nil
	}
	role, database, kind, detail := m[1], m[2], m[3], m[4]
	v := varOf(vars, database)
	server := serverOf(v.URL)
	if kind == "dial" {
		reason := detail[strings.LastIndex(detail, ": ")+2:]
		return &hintError{cause: err, msg: fmt.Sprintf(
			"cannot reach PostgreSQL at %s (%s): %s; check that the server is running and listening there, or set %s to where it is",
			server, v.Name, reason, v.Name)}
	}
	f := fatalMessage.FindStringSubmatch(detail)
	if f == nil || !strings.HasPrefix(f[2], "28") { // 28000, 28P01: the role or its password
		return nil
	}
	return &hintError{cause: err, msg: fmt.Sprintf(
		"PostgreSQL at %s refused role %q (%s): %s; check the user and password in %s (createuser makes a role) and the server's pg_hba.conf",
		server, role, v.Name, f[1], v.Name)}
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
