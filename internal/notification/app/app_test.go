package app_test

import (
	"context"
	"errors"
	"testing"

	"github.com/invoicing-dev/invoicing/internal/notification/app"
	"github.com/invoicing-dev/invoicing/internal/notification/webhook"
)

// store is an in-memory stand-in for the stores: one endpoint of tenant
// "acme" with one delivery; any other id is not found. It counts the calls
// that reach it.
type store struct {
	calls int
}

const (
	endpointID = "ep"
	deliveryID = "dl"
)

func (s *store) find(tenant, id string) (webhook.Endpoint, error) {
	s.calls++
	if tenant != "acme" || id != endpointID {
		return webhook.Endpoint{}, webhook.ErrNotFound
	}
	return webhook.Endpoint{ID: id, TenantID: tenant, Status: webhook.StatusEnabled}, nil
}

func (s *store) Create(_ context.Context, tenant string, ne webhook.NewEndpoint) (webhook.Endpoint, error) {
	s.calls++
	return webhook.Endpoint{ID: endpointID, TenantID: tenant, URL: ne.URL}, nil
}

func (s *store) Get(_ context.Context, tenant, id string) (webhook.Endpoint, error) {
	return s.find(tenant, id)
}

func (s *store) List(_ context.Context, _ string, p webhook.Page) ([]webhook.Endpoint, bool, error) {
	s.calls++
	if p.StartingAfter != "" && p.StartingAfter != endpointID {
		return nil, false, webhook.ErrNotFound
	}
	return nil, false, nil
}

func (s *store) Update(_ context.Context, tenant, id string, _ webhook.Patch) (webhook.Endpoint, error) {
	return s.find(tenant, id)
}

func (s *store) Delete(_ context.Context, tenant, id string) error {
	_, err := s.find(tenant, id)
	return err
}

func (s *store) RotateSecret(_ context.Context, tenant, id string) (webhook.Endpoint, error) {
	return s.find(tenant, id)
}

func (s *store) Deliveries(_ context.Context, tenant, endpointID string, f webhook.DeliveryFilter) ([]webhook.Delivery, bool, error) {
	if _, err := s.find(tenant, endpointID); err != nil {
		return nil, false, err
	}
	if f.StartingAfter != "" && f.StartingAfter != deliveryID {
		return nil, false, webhook.ErrNotFound
	}
	return nil, false, nil
}

func (s *store) Retry(_ context.Context, tenant, endpointID, id string) error {
	if _, err := s.find(tenant, endpointID); err != nil {
		return err
	}
	if id != deliveryID {
		return webhook.ErrNotFound
	}
	return nil
}

func (s *store) Replay(_ context.Context, tenant, endpointID string, _ webhook.Replay) (webhook.Replayed, error) {
	_, err := s.find(tenant, endpointID)
	return webhook.Replayed{}, err
}

// webhook.Policy is the URLChecker main wires.
var _ app.URLChecker = webhook.Policy{}

// urls refuses every address but "https://ok.example/".
type urls struct{}

func (urls) CheckURL(_ context.Context, raw string) error {
	if raw != "https://ok.example/" {
		return &webhook.InvalidError{Field: "url", Message: "refused"}
	}
	return nil
}

// fields returns the fields of the *webhook.InvalidErrors joined in err.
func fields(err error) []string {
	var out []string
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		for _, e := range j.Unwrap() {
			out = append(out, fields(e)...)
		}
		return out
	}
	var ie *webhook.InvalidError
	if errors.As(err, &ie) {
		out = append(out, ie.Field)
	}
	return out
}

func TestCreateEndpointChecksEveryFieldBeforeTheStore(t *testing.T) {
	s := &store{}
	a := app.New(s, s, urls{})
	_, err := a.CreateEndpoint.Handle(t.Context(), app.CreateEndpoint{Tenant: "acme", URL: "http://10.0.0.1/",
		EnabledEvents: []string{"nope"}, Description: "a\x00b"})
	if got := fields(err); len(got) != 3 || got[0] != "url" || got[1] != "enabled_events[0]" || got[2] != "description" {
		t.Errorf("fields at fault %v (%v), want url, enabled_events[0], description", got, err)
	}
	if s.calls != 0 {
		t.Errorf("an invalid endpoint reached the store (%d calls)", s.calls)
	}
	if _, err := a.CreateEndpoint.Handle(t.Context(), app.CreateEndpoint{Tenant: "acme", URL: "https://ok.example/",
		EnabledEvents: []string{"*"}}); err != nil || s.calls != 1 {
		t.Errorf("a valid endpoint: %v, %d calls", err, s.calls)
	}
}

