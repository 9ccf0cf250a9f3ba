// Package devstack holds what `invoicing dev` runs around the service on a
// developer's machine: its command line, the development mail sink on its
// two ports, and the announcement of where everything is once the API
// answers. main assembles the service itself, as serve does.
package devstack

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"

	"github.com/invoicing-dev/invoicing/internal/devmail"
	"github.com/invoicing-dev/invoicing/internal/envconfig"
)

// Help is the help of the dev commands, for a program's command line.
var Help = envconfig.Command{
	Name: "dev", Synopsis: []string{"dev [--smtp ADDR] [--mail ADDR] [--tenant NAME]\tthe whole system in one process, for development only",
		"dev mail [--smtp ADDR] [--mail ADDR]\tthe development mail sink alone, for serve and notify run by hand"},
	About: `Creates the database DATABASE_URL names if missing, migrates both schemas, creates the demo
tenant (default demo; its API key is printed at its first start only) or reuses it, and runs serve
with the relay, notify with emails and webhooks (private URLs allowed), an embedded NATS server on
NATS_EMBEDDED_ADDR (NATS_URL is not read) and a mail sink: SMTP on --smtp (127.0.0.1:1025), its
messages on a page at --mail (127.0.0.1:8025). Prints the URLs and a curl line once the API
answers; SIGINT or SIGTERM stops it. A port in use fails start-up at once, naming its variable or
flag. dev mail runs the sink alone (SMTP_URL=smtp://127.0.0.1:1025 for notify). Never for production.`,
	Env: []string{"HTTP_ADDR", "NATS_EMBEDDED_ADDR", "NATS_EMBEDDED_DIR", "PPROF_ADDR", "DATABASE_URL", "LOG_LEVEL",
		"NOTIFY_DATABASE_URL", "MAIL_FROM", "MAIL_DOMAIN"},
}

// Flags are dev's own settings.
type Flags struct {
	MailOnly   bool   // "dev mail": the sink alone
	SMTP, Mail string // the sink's addresses: SMTP, and the page of what it received
	Tenant     string // the demo tenant's name
}

// ParseFlags parses the words after "dev". Its only error is a command
// line it does not understand, saying what dev takes.
func ParseFlags(args []string) (Flags, error) {
	var f Flags
	if f.MailOnly = len(args) > 0 && args[0] == "mail"; f.MailOnly {
		args = args[1:]
	}
	fs := flag.NewFlagSet("dev", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.StringVar(&f.SMTP, "smtp", "127.0.0.1:1025", "")
	fs.StringVar(&f.Mail, "mail", "127.0.0.1:8025", "")
	fs.StringVar(&f.Tenant, "tenant", "demo", "")
	if err := fs.Parse(args); err != nil || fs.NArg() != 0 || f.Tenant == "" {
		return f, errors.New("dev takes: [--smtp ADDR] [--mail ADDR] [--tenant NAME] | mail [--smtp ADDR] [--mail ADDR]")
	}
	return f, nil
}

// Listen listens on addr, or returns nil if addr is empty; its error names
// the variable or flag that set addr.
func Listen(name, addr string) (net.Listener, error) {
	if addr == "" {
		return nil, nil
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("dev: listen on %s %s: %w (another process has it? give %s a free address)", name, addr, err, name)
	}
	return ln, nil
}

// Free returns Listen's error if addr is taken; else it lets it go, for the
// part of the service that takes it later.
func Free(name, addr string) error {
	ln, err := Listen(name, addr)
	if ln != nil {
		ln.Close()
	}
	return err
}

// Sink is the development mail sink, on the addresses of Flags.
type Sink struct {
	smtp, mail net.Listener
	stop       func()
}

// StartSink says on w that what f runs is for development only, and starts
// the sink on f's addresses. It returns Listen's error for either; Close
// stops the sink.
func StartSink(f Flags, w io.Writer) (_ *Sink, err error) {
	if f.MailOnly {
		fmt.Fprintln(w, "invoicing dev mail: for development only, never production (a mail sink that delivers nothing)")
	} else {
		fmt.Fprintln(w, "invoicing dev: for development only, never production (a mail sink that delivers nothing; an embedded NATS; webhooks to private addresses allowed)")
	}
	s := &Sink{}
	if s.smtp, err = Listen("--smtp", f.SMTP); err != nil {
		return nil, err
	}
	if s.mail, err = Listen("--mail", f.Mail); err != nil {
		s.smtp.Close()
		return nil, err
	}
	s.stop = devmail.Start(devmail.Config{}, s.smtp, s.mail)
	return s, nil
}

// SMTPAddr returns the address the sink receives SMTP on, as a client on
// this machine dials it.
func (s *Sink) SMTPAddr() string { return envconfig.LoopbackAddr(s.smtp.Addr().String()) }

// MailURL returns the URL of the page of what the sink received.
func (s *Sink) MailURL() string { return "http://" + envconfig.LoopbackAddr(s.mail.Addr().String()) }

// Close stops the sink and closes its listeners.
func (s *Sink) Close() {
	s.stop()
	s.mail.Close()
	s.smtp.Close()
}

// RunAlone runs the sink alone ("dev mail"), having said where it is on w,
// until ctx is cancelled.
func (s *Sink) RunAlone(ctx context.Context, w io.Writer) {
	fmt.Fprintf(w, "mail sink: SMTP on %s (SMTP_URL=smtp://%[1]s), what it receives on %s (JSON: %[2]s/messages); Ctrl-C stops it\n",
		s.SMTPAddr(), s.MailURL())
	<-ctx.Done()
}

// Announcement is where everything of a dev run is.
type Announcement struct {
	HTTPAddr    string // HTTP_ADDR
	NATSAddr    string // NATS_EMBEDDED_ADDR
	SMTPAddr    string // --smtp
	MailURL     string // Sink.MailURL
	DatabaseURL string // DATABASE_URL, shown with its password hidden
	Tenant      string // the demo tenant
	Key         string // its API key; empty: a tenant of an earlier start, $KEY
}

// Announce writes a to w, and a curl line that creates an invoice, once the
// API answers /healthz; it gives up silently when ctx ends first.
func Announce(ctx context.Context, w io.Writer, a Announcement) {
	api := "http://" + envconfig.LoopbackAddr(a.HTTPAddr)
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
	if a.Key != "" {
		auth = "'Authorization: Bearer " + a.Key + "'"
	}
	fmt.Fprintf(w, `
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

`, api, docs, a.MailURL, envconfig.LoopbackAddr(a.SMTPAddr), "nats://"+envconfig.LoopbackAddr(a.NATSAddr),
		envconfig.HidePasswords(a.DatabaseURL), a.Tenant, auth)
}
