package notifypg_test

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/invoicing-dev/invoicing/internal/notification"
	"github.com/invoicing-dev/invoicing/internal/notification/notifypg"
)

// BenchmarkEmailSends measures the emails/s the workers send for one
// tenant alone: b.N receipts queued (in batches of 500 events, untimed),
// then the default workers started and timed until the last is sent, to a
// mail server answering at once or after 5ms. Run it with -benchtime Nx.
func BenchmarkEmailSends(b *testing.B) {
	for _, delay := range []time.Duration{0, 5 * time.Millisecond} {
		b.Run("mailer="+delay.String(), func(b *testing.B) {
			ctx := context.Background()
			pool := newPool(b)
			m := &orderMailer{delay: delay}
			q, err := notifypg.NewQueue(pool, notifypg.QueueConfig{Mailer: m}, slog.New(slog.NewTextHandler(io.Discard, nil)))
			if err != nil {
				b.Fatal(err)
			}
			in := q.Inbox("notification")
			var evs []notification.Event
			for i := range b.N {
				evs = append(evs, paidEvent(b, "acme", "a@acme.example"))
				if len(evs) == 500 || i == b.N-1 {
					if _, err := in.Handle(ctx, evs); err != nil {
						b.Fatal(err)
					}
					evs = nil
				}
			}
			b.ResetTimer()
			start := time.Now()
			if err := q.Start(ctx); err != nil {
				b.Fatal(err)
			}
			for {
				if _, all := m.count(""); all >= b.N {
					break
				}
				time.Sleep(time.Millisecond)
			}
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "emails/s")
			b.StopTimer()
			_ = q.Stop(ctx)
		})
	}
}
