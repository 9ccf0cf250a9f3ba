package app

// Len returns how many keys c holds, for tests.
func (c *CachedAPIKeys) Len() int {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return len(c.tenants)
}
