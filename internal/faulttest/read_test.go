package faulttest

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// outboxRow is a committed event as the database holds it.
type outboxRow struct {
	id, invoice, typ string
	version          int64
}

// streamed is a message of the stream, as the checker reads it.
type streamed struct {
	msgID string
	ce    struct {
		ID             string `json:"id"`
		Type           string `json:"type"`
		Subject        string `json:"subject"`
		InvoiceVersion int64  `json:"invoiceversion"`
	}
}

// queryOutbox returns every outbox row, published or not, in sequence order.
func queryOutbox(ctx context.Context, db *pgx.Conn) ([]outboxRow, error) {
	rs, err := db.Query(ctx, `SELECT event_id, aggregate_id, event_type, aggregate_version FROM outbox ORDER BY sequence`)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rs, func(r pgx.CollectableRow) (outboxRow, error) {
		var o outboxRow
		var id, inv uuid.UUID
		err := r.Scan(&id, &inv, &o.typ, &o.version)
		o.id, o.invoice = id.String(), inv.String()
		return o, err
	})
}

// readStream returns every message of the INVOICING stream in stream order.
func readStream(ctx context.Context, natsURL string) ([]streamed, error) {
	nc, err := nats.Connect(natsURL)
	if err != nil {
		return nil, err
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		return nil, err
	}
	s, err := js.Stream(ctx, "INVOICING")
	if err != nil {
		return nil, fmt.Errorf("stream INVOICING: %w", err)
	}
	info, err := s.Info(ctx)
	if err != nil {
		return nil, err
	}
	if st := info.State; st.Msgs > 0 && (st.FirstSeq != 1 || st.Msgs != st.LastSeq) {
		return nil, fmt.Errorf("stream INVOICING has lost messages: %+v", info.State)
	}
	cons, err := s.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{DeliverPolicy: jetstream.DeliverAllPolicy})
	if err != nil {
		return nil, err
	}
	// Messages, not Fetch: each Fetch of an ordered consumer creates a new
	// server-side consumer, and on a cluster a pull sent before the new
	// consumer's interest has reached the node the client is connected to
	// is answered "no responders". The iterator recreates its consumer from
	// the last message delivered on such an answer instead of failing.
	it, err := cons.Messages()
	if err != nil {
		return nil, err
	}
	defer it.Stop()
	out := make([]streamed, 0, info.State.Msgs)
	for uint64(len(out)) < info.State.Msgs {
		m, err := it.Next(jetstream.NextMaxWait(10 * time.Second))
		if err != nil {
			return nil, fmt.Errorf("message %d of %d: %w", len(out)+1, info.State.Msgs, err)
		}
		var s streamed
		s.msgID = m.Headers().Get(nats.MsgIdHdr)
		if err := json.Unmarshal(m.Data(), &s.ce); err != nil {
			return nil, fmt.Errorf("stream message is not a CloudEvent: %w: %s", err, m.Data())
		}
		out = append(out, s)
	}
	return out, nil
}

// invoiceRow is an invoice as the checker reads it.
type invoiceRow struct {
	id, tenant, status, number string
	version                    int64
}

// queryInvoices returns every invoice.
func queryInvoices(ctx context.Context, db *pgx.Conn) ([]invoiceRow, error) {
	rs, err := db.Query(ctx, `SELECT id, tenant_id, status, coalesce(number, ''), version FROM invoices`)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rs, func(r pgx.CollectableRow) (invoiceRow, error) {
		var i invoiceRow
		var id, tenant uuid.UUID
		err := r.Scan(&id, &tenant, &i.status, &i.number, &i.version)
		i.id, i.tenant = id.String(), tenant.String()
		return i, err
	})
}
