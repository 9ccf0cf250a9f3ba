package invoice

// Status is where an invoice is in its lifecycle:
//
//	draft → open → paid
//	         ├──→ void
//	         └──→ uncollectible → paid
//	                    └──────→ void
type Status string

// The statuses. Their text is stored and shown as is.
const (
	StatusDraft Status = "draft"
	StatusOpen  Status = "open"
	StatusPaid  Status = "paid"
	StatusVoid  Status = "void"

	// StatusUncollectible is an open invoice written off (MarkUncollectible):
	// it may still be paid or voided.
	StatusUncollectible Status = "uncollectible"
)

// ParseStatus returns the Status named s, or ok=false.
func ParseStatus(s string) (Status, bool) {
	switch st := Status(s); st {
	case StatusDraft, StatusOpen, StatusPaid, StatusVoid, StatusUncollectible:
		return st, true
	}
	return "", false
}

// String returns the status's name.
func (s Status) String() string { return string(s) }
