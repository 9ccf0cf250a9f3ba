package notification

import (
	htmltemplate "html/template"
	"strings"
	texttemplate "text/template"
	"time"
)

// Email is one message to a customer, in plain text and HTML.
type Email struct {
	To      Customer
	Subject string
	Text    string
	HTML    string
	// EventID and Reaction name the task that sends the email; together
	// they make its Message-ID, the same on every attempt.
	EventID  string
	Reaction string
}

// MessageID returns the email's Message-ID header value for a mail domain,
// "<event-id.reaction@domain>": every re-send of the same reaction to the
// same event carries the same one, so a mail system can tell duplicates.
func (e Email) MessageID(domain string) string {
	return "<" + e.EventID + "." + e.Reaction + "@" + domain + ">"
}

// lineView is an invoice line with its amounts formatted.
type lineView struct {
	Description string
	Quantity    int64
	UnitAmount  string
	Amount      string
}

// view is what the templates render: the fields of one email, amounts
// formatted. Descriptions, names and reasons are user input: the HTML
// template escapes them.
type view struct {
	Name        string
	Number      string
	DueDate     string
	Lines       []lineView
	NotShown    int // lines the event did not carry
	Subtotal    string
	Tax         string
	Total       string
	AmountDue   string
	AmountPaid  string
	Credited    string // credit notes' part of a settlement; "" without
	PaidNothing bool   // settled by credit notes alone
	PaidAt      string
	Reason      string
	Step        int // a reminder's number, from 1
}

// credited formats a settlement's credit, or "" when there was none.
func credited(amount int64, currency string) string {
	if amount == 0 {
		return ""
	}
	return FormatAmount(amount, currency)
}

// template is one email's subject, text and HTML templates, parsed once.
type template struct {
	subject *texttemplate.Template
	text    *texttemplate.Template
	html    *htmltemplate.Template
}

func newTemplate(subject, text, html string) template {
	return template{
		subject: texttemplate.Must(texttemplate.New("subject").Parse(subject)),
		text:    texttemplate.Must(texttemplate.New("text").Parse(text)),
		html:    htmltemplate.Must(htmltemplate.New("html").Parse(htmlHead + html + htmlFoot)),
	}
}

// render executes the three templates on v.
func (t template) render(v view) (Email, error) {
	var subject, text, html strings.Builder
	for _, err := range []error{t.subject.Execute(&subject, v), t.text.Execute(&text, v), t.html.Execute(&html, v)} {
		if err != nil {
			return Email{}, err
		}
	}
	// A subject is one header line: user input must not fold it.
	s := strings.Join(strings.Fields(subject.String()), " ")
	return Email{Subject: s, Text: text.String(), HTML: html.String()}, nil
}

const (
	htmlHead = `<!DOCTYPE html><html><body style="font-family:sans-serif">`
	htmlFoot = `</body></html>`
)

var invoiceTemplate = newTemplate(
	`Invoice {{.Number}}`,
	`Dear {{.Name}},

please find invoice {{.Number}} below.
{{range .Lines}}
  {{.Quantity}} x {{.Description}} at {{.UnitAmount}}: {{.Amount}}{{end}}{{if .NotShown}}
  ... and {{.NotShown}} more lines{{end}}

Subtotal:   {{.Subtotal}}
Tax:        {{.Tax}}
Total:      {{.Total}}
Amount due: {{.AmountDue}}{{if .DueDate}}
Due date:   {{.DueDate}}{{end}}
`,
	`<p>Dear {{.Name}},</p><p>please find invoice <b>{{.Number}}</b> below.</p>
<table><tr><th>Qty</th><th>Description</th><th>Unit</th><th>Amount</th></tr>
{{range .Lines}}<tr><td>{{.Quantity}}</td><td>{{.Description}}</td><td>{{.UnitAmount}}</td><td>{{.Amount}}</td></tr>
{{end}}</table>{{if .NotShown}}<p>… and {{.NotShown}} more lines</p>{{end}}
<p>Subtotal: {{.Subtotal}}<br>Tax: {{.Tax}}<br>Total: <b>{{.Total}}</b><br>Amount due: <b>{{.AmountDue}}</b>{{if .DueDate}}<br>Due date: {{.DueDate}}{{end}}</p>`)

