package invoicinghttp

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"
)

// MaxHeaderBytes bounds the request line and headers a server reads (Go adds
// 4 KiB of slack); larger requests are answered 431. Go's default of 1 MiB
// lets connections with unfinished headers hold a megabyte each before anyone
// is authenticated (README, "Request limits", has the measurement); 64 KiB is
// still eight times what common proxies accept.
const MaxHeaderBytes = 64 << 10

// opsShutdownTimeout bounds the close of a server of the operational
// endpoints alone, which serves only short probe and scrape requests.
const opsShutdownTimeout = 5 * time.Second

// NewServer returns the HTTP server of h, with timeouts that keep a slow or
// stuck client from holding a connection forever and a bound on the headers
// one may send. Its errors go to logger.
func NewServer(h http.Handler, logger *slog.Logger) *http.Server {
	return &http.Server{
		Handler:           h,
		MaxHeaderBytes:    MaxHeaderBytes,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
}

// ServeWhile serves h (the operational endpoints) on ln, bound before
// anything connected, while work runs, so probes still answer while it
// drains, then closes the server. It logs "listening" with attrs, and
// returns work's error joined with the server's.
func ServeWhile(ctx context.Context, ln net.Listener, logger *slog.Logger, h http.Handler, work func() error, attrs ...any) error {
	srv := NewServer(h, logger)
	logger.Info("listening", append([]any{"addr", ln.Addr().String()}, attrs...)...)
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()

	errs := []error{work()}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), opsShutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		errs = append(errs, fmt.Errorf("http shutdown: %w", err), srv.Close())
	}
	if err := <-served; !errors.Is(err, http.ErrServerClosed) {
		errs = append(errs, fmt.Errorf("http server: %w", err))
	}
	return errors.Join(errs...)
}
