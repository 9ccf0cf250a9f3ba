package app

// PageBudget counts the payload bytes of a page of events against
// FeedFilter.MaxBytes (or HistoryFilter.MaxBytes), as every implementation
// of EventFeed and EventHistory must: the first event always fits, so that
// a page moves on; Max 0 means no bound.
type PageBudget struct {
	Max  int
	used int
	n    int
	// Full is set once an event did not fit.
	Full bool
}

// Take reports whether an event with a payload of size bytes still fits
// the page, counting it if so.
func (b *PageBudget) Take(size int) bool {
	if b.Max > 0 && b.n > 0 && b.used+size > b.Max {
		b.Full = true
		return false
	}
	b.used += size
	b.n++
	return true
}
