package nats_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"
	natsgo "github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/invoicing-dev/invoicing/internal/infra/nats/natstest"
	"github.com/invoicing-dev/invoicing/internal/infra/postgres/pgtest"
	"github.com/invoicing-dev/invoicing/internal/notification"
	notifynats "github.com/invoicing-dev/invoicing/internal/notification/nats"
	"github.com/invoicing-dev/invoicing/internal/notification/postgres"
)

// TestReplayOnAServerBefore210CountsTheEventsItReactsTo replays on a
// nats-server that takes no FilterSubjects (Debian's 2.9.10): the replay
// reads every subject and skips those no reaction answers. What it reports
// read, and "already handled", must be the events it reacts to, not the
// invoice.created, credited and credit_note.issued it skipped.
func TestReplayOnAServerBefore210CountsTheEventsItReactsTo(t *testing.T) {
	bin := natstest.OldServer(t, 2, 10) // before FilterSubjects
	ctx := context.Background()
	dbURL := pgtest.NewURL(t)
	if err := postgres.Migrate(ctx, dbURL); err != nil {
		t.Fatal(err)
	}
	pool, err := pgxpool.New(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	nc, err := natsgo.Connect(natstest.StartProcess(t, bin))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "INVOICING", Subjects: []string{"invoicing.>"}}); err != nil {
		t.Fatal(err)
	}
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	q, err := postgres.NewQueue(pool, postgres.QueueConfig{Reactions: notification.DefaultReactions()}, logger) // no Mailer: tasks wait
	if err != nil {
		t.Fatal(err)
	}
	cons, err := notifynats.New(nc, q.Inbox("notification"), notifynats.Config{}, logger)
	if err != nil {
		t.Fatal(err)
	}
	publish := func(typ, data string) {
		id := uuid.NewString()
		ev := fmt.Sprintf(`{"specversion":"1.0","id":%q,"source":"/invoicing","type":%q,"subject":"inv-%s","time":%q,`+
			`"datacontenttype":"application/json","tenantid":"t","sequence":"7","invoiceversion":1,"data":%s}`,
			id, typ, id[:8], time.Now().UTC().Format(time.RFC3339Nano), data)
		if _, err := js.Publish(ctx, typ, []byte(ev)); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 2 {
		publish("invoicing.invoice.created", `{}`)
		publish(notification.InvoiceIssued, issued(fmt.Sprintf("INV-2026-%06d", i+1), "ada@example.com"))
		publish("invoicing.invoice.credited", `{}`)
		publish("invoicing.credit_note.issued", `{}`)
	}
	for _, want := range []notifynats.Replayed{{Read: 2, Fresh: 2}, {Read: 2, Fresh: 0}} {
		got, err := cons.Replay(ctx, time.Now().Add(-time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Errorf("replay on nats-server %s = %+v, want %+v", nc.ConnectedServerVersion(), got, want)
		}
	}
}
