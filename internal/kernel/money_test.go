package kernel_test

import (
	"errors"
	"fmt"
	"math"
	"testing"

	"github.com/invoicing-dev/invoicing/internal/failure"
	"github.com/invoicing-dev/invoicing/internal/kernel"
)

const (
	maxI = math.MaxInt64
	minI = math.MinInt64
)

func TestParseCurrency(t *testing.T) {
	tests := []struct {
		code string
		want error
		exp  int
	}{
		{"EUR", nil, 2},
		{"USD", nil, 2},
		{"JPY", nil, 0},
		{"KRW", nil, 0},
		{"KWD", nil, 3},
		{"BHD", nil, 3},
		{"VES", nil, 2},
		{"VED", nil, 2}, // list one holds both Venezuelan codes since 2021
		{"eur", kernel.ErrInvalidCurrency, 0},
		{"Eur", kernel.ErrInvalidCurrency, 0},
		{"", kernel.ErrInvalidCurrency, 0},
		{"EU", kernel.ErrInvalidCurrency, 0},
		{"EURO", kernel.ErrInvalidCurrency, 0},
		{" EUR", kernel.ErrInvalidCurrency, 0},
		{"XXX", kernel.ErrInvalidCurrency, 0}, // "no currency" is not a currency
		{"XAU", kernel.ErrInvalidCurrency, 0}, // metals are excluded
		{"€", kernel.ErrInvalidCurrency, 0},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%q", tt.code), func(t *testing.T) {
			c, err := kernel.ParseCurrency(tt.code)
			if !errors.Is(err, tt.want) {
				t.Fatalf("ParseCurrency(%q) = %q, %v; want %v", tt.code, c, err, tt.want)
			}
			if tt.want != nil {
				var e *failure.Error
				if c != "" || !errors.As(err, &e) || e.Field != "currency" || e.Kind != failure.Invalid {
					t.Errorf("got %q, %#v", c, err)
				}
				if _, err := kernel.NewMoney(1, kernel.Currency(tt.code)); !errors.Is(err, kernel.ErrInvalidCurrency) {
					t.Errorf("NewMoney(%q) = %v, want ErrInvalidCurrency", tt.code, err)
				}
				return
			}
			if c.String() != tt.code || c.Exponent() != tt.exp {
				t.Errorf("got %q with exponent %d, want %q with %d", c, c.Exponent(), tt.code, tt.exp)
			}
		})
	}
}

// arith is a table of Money arithmetic: a op b = want, or err.
type arith struct {
	a, b, want int64
	err        error
}

func runArith(t *testing.T, name string, op func(a, b kernel.Money) (kernel.Money, error), tests []arith) {
	t.Helper()
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s(%d,%d)", name, tt.a, tt.b), func(t *testing.T) {
			got, err := op(money(t, tt.a, eur), money(t, tt.b, eur))
			if !errors.Is(err, tt.err) {
				t.Fatalf("err = %v, want %v", err, tt.err)
			}
			if tt.err == nil && (got.Amount() != tt.want || got.Currency() != eur) {
				t.Errorf("got %d %s, want %d %s", got.Amount(), got.Currency(), tt.want, eur)
			}
		})
	}
}

func TestMoneyAdd(t *testing.T) {
	runArith(t, "Add", kernel.Money.Add, []arith{
		{1, 2, 3, nil},
		{maxI, 0, maxI, nil},
		{maxI, 1, 0, kernel.ErrAmountOverflow},
		{1, maxI, 0, kernel.ErrAmountOverflow},
		{maxI, maxI, 0, kernel.ErrAmountOverflow},
		{maxI, -1, maxI - 1, nil},
		{maxI, minI, -1, nil},
		{minI, 0, minI, nil},
		{minI, -1, 0, kernel.ErrAmountOverflow},
		{-1, minI, 0, kernel.ErrAmountOverflow},
		{minI, minI, 0, kernel.ErrAmountOverflow},
		{minI, 1, minI + 1, nil},
		{-1, -1, -2, nil},
	})
}

func TestMoneySub(t *testing.T) {
	runArith(t, "Sub", kernel.Money.Sub, []arith{
		{3, 2, 1, nil},
		{0, maxI, -maxI, nil},
		{-1, maxI, minI, nil},
		{-2, maxI, 0, kernel.ErrAmountOverflow},
		{maxI, maxI, 0, nil},
		{maxI, -1, 0, kernel.ErrAmountOverflow},
		{maxI - 1, -1, maxI, nil},
		{minI, 1, 0, kernel.ErrAmountOverflow},
		{minI, -1, minI + 1, nil},
		{0, minI, 0, kernel.ErrAmountOverflow},
		{1, minI, 0, kernel.ErrAmountOverflow},
		{-1, minI, maxI, nil}, // -1 - (-2^63) = 2^63 - 1 fits
		{minI, minI, 0, nil},
		{minI + 5, minI, 5, nil},
	})
}

