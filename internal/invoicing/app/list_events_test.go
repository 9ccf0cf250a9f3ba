package app_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/invoicing-dev/invoicing/internal/invoicing/app"
	"github.com/invoicing-dev/invoicing/internal/invoicing/domain/invoice"
	"github.com/invoicing-dev/invoicing/internal/invoicing/outbox"
	"github.com/invoicing-dev/invoicing/internal/kernel"
)

// sliceEvents is an app.EventFeed over a slice whose Sequences ascend, with
// Feed's paging and byte budget. It records the limit of every Feed call.
type sliceEvents struct {
	recs   []outbox.EventRecord
	limits []int
}

func (s *sliceEvents) Feed(_ context.Context, _ kernel.TenantID, f app.FeedFilter) (app.FeedPage, error) {
	s.limits = append(s.limits, f.Limit)
	page := app.FeedPage{NextAfter: f.After}
	used, full := 0, false
	for _, r := range s.recs {
		if r.Sequence <= f.After {
			continue
		}
		if len(page.Events) == f.Limit {
			break
		}
		if len(page.Events) > 0 && used+len(r.Payload) > f.MaxBytes {
			full = true
			break
		}
		used += len(r.Payload)
		page.Events = append(page.Events, r)
	}
	switch {
	case full || len(page.Events) == f.Limit:
		page.NextAfter = page.Events[len(page.Events)-1].Sequence
	case len(s.recs) > 0 && s.recs[len(s.recs)-1].Sequence > f.After:
		page.NextAfter = s.recs[len(s.recs)-1].Sequence
	}
	return page, nil
}

func (s *sliceEvents) History(context.Context, kernel.TenantID, invoice.ID, app.HistoryFilter) (app.HistoryPage, error) {
	return app.HistoryPage{}, invoice.ErrNotFound
}

func events(n, size int) *sliceEvents {
	s := &sliceEvents{}
	for i := range n {
		s.recs = append(s.recs, outbox.EventRecord{Sequence: int64(i + 1), Type: "invoice.voided", Payload: make([]byte, size)})
	}
	return s
}

// A page of small events is read in chunks growing from 10 to 100; a page of
// large events ends at app.PageBytes, having asked for no more than 100
// events at once; and paging reads every event once.
func TestListEventsReadsInChunksWithinTheBudget(t *testing.T) {
	small := events(250, 100)
	page, err := app.New(nil, nil, small, nil).ListEvents.Handle(context.Background(), app.ListEvents{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Events) != 250 || page.NextAfter != 250 || fmt.Sprint(small.limits) != "[10 20 40 80 100 100]" {
		t.Errorf("250 small events: a page of %d, next_after %d, in reads of %v; want 250, 250, [10 20 40 80 100 100]",
			len(page.Events), page.NextAfter, small.limits)
	}

	const size = 100 << 10
	large := events(250, size)
	h := app.New(nil, nil, large, nil).ListEvents
	var seen []int64
	for after := int64(0); ; {
		large.limits = nil
		page, err := h.Handle(context.Background(), app.ListEvents{After: after, Limit: 1000})
		if err != nil {
			t.Fatal(err)
		}
		if len(page.Events) == 0 {
			break
		}
		if want := min(app.PageBytes/size, 250-len(seen)); len(page.Events) != want {
			t.Errorf("after %d: a page of %d events of %d bytes, want %d", after, len(page.Events), size, want)
		}
		for _, l := range large.limits {
			if l > 100 {
				t.Errorf("after %d: asked for %d events at once", after, l)
			}
		}
		for _, r := range page.Events {
			seen = append(seen, r.Sequence)
		}
		after = page.NextAfter
	}
	for i, s := range seen {
		if s != int64(i+1) {
			t.Fatalf("read %v, want 1..250 once each", seen)
		}
	}
	if len(seen) != 250 {
		t.Fatalf("read %d events, want 250", len(seen))
	}
}
