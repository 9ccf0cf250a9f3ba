package event

import "time"

// Amounts are integers in the minor unit of the currency (cents for EUR);
// ids are UUIDs; a Date is YYYY-MM-DD; Metadata is the caller's own data on
// the invoice, nil when there is none.

// Customer is whom an invoice bills.
type Customer struct {
	Name  string `json:"name"`
	Email string `json:"email"`
}

// Line is one line of an invoice.
type Line struct {
	ID          string `json:"id"`
	Description string `json:"description"`
	Quantity    int64  `json:"quantity"`
	UnitAmount  int64  `json:"unit_amount"`
	TaxRateBPS  int64  `json:"tax_rate_bps"` // basis points: 2000 is 20%
	Amount      int64  `json:"amount"`       // Quantity × UnitAmount
	Tax         int64  `json:"tax"`
}

// InvoiceCreated is the data of TypeInvoiceCreated. Lines holds the first
// 100 of LineCount lines.
type InvoiceCreated struct {
	InvoiceID string            `json:"invoice_id"`
	Currency  string            `json:"currency"`
	Customer  Customer          `json:"customer"`
	DueDate   string            `json:"due_date,omitempty"`
	Lines     []Line            `json:"lines"`
	LineCount int               `json:"line_count"`
	Subtotal  int64             `json:"subtotal"`
	Tax       int64             `json:"tax"`
	Total     int64             `json:"total"`
	Metadata  map[string]string `json:"metadata,omitempty"`
	CreatedAt time.Time         `json:"created_at"`
}

// InvoiceLineAdded is the data of TypeInvoiceLineAdded, with the draft's
// new totals.
type InvoiceLineAdded struct {
	InvoiceID string `json:"invoice_id"`
	Line      Line   `json:"line"`
	Subtotal  int64  `json:"subtotal"`
	Tax       int64  `json:"tax"`
	Total     int64  `json:"total"`
}

// InvoiceLineRemoved is the data of TypeInvoiceLineRemoved, with the
// draft's new totals.
type InvoiceLineRemoved struct {
	InvoiceID string `json:"invoice_id"`
	LineID    string `json:"line_id"`
	Subtotal  int64  `json:"subtotal"`
	Tax       int64  `json:"tax"`
	Total     int64  `json:"total"`
}

// InvoiceIssued is the data of TypeInvoiceIssued. Lines holds the first
// 100 of LineCount lines.
type InvoiceIssued struct {
	InvoiceID string            `json:"invoice_id"`
	Number    string            `json:"number"`
	Currency  string            `json:"currency"`
	Customer  Customer          `json:"customer"`
	DueDate   string            `json:"due_date,omitempty"`
	Lines     []Line            `json:"lines"`
	LineCount int               `json:"line_count"`
	Subtotal  int64             `json:"subtotal"`
	Tax       int64             `json:"tax"`
	Total     int64             `json:"total"`
	AmountDue int64             `json:"amount_due"`
	Metadata  map[string]string `json:"metadata,omitempty"`
	IssuedAt  time.Time         `json:"issued_at"`
}

// PaymentRecorded is the data of TypePaymentRecorded.
type PaymentRecorded struct {
	InvoiceID  string    `json:"invoice_id"`
	Number     string    `json:"number"`
	PaymentID  string    `json:"payment_id"`
	Currency   string    `json:"currency"`
	Amount     int64     `json:"amount"`      // this payment
	Reference  string    `json:"reference"`   // the payment provider's transaction id
	AmountPaid int64     `json:"amount_paid"` // all payments so far
	AmountDue  int64     `json:"amount_due"`
	ReceivedAt time.Time `json:"received_at"`
}

// InvoicePaid is the data of TypeInvoicePaid: AmountPaid +
// PrePaymentCredit = Total.
type InvoicePaid struct {
	InvoiceID        string            `json:"invoice_id"`
	Number           string            `json:"number"`
	Customer         Customer          `json:"customer"`
	Currency         string            `json:"currency"`
	Total            int64             `json:"total"`
	AmountPaid       int64             `json:"amount_paid"`
	PrePaymentCredit int64             `json:"pre_payment_credit"`
	Metadata         map[string]string `json:"metadata,omitempty"`
	PaidAt           time.Time         `json:"paid_at"`
}

