// Package natstest runs an embedded nats-server with JetStream for tests
// that need their own server, e.g. to stop and restart it.
package natstest

import (
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

// Server is an embedded nats-server with JetStream, its store in a test
// temporary directory. It is shut down when the test ends.
type Server struct {
	t    testing.TB
	opts server.Options
	srv  *server.Server
}

// Option changes the server's options before it starts.
type Option func(*server.Options)

// MaxPayload sets the server's max_payload, the largest message (body and
// headers) it accepts; the default is 1 MiB.
func MaxPayload(bytes int32) Option {
	return func(o *server.Options) { o.MaxPayload = bytes }
}

// SyncAlways makes the server fsync every JetStream write before it
// acknowledges it, as compose's deploy/nats.conf does (sync_interval:
// always); the default syncs every two minutes.
func SyncAlways() Option {
	return func(o *server.Options) { o.SyncAlways = true }
}

// New starts a server on a random local port with opts applied, or fails the
// test.
func New(t testing.TB, opts ...Option) *Server {
	t.Helper()
	s := &Server{t: t, opts: server.Options{
		Host:      "127.0.0.1",
		Port:      server.RANDOM_PORT,
		JetStream: true,
		StoreDir:  t.TempDir(),
		NoLog:     true,
		NoSigs:    true,
	}}
	for _, o := range opts {
		o(&s.opts)
	}
	s.start()
	// Restarts reuse the port, so clients reconnect to the same URL.
	s.opts.Port = s.srv.Addr().(*net.TCPAddr).Port
	t.Cleanup(s.Stop)
	return s
}

// URL returns the server's client URL.
func (s *Server) URL() string { return fmt.Sprintf("nats://%s:%d", s.opts.Host, s.opts.Port) }

// Stop shuts the server down; stopping a stopped server does nothing.
func (s *Server) Stop() {
	if s.srv != nil {
		s.srv.Shutdown()
		s.srv.WaitForShutdown()
		s.srv = nil
	}
}

// Restart stops the server if it runs and starts it again on the same port
// and store, so streams and their duplicate windows survive. It fails the
// test if the server does not come up.
func (s *Server) Restart() {
	s.t.Helper()
	s.Stop()
	s.start()
}

func (s *Server) start() {
	s.t.Helper()
	opts := s.opts
	srv, err := server.NewServer(&opts)
	if err != nil {
		s.t.Fatalf("natstest: new server: %v", err)
	}
	srv.Start()
	if !srv.ReadyForConnections(10 * time.Second) {
		srv.Shutdown()
		s.t.Fatalf("natstest: server not ready on port %d", s.opts.Port)
	}
	s.srv = srv
}