func TestUpdateEndpointChecksOnlyWhatChanges(t *testing.T) {
	s := &store{}
	a := app.New(s, s, urls{})
	bad, empty := "on", ""
	_, err := a.UpdateEndpoint.Handle(t.Context(), app.UpdateEndpoint{Tenant: "acme", ID: endpointID,
		Patch: webhook.Patch{Status: &bad, Description: &empty, EnabledEvents: []string{}}})
	if got := fields(err); len(got) != 2 || got[0] != "enabled_events" || got[1] != "status" || s.calls != 0 {
		t.Errorf("fields at fault %v (%v, %d calls), want enabled_events and status, no call", got, err, s.calls)
	}
	if _, err := a.UpdateEndpoint.Handle(t.Context(), app.UpdateEndpoint{Tenant: "acme", ID: endpointID}); err != nil {
		t.Errorf("an empty patch: %v", err)
	}
}

func TestListsRefuseALimitOrCursorOutsideTheList(t *testing.T) {
	s := &store{}
	a := app.New(s, s, urls{})
	for _, limit := range []int{0, app.MaxListLimit + 1} {
		if _, _, err := a.ListEndpoints.Handle(t.Context(), app.ListEndpoints{Tenant: "acme", Page: webhook.Page{Limit: limit}}); !errors.Is(err, app.ErrInvalidLimit) {
			t.Errorf("endpoints, limit %d: %v, want ErrInvalidLimit", limit, err)
		}
		if _, _, err := a.ListDeliveries.Handle(t.Context(), app.ListDeliveries{Tenant: "acme", EndpointID: endpointID,
			Filter: webhook.DeliveryFilter{Page: webhook.Page{Limit: limit}}}); !errors.Is(err, app.ErrInvalidLimit) {
			t.Errorf("deliveries, limit %d: %v, want ErrInvalidLimit", limit, err)
		}
	}
	page := webhook.Page{Limit: 10, StartingAfter: "elsewhere"}
	if _, _, err := a.ListEndpoints.Handle(t.Context(), app.ListEndpoints{Tenant: "acme", Page: page}); !errors.Is(err, app.ErrInvalidCursor) {
		t.Errorf("endpoints after a foreign id: %v, want ErrInvalidCursor", err)
	}
	if _, _, err := a.ListDeliveries.Handle(t.Context(), app.ListDeliveries{Tenant: "acme", EndpointID: endpointID,
		Filter: webhook.DeliveryFilter{Page: page}}); !errors.Is(err, app.ErrInvalidCursor) {
		t.Errorf("deliveries after a foreign id: %v, want ErrInvalidCursor", err)
	}
	// Another tenant's endpoint is not found, whatever the cursor.
	if _, _, err := a.ListDeliveries.Handle(t.Context(), app.ListDeliveries{Tenant: "other", EndpointID: endpointID,
		Filter: webhook.DeliveryFilter{Page: page}}); !errors.Is(err, webhook.ErrNotFound) || errors.Is(err, app.ErrInvalidCursor) {
		t.Errorf("deliveries of another tenant's endpoint: %v, want ErrNotFound", err)
	}
	s.calls = 0
	_, _, err := a.ListDeliveries.Handle(t.Context(), app.ListDeliveries{Tenant: "acme", EndpointID: endpointID,
		Filter: webhook.DeliveryFilter{Status: "lost", Page: webhook.Page{Limit: 10}}})
	if got := fields(err); len(got) != 1 || got[0] != "status" || s.calls != 0 {
		t.Errorf("status lost: %v (%d calls), want an invalid status before the store", err, s.calls)
	}
}

func TestRetryDeliverySaysWhichIsMissing(t *testing.T) {
	s := &store{}
	a := app.New(s, s, urls{})
	err := a.RetryDelivery.Handle(t.Context(), app.RetryDelivery{Tenant: "other", EndpointID: endpointID, DeliveryID: deliveryID})
	if !errors.Is(err, webhook.ErrNotFound) || errors.Is(err, app.ErrDeliveryNotFound) {
		t.Errorf("another tenant's endpoint: %v, want the endpoint not found", err)
	}
	if err := a.RetryDelivery.Handle(t.Context(), app.RetryDelivery{Tenant: "acme", EndpointID: endpointID, DeliveryID: "x"}); !errors.Is(err, app.ErrDeliveryNotFound) {
		t.Errorf("an unknown delivery: %v, want ErrDeliveryNotFound", err)
	}
	if err := a.RetryDelivery.Handle(t.Context(), app.RetryDelivery{Tenant: "acme", EndpointID: endpointID, DeliveryID: deliveryID}); err != nil {
		t.Errorf("a delivery: %v", err)
	}
}
