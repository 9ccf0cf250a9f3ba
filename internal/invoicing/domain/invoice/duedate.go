package invoice

import (
	"time"

	"github.com/invoicing-dev/invoicing/internal/failure"
)

// The years a due date may fall in. The upper bound is the last year a
// YYYY-MM-DD date can write. The lower bound is fixed, not relative to the
// clock, so that the rule reads the same at creation and ever after: an
// invoice made by this service (2026 on) that fell due before 2000 is a
// mistyped year ("0026", "1926"), and it keeps Go's zero time (year 1, which
// means "no due date") and years PostgreSQL stores as BC out of the invoice.
const (
	MinDueYear = 2000
	MaxDueYear = 9999
)

// ParseDueDate returns the due date text names, YYYY-MM-DD (an RFC 3339
// full-date), as midnight UTC. It fails with ErrInvalidDueDate, naming
// "due_date", unless text is a real calendar date in the years MinDueYear to
// MaxDueYear.
func ParseDueDate(text string) (time.Time, error) {
	d, err := time.Parse(time.DateOnly, text)
	if err != nil || !dueDateInRange(d) {
		return time.Time{}, errDueDate()
	}
	return d, nil
}

// dueDateInRange reports whether d's calendar date, read in d's location,
// falls in the years MinDueYear to MaxDueYear.
func dueDateInRange(d time.Time) bool {
	y := d.Year()
	return y >= MinDueYear && y <= MaxDueYear
}

func errDueDate() *failure.Error {
	return ErrInvalidDueDate.With("due_date", "due_date must be a date from %d-01-01 to %d-12-31, such as 2026-01-31", MinDueYear, MaxDueYear)
}
