package invoicingpg

import (
	"flag"
	"os"
	"regexp"
	"strconv"
	"testing"
)

var updatePgbench = flag.Bool("update-pgbench", false, "rewrite bench/pgbench/pay.sql from the repository's SQL")

// pgbenchPayPath is the pgbench script of the benchmark's ceiling.
const pgbenchPayPath = "../../../bench/pgbench/pay.sql"

// Values pay.sql binds in place of the service's parameters: invoice :n of
// the seeded tenant, paid in full by one payment, with a request id.
const (
	benchInvoice = `lpad(to_hex(:n::bigint), 32, '0')::uuid`
	benchTenant  = `'00000000-0000-7000-8000-0000000000b1'`
)

// bind replaces each $N in sql with args[N-1].
func bind(sql string, args ...string) string {
	return regexp.MustCompile(`\$(\d+)`).ReplaceAllStringFunc(sql, func(p string) string {
		n, _ := strconv.Atoi(p[1:])
		return args[n-1]
	})
}

// pgbenchPayScript returns bench/pgbench/pay.sql: the statements of one
// payment as the repository sends them (lockTimeoutSQL, lockInvoiceSQL,
// getSQL, updateInvoiceSQL, insertPaymentsSQL, insertOutboxSQL), in the same
// round trips, with
// pgbench expressions for the parameters.
func pgbenchPayScript() string {
	paid := `'{"invoice_id": "00000000-0000-0000-0000-000000000001", "number": "INV-2030-0000001", "customer": {"name": "Load Test GmbH", "email": "billing@load.example"}, "currency": "EUR", "total": 199447, "amount_paid": 199447, "paid_at": "2030-03-01T10:00:00.123456Z"}'`
	recorded := `'{"invoice_id": "00000000-0000-0000-0000-000000000001", "number": "INV-2030-0000001", "payment_id": "0190f7a8-0000-7000-8000-000000000009", "currency": "EUR", "amount": 199447, "reference": "pgbench-0190f7a8-0000-7000-8000-000000000009", "amount_paid": 199447, "amount_due": 0, "received_at": "2030-03-01T10:00:00.123456Z"}'`
	return `-- One pay transaction, statement for statement what the service sends for
-- POST /v1/invoices/{id}/payments, in the same three round trips:
--   1. BEGIN + the lock timeout + the invoice's row lock + load the invoice
--      with its lines and payments (pipelined);
--   2. the version-guarded UPDATE, the payment insert, the outbox insert of
--      its two events (payment_recorded, paid), pipelined;
--   3. COMMIT.
-- Generated from internal/invoicing/invoicingpg (lockTimeoutSQL, lockInvoiceSQL,
-- getSQL, updateInvoiceSQL, insertPaymentsSQL, insertOutboxSQL) by
--   go test ./internal/invoicing/invoicingpg -run TestPgbenchPayScriptIsTheServiceSQL -update-pgbench
-- Run with -M prepared (pgx prepares its statements too) and
-- -D i=0 -D clients=C -D invoices=N: client c pays invoices c+1, c+1+C, ...,
-- so every transaction pays a fresh, open invoice seeded by seed.sql.
\set i :i + 1
\set n 1 + (:client_id + :clients * (:i - 1)) % :invoices
\startpipeline
BEGIN;
` + bind(lockTimeoutSQL, "'"+lockTimeout(DefaultLockTimeout)+"'") + `;
` + bind(lockInvoiceSQL, benchInvoice, benchTenant) + `;
` + bind(getSQL, benchInvoice, benchTenant) + `;
\endpipeline
\startpipeline
` + bind(updateInvoiceSQL, benchInvoice, benchTenant, "2", `'INV-2030-' || lpad(:n::text, 7, '0')`, "'paid'",
		"'Load Test GmbH'", "'billing@load.example'", "'2030-12-31'", "169997", "29450", "199447", "199447",
		"now()", "now()", "NULL", "NULL", "4", "now()", "'EUR'", "'{}'", "NULL", "NULL", "0", "0") + `;
` + bind(insertPaymentsSQL, benchInvoice, "ARRAY[gen_random_uuid()]", "ARRAY[199447]",
		"ARRAY['pgbench-' || gen_random_uuid()]", "ARRAY[now()]") + `;
` + bind(insertOutboxSQL, "ARRAY[gen_random_uuid(), gen_random_uuid()]", "ARRAY["+benchTenant+", "+benchTenant+"]",
		"ARRAY["+benchInvoice+", "+benchInvoice+"]", "ARRAY[3, 4]", "ARRAY['invoice.payment_recorded', 'invoice.paid']",
		"ARRAY["+recorded+",\n    "+paid+"]", "ARRAY[now(), now()]", "'req-' || :n", "NULL", "NULL") + `;
\endpipeline
END;
`
}

// TestPgbenchPayScriptIsTheServiceSQL keeps the benchmark's ceiling honest:
// pgbench must run the statements the repository runs for a payment, so a
// change to them shows in pay.sql (and in the next `make bench`).
func TestPgbenchPayScriptIsTheServiceSQL(t *testing.T) {
	want := pgbenchPayScript()
	if *updatePgbench {
		if err := os.WriteFile(pgbenchPayPath, []byte(want), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(pgbenchPayPath)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != want {
		t.Fatalf("%s is not the repository's pay SQL; run\n"+
			"  go test ./internal/invoicing/invoicingpg -run TestPgbenchPayScriptIsTheServiceSQL -update-pgbench\nWant:\n%s", pgbenchPayPath, want)
	}
}
