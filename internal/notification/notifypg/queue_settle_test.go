package notifypg_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/invoicing-dev/invoicing/internal/notification"
	"github.com/invoicing-dev/invoicing/internal/notification/notifypg"
)

// nulMailer refuses every email with a text holding a NUL and bytes that
// are not UTF-8, as a hostile mail server's reply may.
type nulMailer struct{}

func (nulMailer) Send(context.Context, notification.Email) error {
	return errors.New("451 busy\x00\xff")
}

// TestEmailRefusedWithNULIsParked: a refusal whose text holds a NUL gets
// the task parked after NOTIFY_MAX_ATTEMPTS like any refusal, listed with
// the text; River stores a task's errors as JSON, which PostgreSQL refuses
// with a NUL, and the task would stay running.
func TestEmailRefusedWithNULIsParked(t *testing.T) {
	ctx := context.Background()
	pool := newPool(t)
	q, err := notifypg.NewQueue(pool, notifypg.QueueConfig{Mailer: nulMailer{}, MaxAttempts: 2, RetryBase: 10 * time.Millisecond},
		slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	if err := q.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = q.Stop(ctx) }()
	ev, err := notification.DecodeEvent([]byte(`{"specversion":"1.0","id":"019ad1c2-0000-7000-8000-000000000001","source":"/invoicing",
		"type":"invoicing.invoice.paid","subject":"019ad1c2-0000-7000-8000-0000000000aa","time":"2026-11-30T10:00:00Z","datacontenttype":"application/json",
		"tenantid":"019ad1c2-0000-7000-8000-0000000000bb","sequence":"12","invoiceversion":4,
		"data":{"invoice_id":"019ad1c2-0000-7000-8000-0000000000aa","number":"INV-2026-000009","customer":{"name":"Ada","email":"ada@example.com"},
		"currency":"JPY","total":1200,"amount_paid":1200,"paid_at":"2026-11-30T10:00:00Z"}}`))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := q.Inbox("notification").Handle(ctx, []notification.Event{ev}); err != nil {
		t.Fatal(err)
	}
	// River rescues a task left running only after twice the task timeout:
	// well past this wait.
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		failed, err := q.Failed(ctx, 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(failed) == 1 {
			if msg := failed[0].LastError; !strings.Contains(msg, "busy") || strings.ContainsRune(msg, 0) || !utf8.ValidString(msg) {
				t.Errorf("last error %q, want the refusal's text, valid UTF-8 without NUL", msg)
			}
			return
		}
		if time.Now().After(deadline) {
			counts, _ := q.Counts(ctx)
			t.Fatalf("the refused email's task is not parked after 20s: tasks by state %v", counts)
		}
	}
}