func TestMoneyMul(t *testing.T) {
	runArith(t, "Mul", func(a, b kernel.Money) (kernel.Money, error) { return a.Mul(b.Amount()) }, []arith{
		{3, 4, 12, nil},
		{maxI, 1, maxI, nil},
		{maxI, -1, -maxI, nil},
		{maxI, 2, 0, kernel.ErrAmountOverflow},
		{maxI, maxI, 0, kernel.ErrAmountOverflow},
		{minI, 1, minI, nil},
		{1, minI, minI, nil},
		{minI, -1, 0, kernel.ErrAmountOverflow},
		{-1, minI, 0, kernel.ErrAmountOverflow},
		{minI, 0, 0, nil},
		{0, minI, 0, nil},
		{minI, minI, 0, kernel.ErrAmountOverflow},
		{-1, -1, 1, nil},
		{1 << 62, 2, 0, kernel.ErrAmountOverflow},
		{-(1 << 62), 2, minI, nil},
		{3037000499, 3037000499, 9223372030926249001, nil}, // floor(sqrt(MaxInt64))²
		{3037000500, 3037000500, 0, kernel.ErrAmountOverflow},
		{-3037000500, 3037000500, 0, kernel.ErrAmountOverflow},
	})
}

func TestMoneyCurrencyMismatch(t *testing.T) {
	a, b := money(t, 1, eur), money(t, 1, "JPY")
	if _, err := a.Add(b); !errors.Is(err, kernel.ErrCurrencyMismatch) {
		t.Errorf("Add: %v, want ErrCurrencyMismatch", err)
	}
	if _, err := a.Sub(b); !errors.Is(err, kernel.ErrCurrencyMismatch) {
		t.Errorf("Sub: %v, want ErrCurrencyMismatch", err)
	}
	if _, err := a.Add(kernel.Money{}); !errors.Is(err, kernel.ErrCurrencyMismatch) {
		t.Errorf("Add zero Money: %v, want ErrCurrencyMismatch", err)
	}
	if z := kernel.Zero("KWD"); !z.IsZero() || z.IsNegative() || z.Currency() != "KWD" {
		t.Errorf("Zero(KWD) = %+v", z)
	}
}

func TestMoneyRateBPS(t *testing.T) {
	tests := []struct {
		amount, bps, want int64
		err               error
	}{
		{100, 50, 1, nil},  // 0.5 rounds up
		{99, 50, 0, nil},   // 0.495 rounds down
		{10, 2000, 2, nil}, // exact
		{1, 5000, 1, nil},  // 0.5
		{1, 4999, 0, nil},  // 0.4999
		{3, 5000, 2, nil},  // 1.5
		{0, 10_000, 0, nil},
		{12345, 0, 0, nil},
		{12345, 10_000, 12345, nil},
		{-100, 50, -1, nil}, // half away from zero
		{-99, 50, 0, nil},
		{maxI, 10_000, maxI, nil},
		{maxI, 9_999, 9222449699651090329, nil}, // …329.4193
		{maxI, 5_000, 4611686018427387904, nil}, // …903.5
		{maxI, 1, 922337203685478, nil},         // …477.5807
		{minI, 10_000, minI, nil},
		{minI, 9_999, -9222449699651090330, nil}, // …330.4192
		{100, -1, 0, kernel.ErrInvalidTaxRate},
		{100, 10_001, 0, kernel.ErrInvalidTaxRate},
		{100, minI, 0, kernel.ErrInvalidTaxRate},
		{100, maxI, 0, kernel.ErrInvalidTaxRate},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%d×%dbps", tt.amount, tt.bps), func(t *testing.T) {
			got, err := money(t, tt.amount, "KWD").RateBPS(tt.bps)
			if !errors.Is(err, tt.err) {
				t.Fatalf("err = %v, want %v", err, tt.err)
			}
			if tt.err == nil && (got.Amount() != tt.want || got.Currency() != "KWD") {
				t.Errorf("got %d %s, want %d KWD", got.Amount(), got.Currency(), tt.want)
			}
		})
	}
}

const eur kernel.Currency = "EUR"

func money(t testing.TB, minor int64, c kernel.Currency) kernel.Money {
	t.Helper()
	m, err := kernel.NewMoney(minor, c)
	if err != nil {
		t.Fatalf("NewMoney(%d, %s): %v", minor, c, err)
	}
	return m
}
