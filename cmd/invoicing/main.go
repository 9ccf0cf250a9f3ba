// Command invoicing runs the invoicing service and its operational tasks:
//
//	invoicing serve                      HTTP API (and, by default, the outbox relay)
//	invoicing relay                      the outbox relay alone
//	invoicing migrate up|down N|down --all|status|version   database schema
//	invoicing apikey create --tenant N   create an API key (printed once, last line)
//	invoicing outbox failed|retry ...    inspect and re-queue parked events
//	invoicing notify [failed|retry|replay|reminders] the notification consumer and its tools
//	invoicing dev                        the whole system in one process, for development
//	invoicing version                    module version and VCS revision
//	invoicing help [COMMAND|env]         a command's help, or every variable
//
// Configuration comes from the environment; see the README's table.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"

	"github.com/invoicing-dev/invoicing/internal/envconfig"
	"github.com/invoicing-dev/invoicing/internal/invoicing/invoicinghttp"
	"github.com/invoicing-dev/invoicing/internal/pgurl"
)

// errUsage marks a command line that could not be understood.
var errUsage = errors.New("invalid command line")

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	// The first SIGINT or SIGTERM starts the drain; stop then hands the
	// signals back to Go's default, so a second one ends the process at
	// once (nothing committed is lost: the relay re-sends what it had not
	// marked, and JetStream drops the duplicates).
	context.AfterFunc(ctx, stop)
	err := runWith(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "invoicing:", err)
		if errors.Is(err, errUsage) {
			// The command's own forms, or the list of commands.
			helps.WriteMisuse(os.Stderr, os.Args[1:])
			os.Exit(2)
		}
		os.Exit(1)
	}
}

// run is runWith with the logs on stdout too.
func run(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	return runWith(ctx, args, getenv, stdout, stdout)
}

// runWith executes the command named by args[0], its output on stdout. It
// returns when the command is done or, for long-running commands, after ctx
// is cancelled and shutdown has finished; the error says what failed.
func runWith(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return fmt.Errorf("%w: no command", errUsage)
	}
	// Help and version read no configuration: they work whatever the
	// environment holds.
	switch {
	case args[0] == "help" || args[0] == "-h" || args[0] == "--help":
		return help(stdout, args[1:])
	case envconfig.WantsHelp(args[1:]):
		return help(stdout, args[:1])
	case args[0] == "version":
		if len(args) != 1 {
			return fmt.Errorf("%w: version takes no arguments", errUsage)
		}
		info, _ := debug.ReadBuildInfo()
		return printVersion(stdout, info)
	}
	if _, ok := helps.Find(args[0]); !ok {
		// Before the configuration: a mistyped command is the error to
		// report, whatever the environment holds.
		return fmt.Errorf("%w: unknown command %q", errUsage, args[0])
	}
	cfg, err := loadConfig(getenv)
	if err != nil {
		return err
	}
	logs := stdout
	if !longRunning(args) {
		// A command that answers and exits keeps its answer alone on
		// stdout, for scripts, and logs beside it.
		logs = stderr
	}
	logger := newLogger(logs, cfg.LogLevel)
	// Ends the pprof server when the command returns, also after a failed
	// start-up.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	return pgurl.Hint(runCommand(ctx, cfg, logger, args, stdout),
		pgurl.Var{Name: "DATABASE_URL", URL: cfg.Invoicing.DatabaseURL}, pgurl.Var{Name: cfg.Notify.DatabaseVar, URL: cfg.Notify.DatabaseURL})
}

// runCommand runs the command of args[0] with cfg, as run describes.
func runCommand(ctx context.Context, cfg config, logger *slog.Logger, args []string, stdout io.Writer) error {
	if longRunning(args) {
		// dev starts it itself, once it has checked its ports.
		if err := invoicinghttp.StartPprof(ctx, cfg.PprofAddr, logger); err != nil {
			return err
		}
	}
	switch args[0] {
	case "serve":
		return serve(ctx, cfg, logger, args[1:])
	case "relay":
		return runRelay(ctx, cfg, logger, args[1:])
	case "migrate":
		return migrate(ctx, cfg, args[1:], stdout)
	case "apikey":
		return apikey(ctx, cfg, args[1:], stdout)
	case "outbox":
		return outbox(ctx, cfg, args[1:], stdout)
	case "notify":
		return notify(ctx, cfg, logger, args[1:], stdout)
	case "overdue":
		return overdue(ctx, cfg, logger, args[1:], stdout)
	case "dev":
		return dev(ctx, cfg, logger, args[1:], stdout)
	default:
		return fmt.Errorf("%w: unknown command %q", errUsage, args[0])
	}
}

// longRunning reports whether args is a process that runs until stopped
// (serve, relay, notify), whose log is its output.
func longRunning(args []string) bool {
	return args[0] == "serve" || args[0] == "relay" || args[0] == "notify" && len(args) == 1
}
