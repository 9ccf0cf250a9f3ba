package invoicingsvc

import (
	"github.com/invoicing-dev/invoicing/internal/invoicing/app"
	"github.com/invoicing-dev/invoicing/internal/invoicing/relay"
	"github.com/invoicing-dev/invoicing/internal/invoicing/tracing"
)

// tracedInvoices returns invs with a span around each unit of work when
// tracing is on, else invs itself (no cost).
func tracedInvoices(invs app.Invoices, tp *tracing.Provider) app.Invoices {
	if !tp.Enabled() {
		return invs
	}
	return tracing.Invoices(invs, tp)
}

// tracedPublisher returns pub with a span per published event, in the trace
// of the request that committed it, when tracing is on, else pub itself.
func tracedPublisher(pub relay.Publisher, tp *tracing.Provider) relay.Publisher {
	if !tp.Enabled() {
		return pub
	}
	return tracing.Publisher(pub, tp)
}
