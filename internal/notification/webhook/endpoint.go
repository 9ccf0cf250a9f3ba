package webhook

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Status of an endpoint: only enabled endpoints receive new events.
const (
	StatusEnabled  = "enabled"
	StatusDisabled = "disabled"
)

// AllEvents in EnabledEvents subscribes an endpoint to every event type.
const AllEvents = "*"

// Limits on what an endpoint holds.
const (
	MaxURLLength         = 2048
	MaxDescriptionLength = 500
	MaxEnabledEvents     = 50
	secretBytes          = 32 // Standard Webhooks asks for 24 to 64
)

// Endpoint is a tenant's registered receiver of events.
type Endpoint struct {
	ID            string
	TenantID      string
	URL           string
	Description   string
	EnabledEvents []string
	Status        string
	// DisabledReason says why a disabled endpoint was disabled ("" if by
	// its owner).
	DisabledReason string
	// Secret signs deliveries; PreviousSecret too, until PreviousUntil
	// (rotation overlap).
	Secret         string
	PreviousSecret string
	PreviousUntil  time.Time
	CreatedAt      time.Time
	UpdatedAt      time.Time
}

// Subscribed reports whether e wants events of type typ.
func (e Endpoint) Subscribed(typ string) bool {
	return slices.Contains(e.EnabledEvents, AllEvents) || slices.Contains(e.EnabledEvents, typ)
}

// Secrets returns the secrets that sign a delivery at now: the current one,
// and the previous one during its overlap.
func (e Endpoint) Secrets(now time.Time) []string {
	if e.PreviousSecret != "" && now.Before(e.PreviousUntil) {
		return []string{e.Secret, e.PreviousSecret}
	}
	return []string{e.Secret}
}

// NewSecret returns a fresh signing secret: "whsec_" and the base64 of 32
// random bytes. It panics if the system's random source fails, as
// crypto/rand.Read does.
func NewSecret() string {
	b := make([]byte, secretBytes)
	_, _ = rand.Read(b) // never fails (crypto/rand documents it)
	return SecretPrefix + base64.StdEncoding.EncodeToString(b)
}

// InvalidError names the field of a request at fault and why.
type InvalidError struct {
	Field   string
	Message string
}

func (e *InvalidError) Error() string { return "webhook: " + e.Field + ": " + e.Message }

// LimitError is the store's refusal of an endpoint beyond the Max a
// tenant may register.
type LimitError struct {
	Max int
}

func (e *LimitError) Error() string {
	return fmt.Sprintf("webhook: the tenant has %d endpoints, the most it may register", e.Max)
}

// Admit returns a *LimitError if a tenant with registered endpoints may not
// register another under a limit of max, else nil. The caller counts and
// registers in one transaction, so that two registrations cannot both see
// room for one more.
func Admit(registered, max int) error {
	if registered >= max {
		return &LimitError{Max: max}
	}
	return nil
}

// Redeliverable returns an error wrapping ErrConflict unless e may have
// deliveries queued again (a retry or a replay): a disabled endpoint
// receives nothing until it is enabled.
func (e Endpoint) Redeliverable() error {
	if e.Status != StatusEnabled {
		return fmt.Errorf("%w: the endpoint is disabled; enable it first", ErrConflict)
	}
	return nil
}

// Errors of the endpoint store.
var (
	// ErrNotFound: no such endpoint (or delivery) of this tenant.
	ErrNotFound = errors.New("webhook: not found")
	// ErrConflict: a change the resource's state forbids, such as a retry
	// of a pending delivery or a replay to a disabled endpoint.
	ErrConflict = errors.New("webhook: conflict")
)

// EventTypes are the event types an endpoint may subscribe to: those the
// invoicing service publishes (the channels of api/asyncapi.yaml, which is
// all this context knows of it) and EndpointDisabledType.
var EventTypes = []string{
	"invoicing.invoice.created", "invoicing.invoice.line_added", "invoicing.invoice.line_removed",
	"invoicing.invoice.issued", "invoicing.invoice.payment_recorded", "invoicing.invoice.paid",
	"invoicing.invoice.voided", "invoicing.invoice.marked_uncollectible", "invoicing.invoice.overdue",
	"invoicing.invoice.updated", "invoicing.invoice.credited", "invoicing.credit_note.issued",
	EndpointDisabledType,
}

// validEventType reports whether s may be an entry of EnabledEvents: "*"
// or one of EventTypes.
func validEventType(s string) bool {
	return s == AllEvents || slices.Contains(EventTypes, s)
}

// ValidateEvents returns an *InvalidError (field enabled_events) unless
// events is 1 to MaxEnabledEvents distinct entries, each "*" or one of
// EventTypes.
func ValidateEvents(events []string) error {
	if len(events) == 0 || len(events) > MaxEnabledEvents {
		return &InvalidError{Field: "enabled_events", Message: fmt.Sprintf("must list 1 to %d event types, or \"*\"", MaxEnabledEvents)}
	}
	for i, ev := range events {
		if !validEventType(ev) {
			return &InvalidError{Field: fmt.Sprintf("enabled_events[%d]", i), Message: fmt.Sprintf("%q is not an event type of this service (such as \"invoicing.invoice.paid\"), nor \"*\"", ev)}
		}
		if slices.Contains(events[:i], ev) {
			return &InvalidError{Field: fmt.Sprintf("enabled_events[%d]", i), Message: fmt.Sprintf("%q is listed twice", ev)}
		}
	}
	return nil
}

// ValidateDescription returns an *InvalidError (field description) if d is
// too long, not UTF-8 or holds a control character. U+0000 would fail the
// insert (PostgreSQL text cannot hold it); the others would reach the
// tenant's dashboards and logs as they are.
func ValidateDescription(d string) error {
	if len(d) > MaxDescriptionLength || !utf8.ValidString(d) || strings.IndexFunc(d, unicode.IsControl) >= 0 {
		return &InvalidError{Field: "description", Message: fmt.Sprintf("must be at most %d bytes of text, without control characters", MaxDescriptionLength)}
	}
	return nil
}

// EndpointDisabledType is the type of the event that tells a tenant's other
// endpoints that one of its endpoints was disabled by the service.
const EndpointDisabledType = "invoicing.webhook_endpoint.disabled"

// DisabledEvent is a CloudEvent of type EndpointDisabledType, encoded.
type DisabledEvent struct {
	ID, Type string
	Time     time.Time
	Raw      []byte
}

// EndpointDisabled returns the CloudEvent (structured JSON, like the
// invoicing events) saying that the endpoint of tenant at url was disabled
// at at for reason.
func EndpointDisabled(id, tenant, endpointID, url, reason string, at time.Time) DisabledEvent {
	type data struct {
		EndpointID string `json:"endpoint_id"`
		URL        string `json:"url"`
		Reason     string `json:"reason"`
	}
	ev := struct {
		SpecVersion     string `json:"specversion"`
		ID              string `json:"id"`
		Source          string `json:"source"`
		Type            string `json:"type"`
		Subject         string `json:"subject"`
		Time            string `json:"time"`
		TenantID        string `json:"tenantid"`
		DataContentType string `json:"datacontenttype"`
		Data            data   `json:"data"`
	}{"1.0", id, "/invoicing/webhooks", EndpointDisabledType, endpointID, at.UTC().Format(time.RFC3339Nano), tenant,
		"application/json", data{endpointID, url, reason}}
	raw, _ := json.Marshal(ev) // strings only
	return DisabledEvent{ID: id, Type: EndpointDisabledType, Time: at, Raw: raw}
}
