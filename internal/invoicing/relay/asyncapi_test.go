package relay_test

import (
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/google/uuid"
	yaml "github.com/oasdiff/yaml3"

	"github.com/invoicing-dev/invoicing/internal/invoicing/cloudevent"
	"github.com/invoicing-dev/invoicing/internal/invoicing/domain/creditnote"
	"github.com/invoicing-dev/invoicing/internal/invoicing/domain/invoice"
	"github.com/invoicing-dev/invoicing/internal/invoicing/outbox"
	"github.com/invoicing-dev/invoicing/internal/kernel"
)

// dataSchemas maps each event type to its data schema in api/asyncapi.yaml.
var dataSchemas = map[string]string{
	invoice.TypeCreated:         "InvoiceCreated",
	invoice.TypeLineAdded:       "InvoiceLineAdded",
	invoice.TypeLineRemoved:     "InvoiceLineRemoved",
	invoice.TypeIssued:          "InvoiceIssued",
	invoice.TypePaymentRecorded: "PaymentRecorded",
	invoice.TypePaid:            "InvoicePaid",
	invoice.TypeVoided:          "InvoiceVoided",

	invoice.TypeMarkedUncollectible: "InvoiceMarkedUncollectible",
	invoice.TypeOverdue:             "InvoiceOverdue",
	invoice.TypeUpdated:             "InvoiceUpdated",

	invoice.TypeCredited:  "InvoiceCredited",
	creditnote.TypeIssued: "CreditNoteIssued",
}

// eventTypes lists every event type the service publishes.
var eventTypes = append(slices.Clone(invoice.EventTypes), creditnote.EventTypes...)

// published is an event of any aggregate, as the outbox stores it.
type published struct {
	event interface {
		Type() string
		Meta() kernel.EventMeta
	}
	aggregate [16]byte
}

// encode returns p's data and its CloudEvent as the relay publishes it at
// outbox sequence seq.
func (p published) encode(t *testing.T, seq int64) (data, body []byte) {
	t.Helper()
	e := p.event
	data, err := json.Marshal(e)
	if err != nil {
		t.Fatal(err)
	}
	body, err = cloudevent.Encode(outbox.EventRecord{Sequence: seq, ID: e.Meta().ID,
		Tenant: e.Meta().Tenant, AggregateID: uuid.UUID(p.aggregate),
		Version: e.Meta().Version, Type: e.Type(), Payload: data, OccurredAt: e.Meta().OccurredAt})
	if err != nil {
		t.Fatal(err)
	}
	return data, body
}

