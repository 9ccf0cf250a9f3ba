package notifynats_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/invoicing-dev/invoicing/internal/natstest"
	"github.com/invoicing-dev/invoicing/internal/notification"
	"github.com/invoicing-dev/invoicing/internal/notification/notifynats"
	"github.com/invoicing-dev/invoicing/internal/notification/notifypg"
	"github.com/invoicing-dev/invoicing/internal/pgtest"
)

// BenchmarkIngest measures what the consumer takes in: events read from
// JetStream (embedded server), their ids inserted into the inbox and one
// task each stored, committed and acked. No email is sent (no Mailer), so
// the figure is the ingest path alone. Reported as events/s, with the
// payment reminders off and on (each paid event then also moves its
// invoice's reminder process, in the same transaction).
func BenchmarkIngest(b *testing.B) {
	for _, tc := range []struct {
		name     string
		schedule notification.Schedule
	}{{"reminders=off", nil}, {"reminders=on", notification.Schedule{72 * time.Hour}}} {
		b.Run(tc.name, func(b *testing.B) { benchIngest(b, tc.schedule) })
	}
}

func benchIngest(b *testing.B, schedule notification.Schedule) {
	ctx := context.Background()
	dbURL := pgtest.NewURL(b)
	if err := notifypg.Migrate(ctx, dbURL); err != nil {
		b.Fatal(err)
	}
	pool, err := pgxpool.New(ctx, dbURL)
	if err != nil {
		b.Fatal(err)
	}
	defer pool.Close()
	ns := natstest.New(b)
	nc, err := nats.Connect(ns.URL())
	if err != nil {
		b.Fatal(err)
	}
	defer nc.Close()
	js, _ := jetstream.New(nc)
	if _, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "INVOICING", Subjects: []string{"invoicing.>"}}); err != nil {
		b.Fatal(err)
	}
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	q, err := notifypg.NewQueue(pool, notifypg.QueueConfig{Reminders: schedule}, logger)
	if err != nil {
		b.Fatal(err)
	}
	cons, err := notifynats.New(nc, q.Inbox("notification"), notifynats.Config{}, logger)
	if err != nil {
		b.Fatal(err)
	}
	data := fmt.Sprintf(`{"invoice_id":"i","number":"INV-2026-000001","customer":{"name":"Ada","email":"ada@example.com"},"currency":"EUR","total":12000,"amount_paid":12000,"paid_at":%q}`, time.Now().UTC().Format(time.RFC3339))
	// The stream is filled before the clock starts: the figure is the
	// consumer's, not the publisher's.
	for i := range b.N {
		if i%1000 == 0 {
			<-js.PublishAsyncComplete() // stay under the client's limit of pending acks
		}
		ev := fmt.Sprintf(`{"specversion":"1.0","id":%q,"source":"/invoicing","type":"invoicing.invoice.paid","subject":%q,"time":"2026-11-30T10:00:00Z","datacontenttype":"application/json","tenantid":"t","sequence":"1","invoiceversion":4,"data":%s}`,
			uuid.NewString(), uuid.NewString(), data)
		if _, err := js.PublishAsync(notification.InvoicePaid, []byte(ev)); err != nil {
			b.Fatal(err)
		}
	}
	<-js.PublishAsyncComplete()

	b.ResetTimer()
	start := time.Now()
	rctx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); _ = cons.Run(rctx) }()
	for {
		if got, _ := cons.Counts(); got >= int64(b.N) {
			break
		}
		time.Sleep(time.Millisecond)
	}
	elapsed := time.Since(start)
	b.StopTimer()
	stop()
	<-done
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "events/s")
	if _, fresh := cons.Counts(); fresh != int64(b.N) {
		b.Fatalf("%d new events, want %d", fresh, b.N)
	}
}
