package invoicingpg

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/invoicing-dev/invoicing/internal/invoicing/app"
	"github.com/invoicing-dev/invoicing/internal/invoicing/domain/invoice"
	"github.com/invoicing-dev/invoicing/internal/invoicing/outbox"
	"github.com/invoicing-dev/invoicing/internal/kernel"
)

var (
	_ app.EventHistory = (*Events)(nil)
	_ app.EventFeed    = (*Events)(nil)
)

// Events reads the committed events of the outbox: the event feed and each
// invoice's history. It serves what the outbox retains: the relay prunes
// published events after its retention period (OUTBOX_RETENTION).
type Events struct {
	pool *pgxpool.Pool
}

// NewEvents returns the event reader on pool.
func NewEvents(pool *pgxpool.Pool) *Events { return &Events{pool: pool} }

// eventColumns are the columns of an outbox.EventRecord, on an outbox aliased
// o, in the order scanEvent reads them. The trace is NULL for events written
// outside a request or before migration 4.
const eventColumns = `o.sequence, o.event_id, o.tenant_id, o.aggregate_id, o.aggregate_version, o.event_type, ` + eventData + `, o.occurred_at,
    coalesce(o.correlation_id, ''), coalesce(o.traceparent, ''), coalesce(o.tracestate, '')`

// eventData is the event's data on an outbox row o: the text as written,
// or for a row written before migration 12 (or by the release before it),
// its jsonb payload rendered as text.
const eventData = `coalesce(o.data, o.payload::json)`

// scanEvent scans eventColumns into rec, then the following columns into
// more. The payload goes into a *[]byte: into a *json.RawMessage pgx would
// run json.Unmarshal, a second parse of JSON that PostgreSQL has already
// validated (and cloudevent.Encode checks again), a visible share of the
// relay's CPU and allocations (docs/architecture.md, "Profiling round"). It
// returns the scan's error.
func scanEvent(row pgx.Row, rec *outbox.EventRecord, more ...any) error {
	err := row.Scan(eventTargets(rec, more...)...)
	rec.OccurredAt = rec.OccurredAt.UTC()
	return err
}

// eventTargets returns the scan targets of eventColumns in rec, then more.
// A reader of many rows scans each into the same targets, then copies rec
// (every row overwrites every field, and pgx allocates the payload and the
// strings anew for each row).
func eventTargets(rec *outbox.EventRecord, more ...any) []any {
	return append([]any{&rec.Sequence, (*[16]byte)(&rec.ID), (*[16]byte)(&rec.Tenant), (*[16]byte)(&rec.AggregateID),
		&rec.Version, &rec.Type, &rec.Payload, &rec.OccurredAt,
		&rec.Trace.CorrelationID, &rec.Trace.TraceParent, &rec.Trace.TraceState}, more...)
}

// feedSQL reads a page of the feed in one statement, hence one snapshot.
//
// Why this order and this filter: a sequence number is taken when a row is
// inserted but becomes visible when its transaction commits, so a reader that
// moved its cursor past sequence 101 could miss a 100 that commits later. The
// feed therefore serves only rows whose transaction is older than every
// transaction still running (txid < the snapshot's xmin): all of those have
// ended, and any row that commits later comes from a transaction with a
// higher txid. And it walks rows in (txid, sequence) order, not by sequence
// alone: a transaction's xid is assigned at its first write, before it takes
// its outbox sequences, so an older transaction can hold a higher sequence
// than a younger one that is still running. In (txid, sequence) order every
// row that commits later sorts after every row already served, so a cursor
// never passes one. Within a transaction the order is ascending sequence;
// for each invoice it is version order, because a change takes its xid only
// once it holds the invoice's row lock (see beginAndLoad). The xmin covers
// every transaction on the server, so a long one anywhere delays the feed;
// it never makes it lose an event.
//
// The cursor is a sequence; the statement looks up its row's txid ($2 = 0:
// the beginning). cursor_ok is false if that row is not the tenant's (or was
// pruned). head is the last safe row after the cursor of any type, so a
// reader filtering by type moves past the rows it does not want. An empty
// page is one row of NULL event columns carrying only cursor_ok and head.
const feedSQL = `WITH c AS (
    SELECT txid, sequence FROM outbox WHERE $2::bigint > 0 AND tenant_id = $1 AND sequence = $2::bigint
    UNION ALL
    SELECT '0'::xid8, 0 WHERE $2::bigint = 0
), safe AS NOT MATERIALIZED (
    SELECT o.* FROM outbox o
    WHERE o.tenant_id = $1 AND (o.txid, o.sequence) > ((SELECT txid FROM c), (SELECT sequence FROM c))
      AND o.txid < pg_snapshot_xmin(pg_current_snapshot())
), page AS (
    SELECT * FROM safe WHERE $3 = '' OR event_type = $3 ORDER BY txid, sequence LIMIT $4::bigint
)
SELECT ` + eventColumns + `,
       EXISTS (SELECT 1 FROM c) AS cursor_ok,
       (SELECT sequence FROM safe ORDER BY txid DESC, sequence DESC LIMIT 1) AS head
FROM (SELECT) one LEFT JOIN page o ON true
ORDER BY o.txid, o.sequence`

