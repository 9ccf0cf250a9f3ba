package app

import (
	"context"
	"sync"
	"time"

	"github.com/invoicing-dev/invoicing/internal/kernel"
)

// apiKeyCacheSize bounds the cached keys: far more than the keys in active
// use, and at most ~1 MiB of memory.
const apiKeyCacheSize = 10_000

var _ APIKeys = (*CachedAPIKeys)(nil)

// CachedAPIKeys is an APIKeys that remembers, for a short time, the tenants of
// the keys it resolved.
//
// Why: every API request authenticates, and the lookup was a database round
// trip of its own before the use case's transaction, a quarter of the pay
// path's four. The trade: a revoked key keeps working in a process for up to
// the TTL after revocation. Only successful lookups are cached, so a new key
// works at once and a wrong key always reaches the store.
type CachedAPIKeys struct {
	next  APIKeys
	ttl   time.Duration
	clock Clock

	mu      sync.RWMutex
	tenants map[[32]byte]cachedTenant
}

type cachedTenant struct {
	tenant  kernel.TenantID
	expires time.Time
}

// NewCachedAPIKeys returns next with its Tenant lookups cached for ttl
// (measured on clock), at most apiKeyCacheSize keys at once.
func NewCachedAPIKeys(next APIKeys, ttl time.Duration, clock Clock) *CachedAPIKeys {
	return &CachedAPIKeys{next: next, ttl: ttl, clock: clock, tenants: make(map[[32]byte]cachedTenant)}
}

// Create implements APIKeys.Create by calling the wrapped store; it caches
// nothing and returns its errors unchanged.
func (c *CachedAPIKeys) Create(ctx context.Context, tenantName string, hash []byte) (kernel.TenantID, error) {
	return c.next.Create(ctx, tenantName, hash)
}

// Tenant implements APIKeys.Tenant: a key resolved less than the TTL ago is
// answered from memory, any other by the wrapped store, whose errors
// (ErrUnauthorized included) are returned unchanged and not cached.
func (c *CachedAPIKeys) Tenant(ctx context.Context, hash []byte) (kernel.TenantID, error) {
	if len(hash) != 32 {
		return c.next.Tenant(ctx, hash)
	}
	k := [32]byte(hash)
	now := c.clock.Now()
	c.mu.RLock()
	e, ok := c.tenants[k]
	c.mu.RUnlock()
	if ok && now.Before(e.expires) {
		return e.tenant, nil
	}
	tenant, err := c.next.Tenant(ctx, hash)
	if err != nil {
		return tenant, err
	}
	c.mu.Lock()
	if len(c.tenants) >= apiKeyCacheSize {
		c.evict(now)
	}
	c.tenants[k] = cachedTenant{tenant: tenant, expires: now.Add(c.ttl)}
	c.mu.Unlock()
	return tenant, nil
}

// evict makes room in a full cache: it drops the expired entries, or, if
// none has expired, an arbitrary tenth (map order is random). Called with
// c.mu held.
func (c *CachedAPIKeys) evict(now time.Time) {
	for k, e := range c.tenants {
		if !now.Before(e.expires) {
			delete(c.tenants, k)
		}
	}
	for k := range c.tenants {
		if len(c.tenants) < apiKeyCacheSize*9/10 {
			break
		}
		delete(c.tenants, k)
	}
}
