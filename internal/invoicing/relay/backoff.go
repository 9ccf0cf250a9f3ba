package relay

import (
	"math/rand/v2"
	"time"
)

// backoff returns the wait before try n+1 after n consecutive failures
// (n >= 1): lo·2^(n-1) capped at hi, with "equal jitter" (a random half
// added to half), so a herd of relays or records does not retry in step
// while the wait still grows.
func backoff(n int, lo, hi time.Duration) time.Duration {
	d := hi
	if n < 1 {
		n = 1
	}
	if shift := n - 1; shift < 32 && lo<<shift > 0 && lo<<shift < hi {
		d = lo << shift
	}
	half := d / 2
	return half + rand.N(half+1)
}
