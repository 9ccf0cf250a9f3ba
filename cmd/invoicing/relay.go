package main

import (
	"context"
	"fmt"
	"log/slog"
)

// runRelay runs "relay": the outbox relay alone, until ctx is cancelled, then
// drains it within SHUTDOWN_TIMEOUT. Several may run at once; one leads (see
// docs/architecture.md). It serves /healthz, /readyz and /metrics on
// HTTP_ADDR (no API) until the relay has stopped, so probes still answer
// while it drains.
func runRelay(ctx context.Context, cfg config, logger *slog.Logger, args []string) error {
	if len(args) != 0 {
		return fmt.Errorf("%w: relay takes no arguments", errUsage)
	}
	p, err := startProcessBase(ctx, cfg, logger)
	if err != nil {
		return err
	}
	defer p.close() // after the command's own parts stopped
	svc, err := newInvoicing(ctx, p, logger, false)
	if err != nil {
		return err
	}
	defer svc.Close()
	err = svc.Run(ctx)
	logger.Info("stopped", "error", err)
	return err
}