// asyncAPISchemas loads the components.schemas of api/asyncapi.yaml. The
// OpenAPI loader reads them (JSON Schema either way) once they are wrapped in
// a minimal OpenAPI document, and resolves their $refs.
func asyncAPISchemas(t *testing.T) (doc string, schemas openapi3.Schemas) {
	t.Helper()
	b, err := os.ReadFile("../../../api/asyncapi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	doc = string(b)
	_, block, ok := strings.Cut(doc, "\n  schemas:\n")
	if !ok {
		t.Fatal("asyncapi.yaml has no components.schemas")
	}
	wrapped := "openapi: 3.0.3\ninfo: {title: events, version: '1'}\npaths: {}\ncomponents:\n  schemas:\n" + block
	oas, err := openapi3.NewLoader().LoadFromData([]byte(wrapped))
	if err != nil {
		t.Fatalf("asyncapi.yaml schemas: %v", err)
	}
	return doc, oas.Components.Schemas
}

// everyEvent returns events of every type, raised by the real aggregates.
func everyEvent(t *testing.T) []published {
	t.Helper()
	now := time.Now()
	tenant := kernel.TenantID(uuid.New())
	customer := invoice.Customer{Name: "Ada Lovelace", Email: "ada@example.com"}
	line := invoice.LineInput{Description: "Consulting", Quantity: 2, UnitAmount: 5000, TaxRateBPS: 2000}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	inv, err := invoice.New(invoice.NewID(), tenant, "EUR", customer, now.AddDate(0, 0, 30), []invoice.LineInput{line}, now,
		invoice.WithMetadata(map[string]string{"erp_order": "SO-4711"}))
	must(err)
	must(inv.Edit(invoice.Changes{Metadata: map[string]string{"crm": "42"}}, now))
	id, err := inv.AddLine(line, now)
	must(err)
	must(inv.RemoveLine(id, now))
	must(inv.Issue("INV-2026-000001", now))
	part, _ := kernel.NewMoney(2000, "EUR")
	must(inv.Pay(part, "psp_1", now))
	must(inv.MarkUncollectible(now))
	if !inv.MarkOverdue(now.AddDate(0, 0, 32)) {
		t.Fatal("no overdue event")
	}
	must(inv.Pay(inv.AmountDue(), "psp_2", now))
	req, err := creditnote.NewRequest("EUR", []creditnote.LineInput{{Description: "Goodwill", Amount: 500}}, nil, "order_change", "sorry")
	must(err)
	cnID := creditnote.NewID()
	alloc, err := inv.Credit(uuid.UUID(cnID), "CN-2026-000001", req.Amount(), now)
	must(err)
	cn, err := creditnote.Issue(cnID, inv, "CN-2026-000001", req, alloc, now)
	must(err)
	var events []published
	for _, e := range inv.PullEvents() {
		events = append(events, published{e, [16]byte(e.AggregateID())})
	}
	for _, e := range cn.PullEvents() {
		events = append(events, published{e, [16]byte(e.AggregateID())})
	}

	other, err := invoice.New(invoice.NewID(), tenant, "EUR", customer, time.Time{}, nil, now) // no lines, no due date
	must(err)
	_, err = other.AddLine(line, now)
	must(err)
	must(other.Issue("INV-2026-000002", now))
	must(other.Void("sent to the wrong customer", now))
	for _, e := range other.PullEvents() {
		events = append(events, published{e, [16]byte(e.AggregateID())})
	}
	return events
}

func TestEveryEventMatchesItsAsyncAPISchema(t *testing.T) {
	doc, schemas := asyncAPISchemas(t)
	for _, typ := range eventTypes {
		name, ok := dataSchemas[typ]
		if !ok || schemas[name] == nil {
			t.Errorf("event type %s has no data schema in asyncapi.yaml", typ)
		}
		if !strings.Contains(doc, "address: "+cloudevent.Subject(typ)+"\n") ||
			!strings.Contains(doc, "type: {const: "+cloudevent.Subject(typ)+"}\n              data: {$ref: '#/components/schemas/"+name+"'}") {
			t.Errorf("asyncapi.yaml lacks the channel or message of %s", cloudevent.Subject(typ))
		}
	}

	seen := map[string]bool{}
	for i, p := range everyEvent(t) {
		e := p.event
		data, body := p.encode(t, int64(i+1))
		var envelope map[string]any
		if err := json.Unmarshal(body, &envelope); err != nil {
			t.Fatal(err)
		}
		if err := schemas["CloudEvent"].Value.VisitJSON(envelope, openapi3.EnableJSONSchema2020()); err != nil {
			t.Errorf("%s envelope does not match CloudEvent: %v", e.Type(), err)
		}
		if err := schemas[dataSchemas[e.Type()]].Value.VisitJSON(envelope["data"], openapi3.EnableJSONSchema2020()); err != nil {
			t.Errorf("%s data does not match %s: %v\n%s", e.Type(), dataSchemas[e.Type()], err, data)
		}
		seen[e.Type()] = true
		// The validation is JSON Schema 2020-12, not kin-openapi's OpenAPI
		// 3.0 validator, which ignores const: with it an envelope of
		// specversion 2.0 from another source matched.
		for member, wrong := range map[string]any{"specversion": "2.0", "source": "/elsewhere", "datacontenttype": "text/plain"} {
			bad := maps.Clone(envelope)
			bad[member] = wrong
			if schemas["CloudEvent"].Value.VisitJSON(bad, openapi3.EnableJSONSchema2020()) == nil {
				t.Errorf("%s envelope with %s %q matches CloudEvent", e.Type(), member, wrong)
			}
		}
	}
	for _, typ := range eventTypes {
		if !seen[typ] {
			t.Errorf("no %s event was checked", typ)
		}
	}
}

// TestSubscribingSectionsNameEverySubject keeps the subjects listed by the
// Subscribing sections of README.md and docs/architecture.md (brace lists
// expanded, as a shell would) equal to the subjects the relay publishes to: a
// subscriber copying either list must not miss a type.
func TestSubscribingSectionsNameEverySubject(t *testing.T) {
	for _, path := range []string{"../../../README.md", "../../../docs/architecture.md"} {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		_, section, ok := strings.Cut(string(b), "\n## Subscribing\n")
		if !ok {
			t.Fatalf("%s has no Subscribing section", path)
		}
		section, _, _ = strings.Cut(section, "\n## ")
		listed := map[string]bool{}
		for _, m := range regexp.MustCompile("`(invoicing\\.[a-z_]+\\.)(?:\\{([a-z_,]+)\\}|([a-z_]+))`").FindAllStringSubmatch(section, -1) {
			for _, name := range strings.Split(m[2]+m[3], ",") {
				listed[m[1]+name] = true
			}
		}
		for _, typ := range eventTypes {
			if !listed[cloudevent.Subject(typ)] {
				t.Errorf("%s's Subscribing section does not list the subject %s", path, cloudevent.Subject(typ))
			}
		}
		for s := range listed {
			if !slices.ContainsFunc(eventTypes, func(typ string) bool { return cloudevent.Subject(typ) == s }) {
				t.Errorf("%s's Subscribing section lists %s, which no event is published to", path, s)
			}
		}
	}
}

// schemaKeywords are the JSON Schema keywords api/asyncapi.yaml's schemas may
// use (plus AsyncAPI's format and description, which are annotations).
var schemaKeywords = map[string]bool{
	"type": true, "format": true, "description": true, "const": true, "enum": true, "pattern": true,
	"minLength": true, "maxLength": true, "minimum": true, "maximum": true, "minItems": true, "maxItems": true,
	"maxProperties": true, "required": true, "properties": true, "additionalProperties": true, "items": true,
	"allOf": true, "oneOf": true, "anyOf": true, "$ref": true,
}

// TestAsyncAPISchemasUseOnlyKnownKeywords walks every schema of
// api/asyncapi.yaml, and every message's payload, and fails on a member that is no schema keyword: in a YAML
// flow mapping ({type: integer, description: a, b}) an unquoted comma ends the
// value, so the rest of a description became a keyword of its own ("b": null)
// that validators ignore and generated documentation shows as the schema's.
func TestAsyncAPISchemasUseOnlyKnownKeywords(t *testing.T) {
	b, err := os.ReadFile("../../../api/asyncapi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Components struct {
			Schemas  map[string]any `yaml:"schemas"`
			Messages map[string]struct {
				Payload any `yaml:"payload"`
			} `yaml:"messages"`
		} `yaml:"components"`
	}
	if err := yaml.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	var walk func(path string, schema any)
	walk = func(path string, schema any) {
		m, ok := schema.(map[string]any)
		if !ok {
			if _, isBool := schema.(bool); !isBool {
				t.Errorf("%s: a schema is an object or a boolean, not %T", path, schema)
			}
			return
		}
		for k, v := range m {
			switch {
			case !schemaKeywords[k]:
				t.Errorf("%s: %q is no schema keyword (an unquoted comma in a flow mapping?)", path, k)
			case k == "properties":
				props, _ := v.(map[string]any)
				for name, p := range props {
					walk(path+"/properties/"+name, p)
				}
			case k == "items" || k == "additionalProperties":
				walk(path+"/"+k, v)
			case k == "allOf" || k == "oneOf" || k == "anyOf":
				list, _ := v.([]any)
				for i, s := range list {
					walk(fmt.Sprintf("%s/%s/%d", path, k, i), s)
				}
			}
		}
	}
	for name, s := range doc.Components.Schemas {
		walk("#/components/schemas/"+name, s)
	}
	for name, m := range doc.Components.Messages {
		walk("#/components/messages/"+name+"/payload", m.Payload)
	}
	if len(doc.Components.Schemas) == 0 || len(doc.Components.Messages) == 0 {
		t.Fatal("asyncapi.yaml has no components.schemas or components.messages")
	}
}
