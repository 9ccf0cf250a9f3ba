package kernel_test

import (
	"errors"
	"math/big"
	"testing"

	"github.com/invoicing-dev/invoicing/internal/kernel"
)

// FuzzMoney checks Add, Sub, Mul and RateBPS against math/big for any
// operands: each returns the exact result when it fits in int64 and
// ErrAmountOverflow (never a wrapped value, never a panic) when it does not;
// RateBPS rounds half away from zero and rejects rates outside 0..10,000;
// amounts in two currencies never mix. The seed corpus is in
// testdata/fuzz/FuzzMoney.
func FuzzMoney(f *testing.F) {
	f.Fuzz(func(t *testing.T, a, b, n, bps int64, sameCurrency bool) {
		x, y := money(t, a, eur), money(t, b, eur)
		if !sameCurrency {
			y = money(t, b, "JPY")
			if _, err := x.Add(y); !errors.Is(err, kernel.ErrCurrencyMismatch) {
				t.Fatalf("%d EUR + %d JPY: err %v, want ErrCurrencyMismatch", a, b, err)
			}
			if _, err := x.Sub(y); !errors.Is(err, kernel.ErrCurrencyMismatch) {
				t.Fatalf("%d EUR - %d JPY: err %v, want ErrCurrencyMismatch", a, b, err)
			}
			y = money(t, b, eur)
		}
		A, B, N := big.NewInt(a), big.NewInt(b), big.NewInt(n)

		sum, err := x.Add(y)
		wantExact(t, "Add", a, b, sum, err, new(big.Int).Add(A, B))
		diff, err := x.Sub(y)
		wantExact(t, "Sub", a, b, diff, err, new(big.Int).Sub(A, B))
		prod, err := x.Mul(n)
		wantExact(t, "Mul", a, n, prod, err, new(big.Int).Mul(A, N))

		rated, err := x.RateBPS(bps)
		if bps < 0 || bps > 10_000 {
			if !errors.Is(err, kernel.ErrInvalidTaxRate) {
				t.Fatalf("RateBPS(%d, %d): err %v, want ErrInvalidTaxRate", a, bps, err)
			}
			return
		}
		// |a| × bps / 10,000, rounded half away from zero: always fits.
		want := new(big.Int).Mul(new(big.Int).Abs(A), big.NewInt(bps))
		want.Add(want, big.NewInt(5_000)).Quo(want, big.NewInt(10_000))
		if a < 0 {
			want.Neg(want)
		}
		if err != nil || !want.IsInt64() || rated.Amount() != want.Int64() || rated.Currency() != "EUR" {
			t.Fatalf("RateBPS(%d, %d) = %d, %v; want %s", a, bps, rated.Amount(), err, want)
		}
	})
}

// wantExact checks that got is want if want fits in int64, and that err is
// ErrAmountOverflow otherwise.
func wantExact(t *testing.T, op string, a, b int64, got kernel.Money, err error, want *big.Int) {
	t.Helper()
	if !want.IsInt64() {
		if !errors.Is(err, kernel.ErrAmountOverflow) {
			t.Fatalf("%s(%d, %d) = %d, %v; want ErrAmountOverflow (exact: %s)", op, a, b, got.Amount(), err, want)
		}
		return
	}
	if err != nil || got.Amount() != want.Int64() || got.Currency() != "EUR" {
		t.Fatalf("%s(%d, %d) = %d %s, %v; want %s EUR", op, a, b, got.Amount(), got.Currency(), err, want)
	}
}
