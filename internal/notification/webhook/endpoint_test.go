package webhook_test

import (
	"errors"
	"testing"

	"github.com/invoicing-dev/invoicing/internal/notification/webhook"
)

func TestAdmit(t *testing.T) {
	for _, tc := range []struct {
		registered, max int
		refused         bool
	}{
		{0, 1, false},
		{15, 16, false},
		{16, 16, true},
		{17, 16, true}, // the limit was lowered since
	} {
		err := webhook.Admit(tc.registered, tc.max)
		var limit *webhook.LimitError
		if got := errors.As(err, &limit); got != tc.refused || (got && limit.Max != tc.max) {
			t.Errorf("Admit(%d, %d) = %v, want refused %v naming the limit", tc.registered, tc.max, err, tc.refused)
		}
	}
}

func TestRedeliverable(t *testing.T) {
	if err := (webhook.Endpoint{Status: webhook.StatusEnabled}).Redeliverable(); err != nil {
		t.Errorf("enabled: %v", err)
	}
	if err := (webhook.Endpoint{Status: webhook.StatusDisabled}).Redeliverable(); !errors.Is(err, webhook.ErrConflict) {
		t.Errorf("disabled: %v, want ErrConflict", err)
	}
}
