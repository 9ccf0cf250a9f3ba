// Command invoicing runs the invoicing service and its operational tasks:
//
//	invoicing serve                      HTTP API (and, by default, the outbox relay)
//	invoicing relay                      the outbox relay alone
//	invoicing migrate up|down|version    database schema
//	invoicing apikey create --tenant N   create an API key (printed once, last line)
//	invoicing outbox failed|retry ...    inspect and re-queue parked events
//	invoicing notify [failed|retry|replay] the notification consumer and its tools
//
// Configuration comes from the environment; see the README's table.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

const usage = `usage: invoicing <command> [arguments]

commands:
  serve                          run the HTTP API (and the outbox relay unless RELAY_ENABLED=false)
  relay                          run the outbox relay alone
  migrate up|down|version        apply, revert or show database migrations
  apikey create --tenant NAME    create an API key for a tenant (printed once, on the last line)
  outbox failed                  list events parked after failing to publish
  outbox retry EVENT_ID|--all    re-queue parked events
  notify                         run the notification consumer and email workers alone
  notify failed                  list email tasks that failed for good
  notify retry TASK_ID|--all     re-queue failed email tasks
  notify replay --since TIME     re-read the stream from TIME (RFC 3339, or 1h back) through the inbox
  overdue                        record invoicing.invoice.overdue for invoices past their due date, once
`

// errUsage marks a command line that could not be understood.
var errUsage = errors.New("invalid command line")

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdout)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "invoicing:", err)
		if errors.Is(err, errUsage) {
			fmt.Fprint(os.Stderr, usage)
			os.Exit(2)
		}
		os.Exit(1)
	}
}

// run executes the command named by args[0]. It returns when the command is
// done or, for long-running commands, after ctx is cancelled and shutdown has
// finished; the error says what failed.
func run(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	if len(args) == 0 {
		return fmt.Errorf("%w: no command", errUsage)
	}
	cfg, err := loadConfig(getenv)
	if err != nil {
		return err
	}
	logger := newLogger(stdout, cfg.LogLevel)
	// Ends the pprof server when the command returns, also after a failed
	// start-up.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	switch args[0] {
	case "serve":
		if err := startPprof(ctx, cfg.PprofAddr, logger); err != nil {
			return err
		}
		return serve(ctx, cfg, logger, args[1:])
	case "relay":
		if err := startPprof(ctx, cfg.PprofAddr, logger); err != nil {
			return err
		}
		return runRelay(ctx, cfg, logger, args[1:])
	case "migrate":
		return migrate(ctx, cfg, args[1:], stdout)
	case "apikey":
		return apikey(ctx, cfg, args[1:], stdout)
	case "outbox":
		return outbox(ctx, cfg, args[1:], stdout)
	case "notify":
		if len(args) == 1 {
			startPprof(ctx, cfg.PprofAddr, logger)
		}
		return notify(ctx, cfg, logger, args[1:], stdout)
	case "overdue":
		return overdue(ctx, cfg, logger, args[1:], stdout)
	case "help", "-h", "--help":
		_, err := fmt.Fprint(stdout, usage)
		return err
	default:
		return fmt.Errorf("%w: unknown command %q", errUsage, args[0])
	}
}
