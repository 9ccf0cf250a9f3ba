package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/invoicing-dev/invoicing/internal/devmail"
	"github.com/invoicing-dev/invoicing/internal/envconfig"
	"github.com/invoicing-dev/invoicing/internal/invoicing/invoicinghttp"
	"github.com/invoicing-dev/invoicing/internal/invoicing/invoicingnats"
	"github.com/invoicing-dev/invoicing/internal/invoicing/invoicingsvc"
	"github.com/invoicing-dev/invoicing/internal/pgurl"
)

// devFlags are dev's own settings: the addresses of its mail sink, and the
// demo tenant's name.
type devFlags struct{ smtp, mail, tenant string }

// dev runs "dev": the whole system in one process, for a developer's
// machine. It creates the database if missing and migrates both schemas,
// creates the demo tenant (printing its key, once) or reuses it, then runs
// serve with the relay, notify with emails and webhooks, the embedded NATS
// server and the development mail sink, printing their URLs once the API
// answers, until ctx is cancelled. Every port is taken before anything
// else, so one in use fails at once, naming its variable or flag.
func dev(ctx context.Context, cfg config, logger *slog.Logger, args []string, stdout io.Writer) error {
	mailOnly := len(args) > 0 && args[0] == "mail"
	if mailOnly {
		args = args[1:]
	}
	fs := flag.NewFlagSet("dev", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	var f devFlags
	fs.StringVar(&f.smtp, "smtp", "127.0.0.1:1025", "")
	fs.StringVar(&f.mail, "mail", "127.0.0.1:8025", "")
	fs.StringVar(&f.tenant, "tenant", "demo", "")
	if err := fs.Parse(args); err != nil || fs.NArg() != 0 || f.tenant == "" {
		return fmt.Errorf("%w: dev takes: [--smtp ADDR] [--mail ADDR] [--tenant NAME] | mail [--smtp ADDR] [--mail ADDR]", errUsage)
	}
	if mailOnly {
		fmt.Fprintln(stdout, "invoicing dev mail: for development only, never production (a mail sink that delivers nothing)")
	} else {
		fmt.Fprintln(stdout, "invoicing dev: for development only, never production (a mail sink that delivers nothing; an embedded NATS; webhooks to private addresses allowed)")
	}
	smtpLn, err := listenNamed("--smtp", f.smtp)
	if err != nil {
		return err
	}
	defer smtpLn.Close()
	mailLn, err := listenNamed("--mail", f.mail)
	if err != nil {
		return err
	}
	defer mailLn.Close()
	stopSink := devmail.Start(devmail.Config{}, smtpLn, mailLn)
	defer stopSink() // after serve: notify's last emails are in
	mailURL := "http://" + envconfig.LoopbackAddr(mailLn.Addr().String())
	if mailOnly {
		fmt.Fprintf(stdout, "mail sink: SMTP on %s (SMTP_URL=smtp://%[1]s), what it receives on %s (JSON: %[2]s/messages); Ctrl-C stops it\n",
			envconfig.LoopbackAddr(smtpLn.Addr().String()), mailURL)
		<-ctx.Done()
		return nil
	}
	// serve takes these itself, later: a port in use must not wait for
	// the database's creation and migrations to be named.
	for _, a := range [][2]string{{"HTTP_ADDR", cfg.HTTPAddr}, {"NATS_EMBEDDED_ADDR", cfg.NATS.EmbeddedAddr}, {"PPROF_ADDR", cfg.PprofAddr}} {
		if ln, err := listenNamed(a[0], a[1]); err != nil {
			return err
		} else if ln != nil {
			ln.Close()
		}
	}
	cfg.NATS.URL, cfg.Invoicing.Relay, cfg.NotifyEnabled = invoicingnats.Embedded, true, true
	cfg.Notify.Webhooks, cfg.Notify.WebhookPolicy.AllowPrivate = true, true
	cfg.Notify.SMTP.URL = "smtp://" + envconfig.LoopbackAddr(smtpLn.Addr().String())
	key, err := devData(ctx, cfg, f.tenant, stdout)
	if err != nil {
		return err
	}
	if err := invoicinghttp.StartPprof(ctx, cfg.PprofAddr, logger); err != nil {
		return err
	}
	actx, cancel := context.WithCancel(ctx)
	defer cancel() // a serve that failed to start leaves nothing to announce
	go announce(actx, cfg, f, mailURL, key, stdout)
	return serve(ctx, cfg, logger, nil)
}

// listenNamed listens on addr, or returns nil if addr is empty; its error
// names the variable or flag that set addr.
func listenNamed(name, addr string) (net.Listener, error) {
	if addr == "" {
		return nil, nil
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("dev: listen on %s %s: %w (another process has it? give %s a free address)", name, addr, err, name)
	}
	return ln, nil
}

// devData creates the databases of DATABASE_URL and NOTIFY_DATABASE_URL if
// they are missing, migrates both schemas, and creates the tenant if it is
// new: it returns the tenant's new API key, having printed it, or "" for a
// tenant of an earlier start, whose key was shown then only (only its hash
// is stored).
func devData(ctx context.Context, cfg config, tenant string, stdout io.Writer) (string, error) {
	for _, u := range []string{cfg.Invoicing.DatabaseURL, cfg.Notify.DatabaseURL} {
		created, err := invoicingsvc.CreateDatabase(ctx, u)
		if err != nil {
			return "", err
		}
		if created {
			fmt.Fprintf(stdout, "created the database %q\n", pgurl.Database(u))
		}
	}
	if err := migrate(ctx, cfg, []string{"up"}, io.Discard); err != nil {
		return "", err
	}
	key, id, err := invoicingsvc.CreateTenant(ctx, cfg.Invoicing.DatabaseURL, tenant)
	switch {
	case err != nil:
		return "", err
	case key == "":
		fmt.Fprintf(stdout, "tenant %s: reused, with the data of earlier starts; its API key was shown at its first start only. A new key: invoicing apikey create --tenant %s (with this DATABASE_URL)\n", tenant, tenant)
		return "", nil
	}
	fmt.Fprintf(stdout, "tenant %s (%s) created; its API key, shown this once (store it now):\nKEY=%s\n", tenant, id, key)
	return key, nil
}

// announce prints where everything is, and a curl line that creates an
// invoice with key ($KEY if key is empty), once the API answers /healthz;
// it gives up silently when ctx ends first.
func announce(ctx context.Context, cfg config, f devFlags, mailURL, key string, stdout io.Writer) {
	api := "http://" + envconfig.LoopbackAddr(cfg.HTTPAddr)
	client := &http.Client{Timeout: 2 * time.Second}
	ok := func(path string) bool {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, api+path, nil)
		resp, err := client.Do(req)
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	}
	for !ok("/healthz") {
		select {
		case <-ctx.Done():
			return
		case <-time.After(100 * time.Millisecond):
		}
	}
	docs := "(none in this build)"
	if ok("/docs") {
		docs = api + "/docs"
	}
	auth := `"Authorization: Bearer $KEY"`
	if key != "" {
		auth = "'Authorization: Bearer " + key + "'"
	}
	fmt.Fprintf(stdout, `
invoicing dev is running (development only). Ctrl-C stops it; the next start reuses the data.
  API       %[1]s  (contract: %[1]s/v1/openapi.yaml)
  API docs  %[2]s
  mail      %[3]s  (every email sent; JSON: %[3]s/messages; SMTP on %[4]s)
  metrics   %[1]s/metrics
  webhooks  on, to private addresses too: POST %[1]s/v1/webhook_endpoints, then GET .../{id}/deliveries
  NATS      %[5]s  (NATS_URL for the nats CLI)
  database  %[6]s  (tenant %[7]s)
Create an invoice:
  curl -s -X POST %[1]s/v1/invoices -H %[8]s -H 'Content-Type: application/json' -d '{"customer": {"name": "Ada Lovelace", "email": "ada@example.com"}, "currency": "EUR", "lines": [{"description": "Consulting", "quantity": 1, "unit_amount": 5000}]}'

`, api, docs, mailURL, envconfig.LoopbackAddr(f.smtp), "nats://"+envconfig.LoopbackAddr(cfg.NATS.EmbeddedAddr),
		envconfig.HidePasswords(cfg.Invoicing.DatabaseURL), f.tenant, auth)
}
