package invoice

import "fmt"

// FormatNumber returns the invoice number of the n-th invoice a tenant
// issues in year, e.g. INV-2026-000042: the numbering policy. The counter
// that hands out n (gapless, per tenant and year) is the repository's.
func FormatNumber(year int, n int64) string {
	return fmt.Sprintf("INV-%04d-%06d", year, n)
}
