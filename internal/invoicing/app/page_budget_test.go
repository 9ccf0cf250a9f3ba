package app_test

import (
	"testing"

	"github.com/invoicing-dev/invoicing/internal/invoicing/app"
)

// TestPageBudget: the first event fits whatever its size, the next ones
// while the total stays within Max, and Max 0 bounds nothing.
func TestPageBudget(t *testing.T) {
	for _, tc := range []struct {
		max   int
		sizes []int
		fit   int
	}{
		{max: 10, sizes: []int{50, 1}, fit: 1},
		{max: 10, sizes: []int{4, 6, 1}, fit: 2},
		{max: 0, sizes: []int{1 << 20, 1 << 20}, fit: 2},
	} {
		b := app.PageBudget{Max: tc.max}
		fit := 0
		for _, s := range tc.sizes {
			if !b.Take(s) {
				break
			}
			fit++
		}
		if fit != tc.fit || b.Full != (fit < len(tc.sizes)) {
			t.Errorf("Max %d, sizes %v: %d fit (Full %v), want %d", tc.max, tc.sizes, fit, b.Full, tc.fit)
		}
	}
}
