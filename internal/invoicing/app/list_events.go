package app

import (
	"context"
	"errors"
	"slices"

	"github.com/invoicing-dev/invoicing/internal/failure"
	"github.com/invoicing-dev/invoicing/internal/invoicing/domain/creditnote"
	"github.com/invoicing-dev/invoicing/internal/invoicing/domain/invoice"
	"github.com/invoicing-dev/invoicing/internal/invoicing/outbox"
	"github.com/invoicing-dev/invoicing/internal/kernel"
)

// Bounds of a page of the event feed.
const (
	DefaultFeedLimit = 100
	MaxFeedLimit     = 1000
)

// Errors of ListEvents.
var (
	ErrInvalidFeedLimit = &failure.Error{Kind: failure.Invalid, Code: "invalid_limit", Field: "limit", Message: "limit must be between 1 and 1000"}
	ErrInvalidEventType = &failure.Error{Kind: failure.Invalid, Code: "invalid_event_type", Field: "type", Message: "type is not an event type of this service"}
)

// ListEvents reads a page of a tenant's event feed: its committed events, for
// subscribers that catch up by pulling. The feed covers what the outbox
// retains (published events are pruned after the relay's retention period).
type ListEvents struct {
	Tenant kernel.TenantID
	After  int64  // FeedPage.NextAfter of the previous page; 0 for the first
	Type   string // empty: any; else one of invoice.EventTypes or creditnote.EventTypes, e.g. "invoice.paid"
	Limit  int    // 0: DefaultFeedLimit
}

// ListEventsHandler handles ListEvents.
type ListEventsHandler struct {
	events EventFeed
}

// Handle returns the next page of the feed: up to Limit events, fewer if
// their payloads would pass PageBytes. It fails with ErrInvalidCursor
// (field after) for a negative or unknown After, ErrInvalidFeedLimit for a
// limit outside 1..MaxFeedLimit and ErrInvalidEventType for an unknown type.
func (h ListEventsHandler) Handle(ctx context.Context, q ListEvents) (FeedPage, error) {
	if q.Limit == 0 {
		q.Limit = DefaultFeedLimit
	}
	switch {
	case q.After < 0:
		return FeedPage{}, ErrInvalidCursor.At("after")
	case q.Limit < 1 || q.Limit > MaxFeedLimit:
		return FeedPage{}, ErrInvalidFeedLimit
	case q.Type != "" && !slices.Contains(invoice.EventTypes, q.Type) && !slices.Contains(creditnote.EventTypes, q.Type):
		return FeedPage{}, ErrInvalidEventType
	}
	// Read a chunk at a time, while chunks come back full and the budget
	// lasts. A chunk takes its first event even past what is left of the
	// budget, and stops there: a page holds at most PageBytes plus one event.
	page := FeedPage{NextAfter: q.After}
	left := PageBytes
	for chunk := feedFirstChunk; ; chunk = min(2*chunk, feedMaxChunk) {
		want := min(q.Limit-len(page.Events), chunk)
		part, err := h.events.Feed(ctx, q.Tenant, FeedFilter{After: page.NextAfter, Type: q.Type, Limit: want, MaxBytes: left})
		if errors.Is(err, ErrInvalidCursor) {
			return FeedPage{}, ErrInvalidCursor.At("after")
		}
		if err != nil {
			return FeedPage{}, err
		}
		page.Events, page.NextAfter = append(page.Events, part.Events...), part.NextAfter
		left -= payloadBytes(part.Events)
		// A short chunk ends where the feed or the budget ends.
		if len(part.Events) < want || len(page.Events) == q.Limit || left <= 0 {
			return page, nil
		}
	}
}

// How many events ListEventsHandler asks EventFeed.Feed for at once: 10 at
// first, twice as many each time after, up to 100. A chunk that the byte
// budget stops still reads every row its statement selected, so a page of
// large events, which the budget ends early, reads at most a few events past
// its end; a page of 1000 small events costs 13 statements, not one.
const (
	feedFirstChunk = 10
	feedMaxChunk   = 100
)

// payloadBytes returns the size of the events' payloads, as EventFeed.Feed
// counts them against FeedFilter.MaxBytes.
func payloadBytes(recs []outbox.EventRecord) (n int) {
	for _, r := range recs {
		n += len(r.Payload)
	}
	return n
}
