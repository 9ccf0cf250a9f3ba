// Package schemastate says where a database schema stands against the
// migrations a binary embeds: the version applied, whether its migration
// failed half-way, how many are pending, and whether a process may run on
// it. Each context reads its own version table; the verdicts and the words
// an operator reads are the same for both.
package schemastate

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

// State is a schema's migrations in one database.
type State struct {
	Name    string // as `migrate status` lists it: invoicing, notification
	Table   string // its version table, as an operator's UPDATE names it
	Version uint   // the version applied, 0 for none
	Dirty   bool   // the migration of Version failed half-way
	Latest  uint   // the latest version this binary embeds
	Pending int    // the embedded migrations not applied
}

// Of returns the state of a schema at version (dirty or not) against the
// embedded versions, in ascending order.
func Of(name, table string, embedded []uint, version uint, dirty bool) State {
	s := State{Name: name, Table: table, Version: version, Dirty: dirty}
	if len(embedded) > 0 {
		s.Latest = embedded[len(embedded)-1]
	}
	for _, v := range embedded {
		if v > version {
			s.Pending++
		}
	}
	return s
}

// Clean returns a *DirtyError if s is dirty, else nil.
func (s State) Clean() error {
	if s.Dirty {
		return &DirtyError{Table: s.Table, Version: s.Version}
	}
	return nil
}

// Check returns nil if a process of this binary may run on s: a
// *DirtyError if it is dirty, a *VersionError if it is older than Latest.
// A newer schema runs: in a rolling deploy the next release migrates
// before this one's instances are replaced (migrations keep the previous
// release working), and one of them that restarts meanwhile must come back.
func (s State) Check() error {
	if err := s.Clean(); err != nil {
		return err
	}
	if s.Version < s.Latest {
		return &VersionError{Version: s.Version, Latest: s.Latest}
	}
	return nil
}

// Newer reports whether a later release migrated s beyond Latest.
func (s State) Newer() bool { return s.Version > s.Latest }

// DirtyError is the refusal of a schema whose migration Version failed
// half-way. Its message says how to repair it: golang-migrate's own "Fix
// and force version" names a command this binary does not have.
type DirtyError struct {
	Table   string // the version table, schema-qualified unless it is the default schema's
	Version uint
}

func (e *DirtyError) Error() string {
	schema := "the schema"
	if t, ok := strings.CutSuffix(e.Table, ".schema_migrations"); ok {
		schema = "the " + t + " schema"
	}
	return fmt.Sprintf("%s is dirty at version %d (migration %d failed half-way): finish it by hand (or undo it and set version to the one before), and clear the flag (UPDATE %s SET dirty = false)",
		schema, e.Version, e.Version, e.Table)
}

// Before returns err, if it is a *DirtyError, as the refusal to do what
// doing names ("migrating", "starting") until the schema is repaired; any
// other error unchanged.
func Before(err error, doing string) error {
	if d := (*DirtyError)(nil); errors.As(err, &d) {
		return fmt.Errorf("%w before %s", d, doing)
	}
	return err
}

// VersionError is the refusal of a schema at Version by a binary that
// needs Latest.
type VersionError struct{ Version, Latest uint }

func (e *VersionError) Error() string {
	return fmt.Sprintf("at version %d, this binary needs %d: run `invoicing migrate up`", e.Version, e.Latest)
}

// WriteStatus writes `migrate status`: a row per schema (its version,
// dirty flag, latest version and pending count), then what to do, if
// anything. It returns w's error.
func WriteStatus(w io.Writer, states ...State) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SCHEMA\tVERSION\tDIRTY\tLATEST\tPENDING")
	pending, dirty := 0, false
	var newer []string
	for _, s := range states {
		pending, dirty = pending+s.Pending, dirty || s.Dirty
		if s.Newer() {
			newer = append(newer, s.Name)
		}
		fmt.Fprintf(tw, "%s\t%d\t%t\t%d\t%d\n", s.Name, s.Version, s.Dirty, s.Latest, s.Pending)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	var err error
	switch {
	case len(newer) > 0:
		_, err = fmt.Fprintf(w, "the %s schema is newer than this binary's latest migration: a later release migrated it; run that release\n", strings.Join(newer, " and "))
	case pending > 0 || dirty:
		_, err = fmt.Fprintln(w, "run `invoicing migrate up` to apply the pending migrations (a dirty schema needs repair first)")
	default:
		_, err = fmt.Fprintln(w, "up to date")
	}
	return err
}