// Feed implements app.EventFeed.Feed: the tenant's committed events after the
// event with sequence f.After, in (txid, sequence) order (see feedSQL), up to
// f.Limit of type f.Type (any if empty), fewer if their payloads would pass
// f.MaxBytes. NextAfter is the last event served, or, if fewer than f.Limit
// matched and none was left out for f.MaxBytes, the last safe event of any
// type, or f.After if there is none. A limit outside 1..app.MaxFeedLimit is
// clamped. It fails with app.ErrInvalidCursor if f.After is neither 0 nor
// the sequence of one of the tenant's events (it may have been pruned), and
// with database errors wrapped.
func (e *Events) Feed(ctx context.Context, tenant kernel.TenantID, f app.FeedFilter) (_ app.FeedPage, err error) {
	defer markUnavailable(&err)
	f.Limit = min(max(f.Limit, 1), app.MaxFeedLimit)
	rows, err := e.pool.Query(ctx, feedSQL, [16]byte(tenant), f.After, f.Type, f.Limit)
	if err != nil {
		return app.FeedPage{}, fmt.Errorf("postgres: read event feed: %w", err)
	}
	defer rows.Close()
	page := app.FeedPage{NextAfter: f.After}
	var cursorOK bool
	var head *int64
	b := app.PageBudget{Max: f.MaxBytes}
	for rows.Next() {
		var err error
		if rows.RawValues()[0] == nil { // an empty page; nil destinations skip its NULL event columns
			tail := make([]any, len(rows.FieldDescriptions()))
			tail[len(tail)-2], tail[len(tail)-1] = &cursorOK, &head
			err = rows.Scan(tail...)
		} else {
			var rec outbox.EventRecord
			if err = scanEvent(rows, &rec, &cursorOK, &head); err == nil && !b.Take(len(rec.Payload)) {
				break // closing rows skips the rest of the page
			}
			page.Events = append(page.Events, rec)
		}
		if err != nil {
			return app.FeedPage{}, fmt.Errorf("postgres: read event feed: %w", err)
		}
	}
	if err := rows.Err(); err != nil {
		return app.FeedPage{}, fmt.Errorf("postgres: read event feed: %w", err)
	}
	switch {
	case !cursorOK:
		return app.FeedPage{}, app.ErrInvalidCursor
	case b.Full || len(page.Events) == f.Limit:
		page.NextAfter = page.Events[len(page.Events)-1].Sequence
	case head != nil:
		page.NextAfter = *head
	}
	return page, nil
}

// historySQL reads an invoice's events only: the outbox also holds the events
// of credit notes, whose aggregate_id is the credit note's id, so without the
// type filter a credit note's id would answer as an invoice with a history.
const historySQL = `SELECT ` + eventColumns + ` FROM outbox o
WHERE o.aggregate_id = $1 AND o.tenant_id = $2 AND o.aggregate_version > $3::bigint
  AND o.event_type LIKE 'invoice.%'
ORDER BY o.aggregate_version LIMIT $4::bigint`

// History implements app.EventHistory.History: the invoice's retained events after
// version f.After in version order, up to app.MaxFeedLimit, fewer if their
// payloads would pass f.MaxBytes. Every row it sees is committed, and an
// invoice's rows are written in version order, so no snapshot trick is
// needed. It fails with invoice.ErrNotFound if the tenant has no such
// invoice, and with database errors wrapped.
func (e *Events) History(ctx context.Context, tenant kernel.TenantID, id invoice.ID, f app.HistoryFilter) (_ app.HistoryPage, err error) {
	defer markUnavailable(&err)
	rows, err := e.pool.Query(ctx, historySQL, [16]byte(id), [16]byte(tenant), f.After, app.MaxFeedLimit+1) // one more tells whether more follow
	if err != nil {
		return app.HistoryPage{}, fmt.Errorf("postgres: read events of invoice %s: %w", id, err)
	}
	defer rows.Close()
	var page app.HistoryPage
	b := app.PageBudget{Max: f.MaxBytes}
	for rows.Next() {
		var rec outbox.EventRecord
		if err := scanEvent(rows, &rec); err != nil {
			return app.HistoryPage{}, fmt.Errorf("postgres: read events of invoice %s: %w", id, err)
		}
		if len(page.Events) == app.MaxFeedLimit || !b.Take(len(rec.Payload)) {
			page.HasMore = true
			break // closing rows skips the rest
		}
		page.Events = append(page.Events, rec)
	}
	if err := rows.Err(); err != nil {
		return app.HistoryPage{}, fmt.Errorf("postgres: read events of invoice %s: %w", id, err)
	}
	if len(page.Events) > 0 {
		return page, nil
	}
	// No events: an unknown invoice, or one whose events were all pruned.
	// Invoices are never deleted, so asking now gives a consistent answer.
	var known bool
	if err := e.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM invoices WHERE id = $1 AND tenant_id = $2)`,
		[16]byte(id), [16]byte(tenant)).Scan(&known); err != nil {
		return app.HistoryPage{}, fmt.Errorf("postgres: read events of invoice %s: %w", id, err)
	}
	if !known {
		return app.HistoryPage{}, invoice.ErrNotFound
	}
	return app.HistoryPage{Events: []outbox.EventRecord{}}, nil
}
