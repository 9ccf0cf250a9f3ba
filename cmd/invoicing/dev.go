package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"

	"github.com/invoicing-dev/invoicing/internal/devstack"
	"github.com/invoicing-dev/invoicing/internal/invoicing/invoicinghttp"
	"github.com/invoicing-dev/invoicing/internal/invoicing/invoicingnats"
	"github.com/invoicing-dev/invoicing/internal/invoicing/invoicingsvc"
	"github.com/invoicing-dev/invoicing/internal/pgurl"
)

// dev runs "dev": the whole system in one process, for a developer's
// machine. It creates the database if missing and migrates both schemas,
// creates the demo tenant (printing its key, once) or reuses it, then runs
// serve with the relay, notify with emails and webhooks, the embedded NATS
// server and the development mail sink, printing their URLs once the API
// answers, until ctx is cancelled. Every port is taken before anything
// else, so one in use fails at once, naming its variable or flag.
func dev(ctx context.Context, cfg config, logger *slog.Logger, args []string, stdout io.Writer) error {
	f, err := devstack.ParseFlags(args)
	if err != nil {
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	sink, err := devstack.StartSink(f, stdout)
	if err != nil {
		return err
	}
	defer sink.Close() // after serve: notify's last emails are in
	if f.MailOnly {
		sink.RunAlone(ctx, stdout)
		return nil
	}
	// serve takes these itself, later: a port in use must not wait for
	// the database's creation and migrations to be named.
	for _, a := range [][2]string{{"HTTP_ADDR", cfg.HTTPAddr}, {"NATS_EMBEDDED_ADDR", cfg.NATS.EmbeddedAddr}, {"PPROF_ADDR", cfg.PprofAddr}} {
		if err := devstack.Free(a[0], a[1]); err != nil {
			return err
		}
	}
	cfg.NATS.URL, cfg.Invoicing.Relay, cfg.NotifyEnabled = invoicingnats.Embedded, true, true
	cfg.Notify.Webhooks, cfg.Notify.WebhookPolicy.AllowPrivate = true, true
	cfg.Notify.SMTP.URL = "smtp://" + sink.SMTPAddr()
	key, err := devData(ctx, cfg, f.Tenant, stdout)
	if err != nil {
		return err
	}
	if err := invoicinghttp.StartPprof(ctx, cfg.PprofAddr, logger); err != nil {
		return err
	}
	actx, cancel := context.WithCancel(ctx)
	defer cancel() // a serve that failed to start leaves nothing to announce
	go devstack.Announce(actx, stdout, devstack.Announcement{HTTPAddr: cfg.HTTPAddr, NATSAddr: cfg.NATS.EmbeddedAddr, SMTPAddr: f.SMTP,
		MailURL: sink.MailURL(), DatabaseURL: cfg.Invoicing.DatabaseURL, Tenant: f.Tenant, Key: key})
	return serve(ctx, cfg, logger, nil)
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
