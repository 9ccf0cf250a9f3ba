// Package app holds the notification context's use cases that callers
// start: the webhook API's operations on a tenant's endpoints and their
// deliveries, one per file, each a command and a handler. The ports they
// need are declared here and implemented by the adapters (notifypg);
// main wires them.
package app

// App bundles the use cases, one handler each, for the HTTP layer and main.
type App struct {
	CreateEndpoint   CreateEndpointHandler
	GetEndpoint      GetEndpointHandler
	ListEndpoints    ListEndpointsHandler
	UpdateEndpoint   UpdateEndpointHandler
	DeleteEndpoint   DeleteEndpointHandler
	RotateSecret     RotateSecretHandler
	ListDeliveries   ListDeliveriesHandler
	RetryDelivery    RetryDeliveryHandler
	ReplayDeliveries ReplayDeliveriesHandler
}

// New wires every use case to its ports: endpoints and deliveries are the
// stores, urls checks the address of an endpoint being registered or moved.
func New(endpoints Endpoints, deliveries Deliveries, urls URLChecker) *App {
	return &App{
		CreateEndpoint:   CreateEndpointHandler{endpoints: endpoints, urls: urls},
		GetEndpoint:      GetEndpointHandler{endpoints: endpoints},
		ListEndpoints:    ListEndpointsHandler{endpoints: endpoints},
		UpdateEndpoint:   UpdateEndpointHandler{endpoints: endpoints, urls: urls},
		DeleteEndpoint:   DeleteEndpointHandler{endpoints: endpoints},
		RotateSecret:     RotateSecretHandler{endpoints: endpoints},
		ListDeliveries:   ListDeliveriesHandler{endpoints: endpoints, deliveries: deliveries},
		RetryDelivery:    RetryDeliveryHandler{endpoints: endpoints, deliveries: deliveries},
		ReplayDeliveries: ReplayDeliveriesHandler{endpoints: endpoints, deliveries: deliveries},
	}
}
