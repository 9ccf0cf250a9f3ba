package invoicingpg

import (
	"errors"
	"net/url"
	"strings"

	"github.com/jackc/pgx/v5/pgxpool"
)

// URLMaxConns returns the pool_max_conns of a PostgreSQL URL that
// CheckURL accepted, and whether it has one.
func URLMaxConns(v string) (int, bool) {
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

// CheckURL returns an error unless v is a postgres:// URL that pgx takes.
func CheckURL(v string) error {
	if !strings.HasPrefix(v, "postgres://") && !strings.HasPrefix(v, "postgresql://") {
		return errors.New("must be a postgres:// URL")
	}
	// The parser Connect uses, pool settings included; it reads no network,
	// only the URL (and PG* variables, passfile, certificates).
	_, err := pgxpool.ParseConfig(v)
	return err
}
