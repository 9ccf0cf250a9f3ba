// Package kernel holds what the service's aggregates share: Money and its
// Currency, the TenantID that scopes every read and write, the EventMeta
// every domain event carries, and the text rules both apply. It is pure Go
// and does no I/O; it knows no aggregate.
package kernel

import (
	"math"
	"math/bits"
	"strings"
)

// Currency is an ISO 4217 alphabetic code known to this package.
type Currency string

// exponents maps each active ISO 4217 currency to its number of minor-unit
// digits (ISO 4217 list one, funds and metals excluded).
var exponents = map[Currency]int{
	"AED": 2, "AFN": 2, "ALL": 2, "AMD": 2, "ANG": 2, "AOA": 2, "ARS": 2, "AUD": 2, "AWG": 2, "AZN": 2,
	"BAM": 2, "BBD": 2, "BDT": 2, "BGN": 2, "BHD": 3, "BIF": 0, "BMD": 2, "BND": 2, "BOB": 2, "BRL": 2,
	"BSD": 2, "BTN": 2, "BWP": 2, "BYN": 2, "BZD": 2, "CAD": 2, "CDF": 2, "CHF": 2, "CLP": 0, "CNY": 2,
	"COP": 2, "CRC": 2, "CUP": 2, "CVE": 2, "CZK": 2, "DJF": 0, "DKK": 2, "DOP": 2, "DZD": 2, "EGP": 2,
	"ERN": 2, "ETB": 2, "EUR": 2, "FJD": 2, "FKP": 2, "GBP": 2, "GEL": 2, "GHS": 2, "GIP": 2, "GMD": 2,
	"GNF": 0, "GTQ": 2, "GYD": 2, "HKD": 2, "HNL": 2, "HTG": 2, "HUF": 2, "IDR": 2, "ILS": 2, "INR": 2,
	"IQD": 3, "IRR": 2, "ISK": 0, "JMD": 2, "JOD": 3, "JPY": 0, "KES": 2, "KGS": 2, "KHR": 2, "KMF": 0,
	"KPW": 2, "KRW": 0, "KWD": 3, "KYD": 2, "KZT": 2, "LAK": 2, "LBP": 2, "LKR": 2, "LRD": 2, "LSL": 2,
	"LYD": 3, "MAD": 2, "MDL": 2, "MGA": 2, "MKD": 2, "MMK": 2, "MNT": 2, "MOP": 2, "MRU": 2, "MUR": 2,
	"MVR": 2, "MWK": 2, "MXN": 2, "MYR": 2, "MZN": 2, "NAD": 2, "NGN": 2, "NIO": 2, "NOK": 2, "NPR": 2,
	"NZD": 2, "OMR": 3, "PAB": 2, "PEN": 2, "PGK": 2, "PHP": 2, "PKR": 2, "PLN": 2, "PYG": 0, "QAR": 2,
	"RON": 2, "RSD": 2, "RUB": 2, "RWF": 0, "SAR": 2, "SBD": 2, "SCR": 2, "SDG": 2, "SEK": 2, "SGD": 2,
	"SHP": 2, "SLE": 2, "SOS": 2, "SRD": 2, "SSP": 2, "STN": 2, "SVC": 2, "SYP": 2, "SZL": 2, "THB": 2,
	"TJS": 2, "TMT": 2, "TND": 3, "TOP": 2, "TRY": 2, "TTD": 2, "TWD": 2, "TZS": 2, "UAH": 2, "UGX": 0,
	"USD": 2, "UYU": 2, "UZS": 2, "VED": 2, "VES": 2, "VND": 0, "VUV": 0, "WST": 2, "XAF": 0, "XCD": 2,
	"XCG": 2, "XOF": 0, "XPF": 0, "YER": 2, "ZAR": 2, "ZMW": 2, "ZWG": 2,
}

// ParseCurrency returns the Currency for an upper-case ISO 4217 code, or
// ErrInvalidCurrency if the code is not one this package knows.
func ParseCurrency(code string) (Currency, error) {
	c := Currency(code)
	if _, ok := exponents[c]; !ok || strings.ToUpper(code) != code {
		return "", ErrInvalidCurrency.With("currency", "%q is not an ISO 4217 currency code", code)
	}
	return c, nil
}

