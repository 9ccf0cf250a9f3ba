package main

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/invoicing-dev/invoicing/internal/pgtest"
)

// serve runs the overdue job every OVERDUE_INTERVAL: an invoice issued
// past its due date becomes overdue without a request; `invoicing overdue`
// afterwards finds nothing left to record.
func TestServeRunsTheOverdueJobAndTheCommandFindsNothingTwice(t *testing.T) {
	dbURL := pgtest.NewURL(t)
	getenv := env(map[string]string{"DATABASE_URL": dbURL, "HTTP_ADDR": "127.0.0.1:0", "RELAY_ENABLED": "false", "OVERDUE_INTERVAL": "50ms"})
	ctx := context.Background()
	key := migrateWithKey(ctx, t, getenv)
	base, stop := startCommand(t, getenv, "serve")
	c := client{t: t, base: base, key: key}
	var ids []string
	for range 2 {
		inv := c.call("POST", "/v1/invoices", `{"customer":{"name":"Ada","email":"ada@example.com"},"currency":"EUR","due_date":"2026-01-15",
			"lines":[{"description":"Consulting","quantity":1,"unit_amount":5000}]}`, 201)
		id := inv["id"].(string)
		c.call("POST", "/v1/invoices/"+id+"/issue", ``, 200)
		ids = append(ids, id)
	}
	deadline := time.Now().Add(15 * time.Second)
	for _, id := range ids {
		for got := c.call("GET", "/v1/invoices/"+id, ``, 200); got["overdue"] != true; got = c.call("GET", "/v1/invoices/"+id, ``, 200) {
			if time.Now().After(deadline) {
				t.Fatalf("invoice %s not overdue after 15s: %v", id, got)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	stop()

	var out bytes.Buffer
	if err := run(ctx, []string{"overdue"}, getenv, &out); err != nil {
		t.Fatalf("overdue: %v", err)
	}
	if out.String() != "checked 0, recorded overdue 0, failed 0\n" {
		t.Errorf("invoicing overdue printed %q", out.String())
	}
	if err := run(ctx, []string{"overdue", "now"}, getenv, &out); err == nil {
		t.Error("invoicing overdue took an argument")
	}
}
