package app

import (
	"slices"

	"github.com/invoicing-dev/invoicing/internal/invoicing/domain/invoice"
)

// Condition restricts a change to some versions of the invoice, as an HTTP
// If-Match does. The zero Condition allows every version.
type Condition struct {
	versions []int64
	set      bool
}

// IfVersion returns a Condition that allows only the given versions; with
// none, it allows no version at all (an If-Match naming no valid ETag).
func IfVersion(versions ...int64) Condition {
	return Condition{versions: versions, set: true}
}

// check returns ErrVersionMismatch unless c allows inv's version. Use
// cases call it first thing in their UpdateFunc: the version it sees is the
// one Invoices.Update loaded for this turn, which no concurrent change can
// move before the change commits.
func (c Condition) check(inv *invoice.Invoice) error {
	if c.set && !slices.Contains(c.versions, inv.Version()) {
		return ErrVersionMismatch
	}
	return nil
}