// InvoiceVoided is the data of TypeInvoiceVoided.
type InvoiceVoided struct {
	InvoiceID string            `json:"invoice_id"`
	Number    string            `json:"number"`
	Reason    string            `json:"reason"`
	Metadata  map[string]string `json:"metadata,omitempty"`
	VoidedAt  time.Time         `json:"voided_at"`
}

// InvoiceCredited is the data of TypeInvoiceCredited.
type InvoiceCredited struct {
	InvoiceID         string    `json:"invoice_id"`
	Number            string    `json:"number"`
	CreditNoteID      string    `json:"credit_note_id"`
	CreditNoteNumber  string    `json:"credit_note_number"`
	Currency          string    `json:"currency"`
	Amount            int64     `json:"amount"`
	PrePaymentAmount  int64     `json:"pre_payment_amount"`
	PostPaymentAmount int64     `json:"post_payment_amount"`
	Total             int64     `json:"total"`
	AmountPaid        int64     `json:"amount_paid"`
	AmountCredited    int64     `json:"amount_credited"`
	AmountDue         int64     `json:"amount_due"`
	RefundDue         int64     `json:"refund_due"`
	CreditedAt        time.Time `json:"credited_at"`
}

// CreditNoteLine is one line of a credit note.
type CreditNoteLine struct {
	Description string `json:"description"`
	Amount      int64  `json:"amount"`
}

// CreditNoteIssued is the data of TypeCreditNoteIssued. Lines is empty
// when the credit note was issued for an amount.
type CreditNoteIssued struct {
	CreditNoteID      string           `json:"credit_note_id"`
	Number            string           `json:"number"`
	InvoiceID         string           `json:"invoice_id"`
	InvoiceNumber     string           `json:"invoice_number"`
	Currency          string           `json:"currency"`
	Lines             []CreditNoteLine `json:"lines"`
	Amount            int64            `json:"amount"`
	PrePaymentAmount  int64            `json:"pre_payment_amount"`
	PostPaymentAmount int64            `json:"post_payment_amount"`
	Reason            string           `json:"reason"` // duplicate, fraudulent, order_change or product_unsatisfactory
	Memo              string           `json:"memo,omitempty"`
	IssuedAt          time.Time        `json:"issued_at"`
}

// InvoiceMarkedUncollectible is the data of
// TypeInvoiceMarkedUncollectible.
type InvoiceMarkedUncollectible struct {
	InvoiceID             string            `json:"invoice_id"`
	Number                string            `json:"number"`
	Currency              string            `json:"currency"`
	Total                 int64             `json:"total"`
	AmountPaid            int64             `json:"amount_paid"`
	AmountDue             int64             `json:"amount_due"` // what is written off
	Metadata              map[string]string `json:"metadata,omitempty"`
	MarkedUncollectibleAt time.Time         `json:"marked_uncollectible_at"`
}

// InvoiceOverdue is the data of TypeInvoiceOverdue.
type InvoiceOverdue struct {
	InvoiceID string            `json:"invoice_id"`
	Number    string            `json:"number"`
	Customer  Customer          `json:"customer"`
	Currency  string            `json:"currency"`
	DueDate   string            `json:"due_date"`
	AmountDue int64             `json:"amount_due"`
	Metadata  map[string]string `json:"metadata,omitempty"`
	OverdueAt time.Time         `json:"overdue_at"`
}

// InvoiceUpdated is the data of TypeInvoiceUpdated: Fields says what the
// edit changed (customer, due_date, currency, metadata); the rest are the
// invoice's values after it. Number is empty on a draft.
type InvoiceUpdated struct {
	InvoiceID string            `json:"invoice_id"`
	Fields    []string          `json:"fields"`
	Number    string            `json:"number,omitempty"`
	Currency  string            `json:"currency"`
	Customer  Customer          `json:"customer"`
	DueDate   string            `json:"due_date,omitempty"`
	Metadata  map[string]string `json:"metadata,omitempty"`
}
