package failure_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/invoicing-dev/invoicing/internal/failure"
)

var errSentinel = &failure.Error{Kind: failure.Invalid, Code: "bad_thing", Field: "thing", Message: "thing is bad"}

func TestErrorsMatchByCode(t *testing.T) {
	specific := errSentinel.With("things[2]", "thing %d is bad", 2)
	wrapped := fmt.Errorf("context: %w", errors.Join(errors.New("other"), specific.At("order")))
	if !errors.Is(wrapped, errSentinel) {
		t.Fatal("a copy of the sentinel, wrapped and joined, does not match it")
	}
	if errors.Is(wrapped, &failure.Error{Kind: failure.Invalid, Code: "other_thing"}) {
		t.Fatal("an error of another code matches")
	}
	var got *failure.Error
	if !errors.As(wrapped, &got) || got.Field != "order.things[2]" || got.Error() != "order.things[2]: thing 2 is bad" {
		t.Fatalf("found %+v", got)
	}
	if errSentinel.Field != "thing" || errSentinel.Message != "thing is bad" {
		t.Fatal("With or At changed the sentinel")
	}
}

func TestKindOf(t *testing.T) {
	tests := []struct {
		err  error
		want failure.Kind
	}{
		{fmt.Errorf("wrapped: %w", errSentinel), failure.Invalid},
		{&failure.Error{Kind: failure.Precondition, Code: "x"}, failure.Precondition},
		{errors.New("plain"), failure.Internal},
		{nil, failure.Internal},
	}
	for _, tt := range tests {
		if got := failure.KindOf(tt.err); got != tt.want {
			t.Errorf("KindOf(%v) = %s, want %s", tt.err, got, tt.want)
		}
	}
}
