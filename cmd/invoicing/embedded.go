package main

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"

	"github.com/invoicing-dev/invoicing/internal/envconfig"
	"github.com/invoicing-dev/invoicing/internal/invoicing/invoicingnats/natsembed"
)

// embeddedNATS is the NATS_URL that runs a NATS server with JetStream inside
// serve or relay: a development convenience for a machine without one, never
// for production (one process, no replicas, its store on local disk).
const embeddedNATS = "embedded"

// embedNATS starts the embedded NATS server if NATS_URL=embedded, listening
// on NATS_EMBEDDED_ADDR with its store in NATS_EMBEDDED_DIR, and returns cfg
// with NATS_URL replaced by the server's client URL, and a stop that shuts the
// server down (call it after the last NATS connection closed). Otherwise it
// returns cfg unchanged and a stop that does nothing. It returns an error
// naming the variable at fault if the server cannot start.
func embedNATS(cfg config, logger *slog.Logger) (config, func(), error) {
	if cfg.NATSURL != embeddedNATS {
		return cfg, func() {}, nil
	}
	dir := cfg.NATSEmbeddedDir
	if dir == "" {
		cache, err := os.UserCacheDir()
		if err != nil {
			return cfg, nil, fmt.Errorf("NATS_EMBEDDED_DIR is empty and there is no user cache directory to default to: %w", err)
		}
		dir = filepath.Join(cache, "invoicing", "nats")
	}
	// The server would only log a port it cannot take: try it first, so
	// start-up fails at once, naming the variable.
	ln, err := net.Listen("tcp", cfg.NATSEmbeddedAddr)
	if err != nil {
		return cfg, nil, fmt.Errorf("NATS_URL=embedded: listen on NATS_EMBEDDED_ADDR %s: %w", cfg.NATSEmbeddedAddr, err)
	}
	ln.Close()
	srv, err := natsembed.Start(natsembed.Config{Addr: cfg.NATSEmbeddedAddr, Dir: dir}, logger)
	switch {
	case errors.Is(err, natsembed.ErrNotReady):
		return cfg, nil, fmt.Errorf("NATS_URL=embedded: the server on NATS_EMBEDDED_ADDR %s with its store in NATS_EMBEDDED_DIR %s did not start within 10s (see the log)", cfg.NATSEmbeddedAddr, dir)
	case errors.Is(err, natsembed.ErrDirInUse):
		return cfg, nil, fmt.Errorf("NATS_URL=embedded: NATS_EMBEDDED_DIR %s is the store of another embedded server (%w): stop that serve or relay, or give this one a NATS_EMBEDDED_DIR of its own", dir, err)
	case err != nil:
		return cfg, nil, fmt.Errorf("NATS_URL=embedded: %w", err)
	}
	cfg.NATSURL = srv.URL()
	logger.Warn("NATS_URL=embedded: a NATS server runs inside this process, for development only: never use it in production",
		"url", cfg.NATSURL, "store", dir)
	return cfg, func() { _ = srv.Close() }, nil
}

// embeddedClient returns cfg with NATS_URL=embedded replaced by the address
// of the embedded server of a serve or relay on this machine
// (NATS_EMBEDDED_ADDR), for the commands that connect to NATS without
// hosting it (notify). Any other NATS_URL is returned unchanged.
func embeddedClient(cfg config) config {
	if cfg.NATSURL == embeddedNATS {
		cfg.NATSURL = "nats://" + envconfig.LoopbackAddr(cfg.NATSEmbeddedAddr)
	}
	return cfg
}
