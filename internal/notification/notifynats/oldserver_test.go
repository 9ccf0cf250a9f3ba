package notifynats_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/invoicing-dev/invoicing/internal/natstest"
	"github.com/invoicing-dev/invoicing/internal/notification"
	"github.com/invoicing-dev/invoicing/internal/notification/notifynats"
)

// TestReplayOnAServerBefore210CountsTheEventsItReactsTo replays on a
// nats-server that takes no FilterSubjects (Debian's 2.9.10): the replay
// reads every subject and skips those no reaction answers. What it reports
// read, and "already handled", must be the events it reacts to, not the
// invoice.created, credited and credit_note.issued it skipped.
func TestReplayOnAServerBefore210CountsTheEventsItReactsTo(t *testing.T) {
	bin := natstest.OldServer(t, 2, 10) // before FilterSubjects
	r := newRigOn(t, nil, natstest.StartProcess(t, bin), notification.DefaultReactions(),
		func(h notifynats.Handler) notifynats.Handler { return h })
	r.stopConsumer() // the replay alone reads the stream
	for i := range 2 {
		r.publish(uuid.NewString(), "invoicing.invoice.created", `{}`)
		r.publish(uuid.NewString(), notification.InvoiceIssued, issued(fmt.Sprintf("INV-2026-%06d", i+1), "ada@example.com"))
		r.publish(uuid.NewString(), "invoicing.invoice.credited", `{}`)
		r.publish(uuid.NewString(), "invoicing.credit_note.issued", `{}`)
	}
	for _, want := range []notifynats.Replayed{{Read: 2, Fresh: 2}, {Read: 2, Fresh: 0}} {
		got, err := r.cons.Replay(context.Background(), time.Now().Add(-time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Errorf("replay on nats-server %s = %+v, want %+v", r.nc.ConnectedServerVersion(), got, want)
		}
	}
}
