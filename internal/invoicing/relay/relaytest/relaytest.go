// Package relaytest reads published events the way their subscribers do, for
// tests: with the official CloudEvents Go SDK.
package relaytest

import (
	"strconv"
	"testing"

	"github.com/cloudevents/sdk-go/v2/event"
)

// WantSequence decodes raw with the official CloudEvents Go SDK, which holds
// an event to the CloudEvents specification, and fails the test (without
// stopping it) unless the event decodes and validates and its sequence
// extension is the decimal string of want.
func WantSequence(t testing.TB, raw []byte, want int64) {
	t.Helper()
	var e event.Event
	if err := e.UnmarshalJSON(raw); err != nil {
		t.Errorf("sequence %d: the CloudEvents SDK cannot decode the event: %v", want, err)
		return
	}
	if err := e.Validate(); err != nil {
		t.Errorf("sequence %d: the CloudEvents SDK finds the event invalid: %v", want, err)
	}
	if got := e.Extensions()["sequence"]; got != strconv.FormatInt(want, 10) {
		t.Errorf("sequence = %#v (%T), want the string %q", got, got, strconv.FormatInt(want, 10))
	}
}