// Exponent returns the number of minor-unit digits of c (JPY 0, EUR 2, KWD 3).
func (c Currency) Exponent() int { return exponents[c] }

// String returns the ISO 4217 code.
func (c Currency) String() string { return string(c) }

// Money is an amount in a currency's minor units (cents for EUR, yen for JPY).
// It never uses floating point; arithmetic fails with ErrAmountOverflow instead
// of wrapping and with ErrCurrencyMismatch across currencies.
type Money struct {
	amount   int64
	currency Currency
}

// NewMoney returns minor units of currency c. It fails with ErrInvalidCurrency
// for an unknown currency.
func NewMoney(minor int64, c Currency) (Money, error) {
	if _, ok := exponents[c]; !ok {
		return Money{}, ErrInvalidCurrency.With("currency", "%q is not an ISO 4217 currency code", string(c))
	}
	return Money{amount: minor, currency: c}, nil
}

// Zero returns no money in currency c.
func Zero(c Currency) Money { return Money{currency: c} }

// Amount returns the amount in minor units.
func (m Money) Amount() int64 { return m.amount }

// Currency returns the currency.
func (m Money) Currency() Currency { return m.currency }

// IsZero reports whether the amount is zero.
func (m Money) IsZero() bool { return m.amount == 0 }

// IsNegative reports whether the amount is below zero.
func (m Money) IsNegative() bool { return m.amount < 0 }

// Add returns m+o, or an error on a currency mismatch or int64 overflow.
func (m Money) Add(o Money) (Money, error) {
	if m.currency != o.currency {
		return Money{}, ErrCurrencyMismatch
	}
	s := m.amount + o.amount
	// Overflow iff both operands have the same sign and the sum's sign differs.
	if (m.amount >= 0) == (o.amount >= 0) && (s >= 0) != (m.amount >= 0) {
		return Money{}, ErrAmountOverflow
	}
	return Money{amount: s, currency: m.currency}, nil
}

// Sub returns m-o, or an error on a currency mismatch or int64 overflow.
func (m Money) Sub(o Money) (Money, error) {
	if m.currency != o.currency {
		return Money{}, ErrCurrencyMismatch
	}
	d := m.amount - o.amount
	// Overflow iff the operands have different signs and the difference's sign
	// differs from m's. Negating o first would wrongly reject o == MinInt64
	// (e.g. -1 - MinInt64 == MaxInt64 fits).
	if (m.amount >= 0) != (o.amount >= 0) && (d >= 0) != (m.amount >= 0) {
		return Money{}, ErrAmountOverflow
	}
	return Money{amount: d, currency: m.currency}, nil
}

// Mul returns m*n, or ErrAmountOverflow if the product does not fit in int64.
func (m Money) Mul(n int64) (Money, error) {
	if m.amount == 0 || n == 0 {
		return Money{currency: m.currency}, nil
	}
	p := m.amount * n
	if p/n != m.amount || (m.amount == -1 && n == math.MinInt64) || (n == -1 && m.amount == math.MinInt64) {
		return Money{}, ErrAmountOverflow
	}
	return Money{amount: p, currency: m.currency}, nil
}

// RateBPS returns m × bps / 10,000 rounded half away from zero (half-up for the
// non-negative amounts invoices use), computed in 128 bits so it cannot overflow
// for 0 <= bps <= 10,000. It fails with ErrInvalidTaxRate outside that range.
func (m Money) RateBPS(bps int64) (Money, error) {
	if bps < 0 || bps > 10_000 {
		return Money{}, ErrInvalidTaxRate.With("tax_rate_bps", "tax rate must be between 0 and 10000 basis points")
	}
	neg := m.amount < 0
	abs := uint64(m.amount)
	if neg {
		abs = uint64(-(m.amount + 1)) + 1 // |MinInt64| without overflow
	}
	hi, lo := bits.Mul64(abs, uint64(bps))
	lo, carry := bits.Add64(lo, 5_000, 0)
	hi += carry
	// hi < 10,000 because abs <= 2^63 and bps <= 10^4, so Div64 cannot panic.
	q, _ := bits.Div64(hi, lo, 10_000)
	r := int64(q) // q <= abs, and q == 2^63 only when abs == 2^63 and bps == 10^4
	if neg {
		r = -r
	}
	return Money{amount: r, currency: m.currency}, nil
}
