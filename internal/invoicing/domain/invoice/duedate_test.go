package invoice_test

import (
	"errors"
	"testing"
	"time"

	"github.com/invoicing-dev/invoicing/internal/failure"
	"github.com/invoicing-dev/invoicing/internal/invoicing/domain/invoice"
)

func TestParseDueDate(t *testing.T) {
	valid := map[string]time.Time{
		"2000-01-01": time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC),
		"2028-02-29": time.Date(2028, 2, 29, 0, 0, 0, 0, time.UTC),
		"9999-12-31": time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC),
	}
	for text, want := range valid {
		got, err := invoice.ParseDueDate(text)
		if err != nil || !got.Equal(want) || got.Location() != time.UTC {
			t.Errorf("ParseDueDate(%q) = %v, %v; want %v", text, got, err, want)
		}
	}
	for _, text := range []string{
		"0001-01-01", // Go's zero time, which New reads as "no due date"
		"0000-01-01", // PostgreSQL's 1 BC
		"1999-12-31", "10000-01-01", "-2026-01-01", "+2026-01-01",
		"2026-02-29", "2026-13-01", "2026-1-31", "2026-01-31T00:00:00Z", " 2026-01-31", "", "31/01/2026",
	} {
		got, err := invoice.ParseDueDate(text)
		var e *failure.Error
		if !errors.Is(err, invoice.ErrInvalidDueDate) || !errors.As(err, &e) || e.Field != "due_date" || !got.IsZero() {
			t.Errorf("ParseDueDate(%q) = %v, %v; want ErrInvalidDueDate naming due_date", text, got, err)
		}
	}
}

// New holds the range whoever parsed the date: a non-zero due date before
// 2000 or after 9999 is refused, whatever else is wrong.
func TestNewRefusesDueDateOutOfRange(t *testing.T) {
	for _, due := range []time.Time{
		time.Date(0, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(1, 1, 2, 0, 0, 0, 0, time.UTC),
		time.Date(1999, 12, 31, 23, 0, 0, 0, time.UTC),
		time.Date(2000, 1, 1, 0, 30, 0, 0, time.FixedZone("CET", 3600)).UTC(), // 1999-12-31 23:30 read in UTC
		time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC),
	} {
		inv, err := invoice.New(invoice.NewID(), tenant, eur, invoice.Customer{}, due, nil, t0)
		if inv != nil || !errors.Is(err, invoice.ErrInvalidDueDate) || !errors.Is(err, invoice.ErrInvalidCustomer) {
			t.Errorf("New with due date %v = %v, %v; want ErrInvalidDueDate and ErrInvalidCustomer", due, inv, err)
		}
	}
	inv, err := invoice.New(invoice.NewID(), tenant, eur, customer, time.Date(2000, 1, 1, 0, 30, 0, 0, time.FixedZone("CET", 3600)), nil, t0)
	must(t, err)
	if want := time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC); !inv.DueDate().Equal(want) {
		t.Errorf("due date %v, want %v", inv.DueDate(), want)
	}
}