var receiptTemplate = newTemplate(
	`Receipt for invoice {{.Number}}`,
	`Dear {{.Name}},

{{if not .Credited}}we received your payment of {{.AmountPaid}} for invoice {{.Number}} (total {{.Total}}) on {{.PaidAt}}. Thank you.
{{else if .PaidNothing}}invoice {{.Number}} (total {{.Total}}) is settled by credit notes of {{.Credited}} on {{.PaidAt}}. Nothing is due.
{{else}}invoice {{.Number}} (total {{.Total}}) is settled on {{.PaidAt}}: we received payments of {{.AmountPaid}}, and credit notes cover {{.Credited}}. Thank you.
{{end}}`,
	`<p>Dear {{.Name}},</p><p>{{if not .Credited}}we received your payment of <b>{{.AmountPaid}}</b> for invoice <b>{{.Number}}</b> (total {{.Total}}) on {{.PaidAt}}. Thank you.`+
		`{{else if .PaidNothing}}invoice <b>{{.Number}}</b> (total {{.Total}}) is settled by credit notes of <b>{{.Credited}}</b> on {{.PaidAt}}. Nothing is due.`+
		`{{else}}invoice <b>{{.Number}}</b> (total {{.Total}}) is settled on {{.PaidAt}}: we received payments of <b>{{.AmountPaid}}</b>, and credit notes cover {{.Credited}}. Thank you.{{end}}</p>`)

var voidTemplate = newTemplate(
	`Invoice {{.Number}} cancelled`,
	`Dear {{.Name}},

invoice {{.Number}} has been cancelled: {{.Reason}}
Nothing is due on it.
`,
	`<p>Dear {{.Name}},</p><p>invoice <b>{{.Number}}</b> has been cancelled: {{.Reason}}</p><p>Nothing is due on it.</p>`)

var reminderTemplate = newTemplate(
	`Reminder: invoice {{.Number}} is overdue`,
	`Dear {{.Name}},

invoice {{.Number}} was due on {{.DueDate}} and {{.AmountDue}} of it is still unpaid.
Please pay it at your earliest convenience; if you have paid it meanwhile, please ignore this reminder.

(reminder {{.Step}})
`,
	`<p>Dear {{.Name}},</p><p>invoice <b>{{.Number}}</b> was due on {{.DueDate}} and <b>{{.AmountDue}}</b> of it is still unpaid.</p>`+
		`<p>Please pay it at your earliest convenience; if you have paid it meanwhile, please ignore this reminder.</p><p>(reminder {{.Step}})</p>`)

func renderInvoice(ev Event, to Customer) (Email, error) {
	var d Issued
	if err := decodeData(ev, &d); err != nil {
		return Email{}, err
	}
	v := view{
		Name: to.Name, Number: d.Number, DueDate: d.DueDate,
		Subtotal: FormatAmount(d.Subtotal, d.Currency), Tax: FormatAmount(d.Tax, d.Currency),
		Total: FormatAmount(d.Total, d.Currency), AmountDue: FormatAmount(d.AmountDue, d.Currency),
		NotShown: max(d.LineCount-len(d.Lines), 0),
	}
	for _, l := range d.Lines {
		v.Lines = append(v.Lines, lineView{
			Description: l.Description, Quantity: l.Quantity,
			UnitAmount: FormatAmount(l.UnitAmount, d.Currency), Amount: FormatAmount(l.Amount, d.Currency),
		})
	}
	return invoiceTemplate.render(v)
}

func renderReceipt(ev Event, to Customer) (Email, error) {
	var d Paid
	if err := decodeData(ev, &d); err != nil {
		return Email{}, err
	}
	return receiptTemplate.render(view{
		Name: to.Name, Number: d.Number,
		Total: FormatAmount(d.Total, d.Currency), AmountPaid: FormatAmount(d.AmountPaid, d.Currency),
		PaidAt: d.PaidAt.UTC().Format(time.DateOnly), PaidNothing: d.AmountPaid == 0,
		Credited: credited(d.PrePaymentCredit, d.Currency),
	})
}

func renderVoidNotice(ev Event, to Customer) (Email, error) {
	var d Voided
	if err := decodeData(ev, &d); err != nil {
		return Email{}, err
	}
	return voidTemplate.render(view{Name: to.Name, Number: d.Number, Reason: d.Reason})
}
