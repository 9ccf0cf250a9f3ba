// Package invoicingnats connects the service to NATS JetStream: the connection, the
// INVOICING stream, and the relay's Publisher.
package invoicingnats

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"time"

	"github.com/nats-io/nats.go"
)

// Reconnect delays: exponential from reconnectMin, capped at reconnectMax,
// with jitter so restarted servers are not hit by every client at once.
const (
	reconnectMin = 100 * time.Millisecond
	reconnectMax = 5 * time.Second
)

// Connect connects to the comma-separated server URLs in urls and returns
// the connection, which reconnects forever, with backoff, whenever it is
// lost. If no server answers now, it still returns a connection that keeps
// trying in the background: the service runs without NATS and its events
// wait in the outbox. It returns an error only if urls or the options are
// invalid, or ctx is already done.
//
// Publishes fail fast while disconnected instead of filling the client's
// reconnect buffer: the outbox already buffers events, durably.
func Connect(ctx context.Context, urls string, logger *slog.Logger) (*nats.Conn, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("nats: connect: %w", err)
	}
	log := logger.With("component", "nats")
	nc, err := nats.Connect(urls,
		nats.Name("invoicing"),
		nats.MaxReconnects(-1),
		nats.RetryOnFailedConnect(true),
		nats.ReconnectBufSize(-1),
		nats.CustomReconnectDelay(reconnectDelay),
		nats.ConnectHandler(func(nc *nats.Conn) {
			log.Info("nats: connected", "url", nc.ConnectedUrlRedacted())
		}),
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
			if err != nil { // nil: closed on purpose, ClosedHandler says so
				log.Warn("nats: disconnected", "err", err)
			}
		}),
		nats.ReconnectHandler(func(nc *nats.Conn) {
			log.Info("nats: reconnected", "url", nc.ConnectedUrlRedacted())
		}),
		nats.ClosedHandler(func(*nats.Conn) { log.Info("nats: connection closed") }),
	)
	if err != nil {
		return nil, fmt.Errorf("nats: connect: %w", err)
	}
	if !nc.IsConnected() { // else ConnectHandler logs it
		log.Warn("nats: no server reachable yet; retrying in the background")
	}
	return nc, nil
}

// reconnectDelay returns the wait before reconnect round n (n >= 1).
func reconnectDelay(n int) time.Duration {
	d := reconnectMax
	if shift := n - 1; shift >= 0 && shift < 16 && reconnectMin<<shift < reconnectMax {
		d = reconnectMin << shift
	}
	return d/2 + rand.N(d/2+1)
}
