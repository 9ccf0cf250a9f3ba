package relay_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"slices"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/invoicing-dev/invoicing/event"
	"github.com/invoicing-dev/invoicing/internal/invoicing/cloudevent"
)

// TestEventPackageReadsWhatTheRelayPublishes: the subscribers' package
// (/event) decodes every event the real aggregates raise, as the relay
// encodes it, into its type's struct without an unknown member; written
// back, envelope and data are what was sent and match api/asyncapi.yaml.
func TestEventPackageReadsWhatTheRelayPublishes(t *testing.T) {
	_, schemas := asyncAPISchemas(t)
	if got, want := slices.Sorted(slices.Values(event.Types())), slices.Sorted(slices.Values(eventTypesAsSubjects())); !slices.Equal(got, want) {
		t.Errorf("event.Types() = %v, want the published types %v", got, want)
	}
	seen := map[string]bool{}
	for i, p := range everyEvent(t) {
		e := p.event
		_, body := p.encode(t, int64(i+1))
		ce, err := event.Parse(body)
		if err != nil {
			t.Fatalf("%s: %v\n%s", e.Type(), err, body)
		}
		decoded, err := ce.Decode()
		if err != nil {
			t.Fatalf("%s: %v", ce.Type, err)
		}
		strict := reflect.New(reflect.TypeOf(decoded).Elem()).Interface()
		dec := json.NewDecoder(bytes.NewReader(ce.Data))
		dec.DisallowUnknownFields()
		if err := dec.Decode(strict); err != nil {
			t.Errorf("%s: the data has a member %T lacks: %v", ce.Type, decoded, err)
		}
		seen[ce.Type] = true

		again, err := json.Marshal(decoded)
		if err != nil {
			t.Fatal(err)
		}
		ce.Data = again
		envelope, err := json.Marshal(ce)
		if err != nil {
			t.Fatal(err)
		}
		var sent, written map[string]any
		if err := errors.Join(json.Unmarshal(body, &sent), json.Unmarshal(envelope, &written)); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(sent, written) {
			t.Errorf("%s: written back differs from what the relay sent:\nsent:    %s\nwritten: %s", ce.Type, body, envelope)
		}
		if err := schemas["CloudEvent"].Value.VisitJSON(written, openapi3.EnableJSONSchema2020()); err != nil {
			t.Errorf("%s: the envelope written back does not match CloudEvent: %v", ce.Type, err)
		}
		if err := schemas[dataSchemas[e.Type()]].Value.VisitJSON(written["data"], openapi3.EnableJSONSchema2020()); err != nil {
			t.Errorf("%s: the data written back does not match %s: %v", ce.Type, dataSchemas[e.Type()], err)
		}
	}
	for _, typ := range eventTypesAsSubjects() {
		if !seen[typ] {
			t.Errorf("no %s event was decoded", typ)
		}
	}
	if _, err := (event.CloudEvent{Type: "invoicing.invoice.renamed", Data: []byte(`{}`)}).Decode(); !errors.Is(err, event.ErrUnknownType) {
		t.Errorf("Decode of an unknown type: %v, want ErrUnknownType", err)
	}
}

// eventTypesAsSubjects returns the CloudEvent type of every event the
// service publishes.
func eventTypesAsSubjects() []string {
	var types []string
	for _, typ := range eventTypes {
		types = append(types, cloudevent.Subject(typ))
	}
	return types
}
