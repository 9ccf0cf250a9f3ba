package kernel_test

import (
	"errors"
	"math/big"
	"testing"

	"pgregory.net/rapid"

	"github.com/invoicing-dev/invoicing/internal/kernel"
)

func TestMoneyArithmeticIsExactOrOverflows(t *testing.T) {
	edgy := rapid.OneOf(
		rapid.Int64(),
		rapid.Int64Range(maxI-1000, maxI),
		rapid.Int64Range(minI, minI+1000),
		rapid.Int64Range(-3_100_000_000, 3_100_000_000), // around sqrt(MaxInt64)
		rapid.Int64Range(-2, 2),
	)
	rapid.Check(t, func(t *rapid.T) {
		a, b := edgy.Draw(t, "a"), edgy.Draw(t, "b")
		bps := rapid.Int64Range(0, 10_000).Draw(t, "bps")
		ma, _ := kernel.NewMoney(a, eur)
		mb, _ := kernel.NewMoney(b, eur)
		x, y := big.NewInt(a), big.NewInt(b)
		check := func(op string, got kernel.Money, err error, exact *big.Int) {
			if !exact.IsInt64() {
				if !errors.Is(err, kernel.ErrAmountOverflow) {
					t.Fatalf("%s(%d, %d) = %d, %v; want ErrAmountOverflow (exact %s)", op, a, b, got.Amount(), err, exact)
				}
				return
			}
			if err != nil || got.Amount() != exact.Int64() || got.Currency() != eur {
				t.Fatalf("%s(%d, %d) = %d %s, %v; want %s", op, a, b, got.Amount(), got.Currency(), err, exact)
			}
		}
		sum, err := ma.Add(mb)
		check("Add", sum, err, new(big.Int).Add(x, y))
		diff, err := ma.Sub(mb)
		check("Sub", diff, err, new(big.Int).Sub(x, y))
		prod, err := ma.Mul(b)
		check("Mul", prod, err, new(big.Int).Mul(x, y))
		// |a|×bps/10000 rounded half away from zero, then a's sign back.
		q := new(big.Int).Mul(new(big.Int).Abs(x), big.NewInt(bps))
		q.Add(q, big.NewInt(5_000)).Quo(q, big.NewInt(10_000))
		if a < 0 {
			q.Neg(q)
		}
		tax, err := ma.RateBPS(bps)
		if err != nil || tax.Amount() != q.Int64() || !q.IsInt64() {
			t.Fatalf("RateBPS(%d, %d) = %d, %v; want %s", a, bps, tax.Amount(), err, q)
		}
	})
}
