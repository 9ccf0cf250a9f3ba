package main

import (
	"strings"
	"testing"
)

// TestConfigTenantConcurrencyWithinWorkers: WEBHOOK_TENANT_CONCURRENCY is
// checked against WEBHOOK_WORKERS, the error naming the variable and the
// range; unset, it is left to the default share (a fifth of the workers).
func TestConfigTenantConcurrencyWithinWorkers(t *testing.T) {
	for _, tc := range []struct {
		workers, perTenant string
		want               int // 0: refused
	}{
		{"", "", 10},
		{"8", "", 1},
		{"8", "8", 8},
		{"8", "3", 3},
		{"8", "9", 0},
		{"", "51", 0},
		{"8", "0", 0},
	} {
		c, err := loadConfig(env(map[string]string{"WEBHOOK_WORKERS": tc.workers, "WEBHOOK_TENANT_CONCURRENCY": tc.perTenant}))
		if tc.want == 0 {
			workers := tc.workers
			if workers == "" {
				workers = "50"
			}
			if err == nil || !strings.Contains(err.Error(), `WEBHOOK_TENANT_CONCURRENCY="`+tc.perTenant+`"`) ||
				!strings.Contains(err.Error(), "from 1 to WEBHOOK_WORKERS ("+workers+")") {
				t.Errorf("WEBHOOK_WORKERS=%q WEBHOOK_TENANT_CONCURRENCY=%q: error %v, want one naming the variable and its range", tc.workers, tc.perTenant, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("WEBHOOK_WORKERS=%q WEBHOOK_TENANT_CONCURRENCY=%q refused: %v", tc.workers, tc.perTenant, err)
			continue
		}
		if got := c.Notify.Queue.Webhooks; got.PerTenant != tc.want {
			t.Errorf("WEBHOOK_WORKERS=%q WEBHOOK_TENANT_CONCURRENCY=%q: %d attempts per tenant, want %d", tc.workers, tc.perTenant, got.PerTenant, tc.want)
		}
	}
	c, err := loadConfig(env(map[string]string{"WEBHOOK_MAX_ENDPOINTS": "3"}))
	if err != nil || c.Notify.Queue.Webhooks.MaxEndpoints != 3 {
		t.Errorf("WEBHOOK_MAX_ENDPOINTS=3: %v, MaxEndpoints %d", err, c.Notify.Queue.Webhooks.MaxEndpoints)
	}
}
