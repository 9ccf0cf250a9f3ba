//go:build !unix

package natsembed

import "os"

// tryLock does not lock where flock is missing: the store is then
// guarded by nothing but the NATS_EMBEDDED_ADDR port both would take.
func tryLock(*os.File) (bool, error) { return true, nil }
