package invoicingnats

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"

	"github.com/invoicing-dev/invoicing/internal/envconfig"
	"github.com/invoicing-dev/invoicing/internal/invoicing/invoicingnats/natsembed"
)

// Embedded is the NATS_URL that runs a NATS server with JetStream inside
// serve or relay: a development convenience for a machine without one,
// never for production (one process, no replicas, its store on local disk).
const Embedded = "embedded"

// Env is where a process finds its NATS server, as Vars read it.
type Env struct {
	URL          string // NATS_URL: server URLs, or Embedded
	EmbeddedAddr string // NATS_EMBEDDED_ADDR
	EmbeddedDir  string // NATS_EMBEDDED_DIR; empty: in the user's cache directory
}

// Vars are the variables of Env, in the order a program lists them.
var Vars = []envconfig.Var[Env]{
	{Name: "NATS_URL", Default: "nats://127.0.0.1:4222", Usage: "NATS server URL (nats://, tls://, ws:// or wss://), or a comma-separated list of cluster URLs; `embedded`: a NATS server inside serve or relay, for development only (NATS_EMBEDDED_ADDR)", Set: func(e *Env, v string) error {
		e.URL = v
		switch {
		case v == Embedded:
			return nil
		case strings.EqualFold(strings.TrimSpace(v), Embedded):
			return fmt.Errorf("the embedded server is spelled `%s`, in lower case", Embedded)
		}
		return CheckURLs(v)
	}},
	{Name: "NATS_EMBEDDED_ADDR", Default: "127.0.0.1:4222", Usage: "with NATS_URL=embedded (development only, never production): where the NATS server inside serve or relay listens; other commands given NATS_URL=embedded, and the nats CLI, reach it there", Set: func(e *Env, v string) error {
		e.EmbeddedAddr = v
		return envconfig.ListenAddr(v)
	}},
	{Name: "NATS_EMBEDDED_DIR", Default: "", Usage: "with NATS_URL=embedded: the JetStream store of that server, an absolute path; empty: invoicing/nats in the user's cache directory (~/.cache on Linux)", Set: func(e *Env, v string) error {
		e.EmbeddedDir = v
		if v != "" && !filepath.IsAbs(v) {
			return errors.New("must be empty or an absolute path")
		}
		return nil
	}},
}

// StartEmbedded starts the embedded server if e.URL is Embedded, listening
// on EmbeddedAddr with its store in EmbeddedDir, and returns e with URL
// replaced by the server's client URL, and a stop that shuts the server
// down (call it after the last NATS connection closed). Otherwise it
// returns e unchanged and a stop that does nothing. It returns an error
// naming the variable at fault if the server cannot start.
func (e Env) StartEmbedded(logger *slog.Logger) (Env, func(), error) {
	if e.URL != Embedded {
		return e, func() {}, nil
	}
	dir := e.EmbeddedDir
	if dir == "" {
		cache, err := os.UserCacheDir()
		if err != nil {
			return e, nil, fmt.Errorf("NATS_EMBEDDED_DIR is empty and there is no user cache directory to default to: %w", err)
		}
		dir = filepath.Join(cache, "invoicing", "nats")
	}
	// The server would only log a port it cannot take: try it first, so
	// start-up fails at once, naming the variable.
	ln, err := net.Listen("tcp", e.EmbeddedAddr)
	if err != nil {
		return e, nil, fmt.Errorf("NATS_URL=embedded: listen on NATS_EMBEDDED_ADDR %s: %w", e.EmbeddedAddr, err)
	}
	ln.Close()
	srv, err := natsembed.Start(natsembed.Config{Addr: e.EmbeddedAddr, Dir: dir}, logger)
	switch {
	case errors.Is(err, natsembed.ErrNotReady):
		return e, nil, fmt.Errorf("NATS_URL=embedded: the server on NATS_EMBEDDED_ADDR %s with its store in NATS_EMBEDDED_DIR %s did not start within 10s (see the log)", e.EmbeddedAddr, dir)
	case errors.Is(err, natsembed.ErrDirInUse):
		return e, nil, fmt.Errorf("NATS_URL=embedded: NATS_EMBEDDED_DIR %s is the store of another embedded server (%w): stop that serve or relay, or give this one a NATS_EMBEDDED_DIR of its own", dir, err)
	case err != nil:
		return e, nil, fmt.Errorf("NATS_URL=embedded: %w", err)
	}
	e.URL = srv.URL()
	logger.Warn("NATS_URL=embedded: a NATS server runs inside this process, for development only: never use it in production",
		"url", e.URL, "store", dir)
	return e, func() { _ = srv.Close() }, nil
}

// ClientURL returns the URL a process that connects to NATS without
// hosting it (notify) dials: with NATS_URL=embedded, the embedded server
// of a serve or relay on this machine (EmbeddedAddr); else e.URL.
func (e Env) ClientURL() string {
	if e.URL == Embedded {
		return "nats://" + envconfig.LoopbackAddr(e.EmbeddedAddr)
	}
	return e.URL
}

// Unreachable returns the error of a command that found no server at
// ClientURL, saying, with NATS_URL=embedded, that serve or relay hosts it.
func (e Env) Unreachable() error {
	if e.URL == Embedded {
		return fmt.Errorf("no NATS server at %s: with NATS_URL=embedded, the server runs inside invoicing serve or relay, which must be running on this machine with the same NATS_EMBEDDED_ADDR", e.ClientURL())
	}
	return fmt.Errorf("no NATS server reachable at NATS_URL=%s", envconfig.HidePasswords(e.URL))
}
