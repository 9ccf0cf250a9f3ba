package notification

import (
	"strconv"
	"strings"
)

// exponents lists the ISO 4217 currencies whose minor unit is not the
// hundredth; every other code has two decimals.
var exponents = map[string]int{
	"BIF": 0, "CLP": 0, "DJF": 0, "GNF": 0, "ISK": 0, "JPY": 0, "KMF": 0, "KRW": 0, "PYG": 0,
	"RWF": 0, "UGX": 0, "VND": 0, "VUV": 0, "XAF": 0, "XOF": 0, "XPF": 0,
	"BHD": 3, "IQD": 3, "JOD": 3, "KWD": 3, "LYD": 3, "OMR": 3, "TND": 3,
}

// FormatAmount writes an amount given in the currency's minor units with the
// currency code, thousands grouped by commas and as many decimals as the
// currency has: "EUR 1,120.00", "JPY 1,200", "KWD 1.500", "EUR -0.05".
func FormatAmount(minor int64, currency string) string {
	exp, ok := exponents[currency]
	if !ok {
		exp = 2
	}
	neg := minor < 0
	// Work on the decimal text so that math.MinInt64 needs no special case.
	digits := strconv.FormatInt(minor, 10)
	digits = strings.TrimPrefix(digits, "-")
	if len(digits) <= exp {
		digits = strings.Repeat("0", exp-len(digits)+1) + digits
	}
	whole, frac := digits[:len(digits)-exp], digits[len(digits)-exp:]
	var b strings.Builder
	b.WriteString(currency)
	b.WriteByte(' ')
	if neg {
		b.WriteByte('-')
	}
	for i, c := range whole {
		if i > 0 && (len(whole)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if exp > 0 {
		b.WriteByte('.')
		b.WriteString(frac)
	}
	return b.String()
}
