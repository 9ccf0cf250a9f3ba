package app

// App bundles the use cases, one handler each, for the HTTP layer and main.
type App struct {
	CreateInvoice CreateInvoiceHandler
	AddLine       AddLineHandler
	RemoveLine    RemoveLineHandler
	IssueInvoice  IssueInvoiceHandler
	PayInvoice    PayInvoiceHandler
	VoidInvoice   VoidInvoiceHandler
	GetInvoice    GetInvoiceHandler
	ListInvoices  ListInvoicesHandler
	ListLines     ListLinesHandler
	ListEvents    ListEventsHandler
	InvoiceEvents InvoiceEventsHandler
	Authenticate  AuthenticateHandler
	CreateAPIKey  CreateAPIKeyHandler

	MarkUncollectible MarkUncollectibleHandler
	UpdateInvoice     UpdateInvoiceHandler

	// Credit notes: issuing is wired by New, the queries by WithCreditNotes.
	IssueCreditNote IssueCreditNoteHandler
	GetCreditNote   GetCreditNoteHandler
	ListCreditNotes ListCreditNotesHandler
}

// New wires every use case to its ports. The write port and the read ports
// are separate interfaces, and each use case depends on the one it needs; an
// adapter serves them over one store, so New takes invoices as Invoices and
// InvoiceReads, and events as EventHistory and EventFeed. The credit note
// queries are wired by WithCreditNotes.
func New(invoices interface {
	Invoices
	InvoiceReads
}, keys APIKeys, events interface {
	EventHistory
	EventFeed
}, clock Clock) *App {
	return &App{
		CreateInvoice: CreateInvoiceHandler{invoices: invoices, clock: clock},
		AddLine:       AddLineHandler{invoices: invoices, clock: clock},
		RemoveLine:    RemoveLineHandler{invoices: invoices, clock: clock},
		IssueInvoice:  IssueInvoiceHandler{invoices: invoices, clock: clock},
		PayInvoice:    PayInvoiceHandler{invoices: invoices, clock: clock},
		VoidInvoice:   VoidInvoiceHandler{invoices: invoices, clock: clock},
		GetInvoice:    GetInvoiceHandler{invoices: invoices},
		ListInvoices:  ListInvoicesHandler{invoices: invoices},
		ListLines:     ListLinesHandler{lines: invoices},
		ListEvents:    ListEventsHandler{events: events},
		InvoiceEvents: InvoiceEventsHandler{events: events},
		Authenticate:  AuthenticateHandler{keys: keys},
		CreateAPIKey:  CreateAPIKeyHandler{keys: keys},

		MarkUncollectible: MarkUncollectibleHandler{invoices: invoices, clock: clock},
		UpdateInvoice:     UpdateInvoiceHandler{invoices: invoices, clock: clock},

		IssueCreditNote: IssueCreditNoteHandler{invoices: invoices, clock: clock},
	}
}

// WithCreditNotes wires the credit note queries to notes, which reads one
// credit note (GetCreditNote) and lists them (ListCreditNotes), and returns
// a. Issuing one needs only the invoices, and New wires it.
func (a *App) WithCreditNotes(notes interface {
	CreditNotes
	CreditNoteList
}) *App {
	a.GetCreditNote = GetCreditNoteHandler{notes: notes}
	a.ListCreditNotes = ListCreditNotesHandler{notes: notes}
	return a
}
