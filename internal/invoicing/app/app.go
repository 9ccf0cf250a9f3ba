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

// New wires every use case to its ports.
func New(invoices Invoices, keys APIKeys, events Events, clock Clock) *App {
	return &App{
		CreateInvoice: CreateInvoiceHandler{invoices: invoices, clock: clock},
		AddLine:       AddLineHandler{invoices: invoices, clock: clock},
		RemoveLine:    RemoveLineHandler{invoices: invoices, clock: clock},
		IssueInvoice:  IssueInvoiceHandler{invoices: invoices, clock: clock},
		PayInvoice:    PayInvoiceHandler{invoices: invoices, clock: clock},
		VoidInvoice:   VoidInvoiceHandler{invoices: invoices, clock: clock},
		GetInvoice:    GetInvoiceHandler{invoices: invoices},
		ListInvoices:  ListInvoicesHandler{invoices: invoices},
		ListLines:     ListLinesHandler{invoices: invoices},
		ListEvents:    ListEventsHandler{events: events},
		InvoiceEvents: InvoiceEventsHandler{events: events},
		Authenticate:  AuthenticateHandler{keys: keys},
		CreateAPIKey:  CreateAPIKeyHandler{keys: keys},

		MarkUncollectible: MarkUncollectibleHandler{invoices: invoices, clock: clock},
		UpdateInvoice:     UpdateInvoiceHandler{invoices: invoices, clock: clock},

		IssueCreditNote: IssueCreditNoteHandler{invoices: invoices, clock: clock},
	}
}
