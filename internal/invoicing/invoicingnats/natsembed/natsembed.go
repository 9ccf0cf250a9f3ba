// Package natsembed runs a NATS server with JetStream inside the process:
// a development convenience for a machine without one, never for
// production (one process, no replicas, its store on local disk).
package natsembed

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"strconv"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

// ErrNotReady is Start's error when the server did not accept connections
// within 10 seconds (its log says why).
var ErrNotReady = errors.New("natsembed: the server did not start within 10s")

// Config is where the server listens and keeps its store.
type Config struct {
	// Addr is the host:port the server listens on; port 0: any.
	Addr string
	// Dir is the JetStream store, an absolute path. Required.
	Dir string
}

// Validate returns an error naming the first setting missing.
func (c Config) Validate() error {
	if c.Dir == "" {
		return errors.New("natsembed: Dir is required")
	}
	return nil
}

// Server is a running embedded NATS server.
type Server struct {
	srv  *server.Server
	lock *os.File // the store's lock, held until Close
}

// Start starts the server of cfg, logging to logger, and waits until it
// accepts connections. It returns ErrNotReady if it did not within 10
// seconds, an error wrapping ErrDirInUse if another process runs a server
// on cfg.Dir, or the server's error if it cannot be created.
func Start(cfg Config, logger *slog.Logger) (_ *Server, err error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	lock, err := lockDir(cfg.Dir)
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			lock.Close()
		}
	}()
	host, port, _ := net.SplitHostPort(cfg.Addr)
	portNum, _ := strconv.Atoi(port)
	if portNum == 0 {
		portNum = server.RANDOM_PORT // nats-server's 0 is its default, 4222
	}
	srv, err := server.NewServer(&server.Options{
		ServerName: "invoicing-embedded",
		Host:       host,
		Port:       portNum,
		JetStream:  true,
		StoreDir:   cfg.Dir,
		NoSigs:     true, // the process's signals are its own
	})
	if err != nil {
		return nil, err
	}
	srv.SetLoggerV2(natsLogger{logger}, false, false, false)
	srv.Start()
	if !srv.ReadyForConnections(10 * time.Second) {
		srv.Shutdown()
		return nil, ErrNotReady
	}
	return &Server{srv: srv, lock: lock}, nil
}

// URL returns the server's client URL, on the loopback address if it
// listens on all of them.
func (s *Server) URL() string {
	addr := s.srv.Addr().(*net.TCPAddr)
	if addr.IP.IsUnspecified() {
		addr = &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: addr.Port}
	}
	return "nats://" + addr.String()
}

// Close shuts the server down and waits until it has. Call it after the
// last connection to it closed. It never fails.
func (s *Server) Close() error {
	s.srv.Shutdown()
	s.srv.WaitForShutdown()
	s.lock.Close() // after the store's last write
	return nil
}

// natsLogger writes the server's notices, warnings and errors to the
// service's log; a fatal error is logged as an error, never exits.
type natsLogger struct{ l *slog.Logger }

func (n natsLogger) Noticef(format string, v ...any) { n.l.Debug("nats: " + fmt.Sprintf(format, v...)) }
func (n natsLogger) Warnf(format string, v ...any)   { n.l.Warn("nats: " + fmt.Sprintf(format, v...)) }
func (n natsLogger) Errorf(format string, v ...any)  { n.l.Error("nats: " + fmt.Sprintf(format, v...)) }
func (n natsLogger) Fatalf(format string, v ...any)  { n.l.Error("nats: " + fmt.Sprintf(format, v...)) }
func (n natsLogger) Debugf(string, ...any)           {}
func (n natsLogger) Tracef(string, ...any)           {}
