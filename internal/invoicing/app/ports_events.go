package app

import (
	"context"

	"github.com/invoicing-dev/invoicing/internal/invoicing/domain/invoice"
	"github.com/invoicing-dev/invoicing/internal/invoicing/outbox"
	"github.com/invoicing-dev/invoicing/internal/kernel"
)

// FeedFilter selects a page of the event feed.
type FeedFilter struct {
	After int64  // the Sequence of the last event read, 0 to start from the beginning
	Type  string // empty: any; else one of invoice.EventTypes or creditnote.EventTypes
	Limit int    // 1..MaxFeedLimit
	// MaxBytes bounds the payloads of a page: reading stops before the event
	// that would pass it, unless it is the first. 0: no bound.
	MaxBytes int
}

// FeedPage is a page of the event feed.
type FeedPage struct {
	Events []outbox.EventRecord
	// NextAfter is the FeedFilter.After to read on with: the Sequence of the
	// last event read (of any type), or After itself if there was none.
	NextAfter int64
}

// HistoryFilter selects a page of an invoice's history.
type HistoryFilter struct {
	After    int64 // the Version of the last event read, 0 to start from the beginning
	MaxBytes int   // as FeedFilter.MaxBytes
}

// HistoryPage is a page of an invoice's history, in version order.
type HistoryPage struct {
	Events  []outbox.EventRecord
	HasMore bool // later events follow
}

// EventFeed reads the tenant's committed events as the outbox keeps them
// (outbox.EventRecord, the feed's read model).
type EventFeed interface {
	// Feed returns the tenant's committed events after f.After in feed order,
	// never skipping one that commits later (see the implementation for the
	// order). It fails with ErrInvalidCursor if f.After is neither 0 nor the
	// Sequence of one of the tenant's (retained) events.
	Feed(ctx context.Context, tenant kernel.TenantID, f FeedFilter) (FeedPage, error)
}

// EventHistory reads an invoice's committed events as the outbox keeps them
// (outbox.EventRecord). It is scoped by tenant.
type EventHistory interface {
	// History returns a page of the invoice's events after version f.After,
	// in version order, or invoice.ErrNotFound if the tenant has no such
	// invoice. A page holds at most MaxFeedLimit events.
	History(ctx context.Context, tenant kernel.TenantID, id invoice.ID, f HistoryFilter) (HistoryPage, error)
}
