package invoicingpg_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/invoicing-dev/invoicing/internal/invoicing/invoicingpg"
	"github.com/invoicing-dev/invoicing/internal/pgtest"
)

// walUse is what EXPLAIN (ANALYZE, WAL) reports of a statement's own WAL,
// whatever else the server writes meanwhile.
type walUse struct {
	Records, FPI, Bytes float64
}

// explainWAL runs sql under EXPLAIN (ANALYZE, WAL) on conn and returns the
// WAL it wrote (its commit record, a few dozen bytes, aside).
func explainWAL(b *testing.B, conn *pgxpool.Conn, sql string, args ...any) walUse {
	b.Helper()
	var out []byte
	if err := conn.QueryRow(context.Background(), `EXPLAIN (ANALYZE, WAL, FORMAT JSON) `+sql, args...).Scan(&out); err != nil {
		b.Fatal(err)
	}
	var plan []struct {
		Plan struct {
			Records float64 `json:"WAL Records"`
			FPI     float64 `json:"WAL FPI"`
			Bytes   float64 `json:"WAL Bytes"`
		} `json:"Plan"`
	}
	if err := json.Unmarshal(out, &plan); err != nil || len(plan) != 1 {
		b.Fatalf("EXPLAIN output %s: %v", out, err)
	}
	return walUse{plan[0].Plan.Records, plan[0].Plan.FPI, plan[0].Plan.Bytes}
}

// outboxStats sums the rows of pg_stat_user_tables of the outbox and the
// relay's tables beside it.
type outboxStats struct{ upd, hot, dead float64 }

func readOutboxStats(b *testing.B, conn *pgxpool.Conn) outboxStats {
	b.Helper()
	ctx := context.Background()
	// This session's counts reach the statistics at its next report,
	// which is forced; a new transaction then reads them.
	if _, err := conn.Exec(ctx, `SELECT pg_stat_force_next_flush()`); err != nil {
		b.Fatal(err)
	}
	if _, err := conn.Exec(ctx, `SELECT 1`); err != nil {
		b.Fatal(err)
	}
	var s outboxStats
	if err := conn.QueryRow(ctx, `SELECT sum(n_tup_upd), sum(n_tup_hot_upd), sum(n_dead_tup) FROM pg_stat_user_tables
WHERE relname IN ('outbox', 'outbox_position', 'outbox_held')`).
		Scan(&s.upd, &s.hot, &s.dead); err != nil {
		b.Fatal(err)
	}
	return s
}

// BenchmarkOutboxWriteAmplification states what publishing costs the
// outbox per event: the WAL its insert writes (the payment's transaction,
// both data columns, as the repository writes them),
// the WAL the relay's marking (the advance of its position) writes, and the
// dead tuples and non-HOT updates the marking leaves for vacuum in the
// outbox and the relay's tables. Each iteration inserts 5,000 events of an
// invoice.paid's size and marks them in batches of 500, as the relay does. It reads the statements' own WAL, so other databases
// on the server do not disturb it.
func BenchmarkOutboxWriteAmplification(b *testing.B) {
	const events, batch = 5000, 500
	ctx := context.Background()
	pool := pgtest.New(b)
	conn, err := pool.Acquire(ctx)
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Release()
	mark := invoicingpg.Statements()["advanceSQL"]
	var ins, marked walUse
	var dead, nonHOT float64
	for b.Loop() {
		before := readOutboxStats(b, conn)
		w := explainWAL(b, conn, `INSERT INTO outbox (event_id, tenant_id, aggregate_id, aggregate_version, event_type, data, payload, occurred_at)
SELECT gen_random_uuid(), gen_random_uuid(), gen_random_uuid(), 2, 'invoice.paid', $1::json, $1::jsonb, now()
FROM generate_series(1, $2::int)`, benchPayload, events)
		ins.Records, ins.FPI, ins.Bytes = ins.Records+w.Records, ins.FPI+w.FPI, ins.Bytes+w.Bytes
		var seqs []int64
		if err := conn.QueryRow(ctx, `SELECT array_agg(o.sequence ORDER BY o.txid, o.sequence)
FROM outbox o, outbox_position p WHERE p.partition = 0 AND (o.txid, o.sequence) > (p.txid, p.sequence)`).Scan(&seqs); err != nil {
			b.Fatal(err)
		}
		for i := 0; i < len(seqs); i += batch {
			w := explainWAL(b, conn, mark, seqs[i:min(i+batch, len(seqs))])
			marked.Records, marked.FPI, marked.Bytes = marked.Records+w.Records, marked.FPI+w.FPI, marked.Bytes+w.Bytes
		}
		after := readOutboxStats(b, conn)
		dead += after.dead - before.dead
		nonHOT += (after.upd - after.hot) - (before.upd - before.hot)
	}
	n := float64(events * b.N)
	b.ReportMetric(ins.Bytes/n, "insert-walB/event")
	b.ReportMetric(marked.Bytes/n, "mark-walB/event")
	b.ReportMetric(marked.Records/n, "mark-walrec/event")
	b.ReportMetric(marked.FPI/n, "mark-fpi/event")
	b.ReportMetric(dead/n, "dead-tuples/event")
	b.ReportMetric(nonHOT/n, "non-hot-updates/event")
}

// benchPayload is an invoice.paid event's data, about 300 bytes.
const benchPayload = `{"invoice_id": "0190f7a8-0000-7000-8000-000000000003", "number": "INV-2026-000123",
"customer": {"name": "Acme Corporation", "email": "accounts.payable@acme.example"}, "currency": "EUR",
"total": 123456, "amount_paid": 123456, "paid_at": "2026-03-01T10:00:00.123456Z"}`
