package notifysmtp_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"mime"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/invoicing-dev/invoicing/internal/notification"
	"github.com/invoicing-dev/invoicing/internal/notification/notifysmtp"
	"github.com/invoicing-dev/invoicing/internal/notification/notifysmtp/smtptest"
)

var email = notification.Email{
	To:       notification.Customer{Name: "Zoë O'Brien", Email: "zoe@example.com"},
	Subject:  "Invoice INV-2026-000001 — €",
	Text:     "Total: EUR 120.00\n" + strings.Repeat("long line ", 20),
	HTML:     `<p style="x">Total: <b>EUR 120.00</b></p>`,
	EventID:  "019ad1c2-0000-7000-8000-000000000001",
	Reaction: "invoice",
}

func TestSend(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts smtptest.Options
	}{
		{"plain", smtptest.Options{}},
		{"starttls and auth", smtptest.Options{TLS: true, User: "billing", Password: "s3cret:/@"}},
		{"implicit tls and auth", smtptest.Options{Implicit: true, User: "billing", Password: "pw"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := smtptest.NewWith(t, tc.opts)
			m, err := notifysmtp.New(notifysmtp.Config{URL: srv.URL(), From: "Billing <billing@example.com>", Domain: "mail.test", TLS: srv.TLSConfig(), Timeout: 10 * time.Second})
			if err != nil {
				t.Fatal(err)
			}
			if err := m.Ping(context.Background()); err != nil {
				t.Fatalf("ping: %v", err)
			}
			if err := m.Send(context.Background(), email); err != nil {
				t.Fatalf("send: %v", err)
			}
			got := srv.Wait(1, 10*time.Second)[0]
			if got.From != "billing@example.com" || len(got.To) != 1 || got.To[0] != "zoe@example.com" {
				t.Errorf("envelope from %q to %v", got.From, got.To)
			}
			for h, want := range map[string]string{
				"Message-ID": "<019ad1c2-0000-7000-8000-000000000001.invoice@mail.test>", "X-Invoicing-Event-Id": email.EventID,
				"X-Invoicing-Reaction": "invoice", "MIME-Version": "1.0",
			} {
				if got.Header.Get(h) != want {
					t.Errorf("%s = %q, want %q", h, got.Header.Get(h), want)
				}
			}
			// Text travels with CRLF line ends, as SMTP wants.
			if got.Subject() != email.Subject || strings.ReplaceAll(got.Text, "\r\n", "\n") != email.Text || got.HTML != email.HTML {
				t.Errorf("subject %q, text %q, html %q", got.Subject(), got.Text, got.HTML)
			}
			if to, _ := got.Header.AddressList("To"); len(to) != 1 || to[0].Name != "Zoë O'Brien" {
				t.Errorf("To header %q", got.Header.Get("To"))
			}
		})
	}
}

func TestSendFails(t *testing.T) {
	t.Run("wrong password", func(t *testing.T) {
		srv := smtptest.NewWith(t, smtptest.Options{TLS: true, User: "billing", Password: "right"})
		u, _ := url.Parse(srv.URL())
		u.User = url.UserPassword("billing", "wrong")
		m, err := notifysmtp.New(notifysmtp.Config{URL: u.String(), From: "b@example.com", Domain: "mail.test", TLS: srv.TLSConfig()})
		if err != nil {
			t.Fatal(err)
		}
		if err := m.Send(context.Background(), email); err == nil || !strings.Contains(err.Error(), "auth") {
			t.Errorf("send with a wrong password: %v, want an auth error", err)
		}
	})
	t.Run("untrusted certificate", func(t *testing.T) {
		srv := smtptest.NewWith(t, smtptest.Options{TLS: true})
		m, err := notifysmtp.New(notifysmtp.Config{URL: srv.URL(), From: "b@example.com", Domain: "mail.test"})
		if err != nil {
			t.Fatal(err)
		}
		if err := m.Send(context.Background(), email); err == nil || !strings.Contains(err.Error(), "starttls") {
			t.Errorf("send to an untrusted server: %v, want a starttls error", err)
		}
		if n := len(srv.Messages()); n != 0 {
			t.Errorf("%d messages accepted", n)
		}
	})
	t.Run("refused", func(t *testing.T) {
		srv := smtptest.New(t)
		srv.Reject(func(smtptest.Message) error { return context.DeadlineExceeded })
		m, _ := notifysmtp.New(notifysmtp.Config{URL: srv.URL(), From: "b@example.com", Domain: "mail.test"})
		if err := m.Send(context.Background(), email); err == nil {
			t.Error("a refused message was reported sent")
		}
	})
	t.Run("bad config", func(t *testing.T) {
		for _, cfg := range []notifysmtp.Config{
			{URL: "http://x:25", From: "b@example.com", Domain: "d"},
			{URL: "smtp://x", From: "b@example.com", Domain: "d"},
			{URL: "smtp://x:25", From: "not an address", Domain: "d"},
			{URL: "smtp://x:25", From: "b@example.com"},
		} {
			if _, err := notifysmtp.New(cfg); err == nil {
				t.Errorf("New(%+v) accepted", cfg)
			}
		}
	})
}

func TestUndeliverable(t *testing.T) {
	srv := smtptest.New(t)
	m, _ := notifysmtp.New(notifysmtp.Config{URL: srv.URL(), From: "b@example.com", Domain: "mail.test"})
	bad := email
	bad.To.Email = "not an address"
	if err := m.Send(context.Background(), bad); !errors.Is(err, notification.ErrUndeliverable) {
		t.Errorf("invalid recipient: %v, want ErrUndeliverable", err)
	}
	srv.Reject(func(smtptest.Message) error { return context.DeadlineExceeded })
	if err := m.Send(context.Background(), email); err == nil || errors.Is(err, notification.ErrUndeliverable) {
		t.Errorf("temporary refusal (451): %v, want a retryable error", err)
	}
	srv.Reject(func(smtptest.Message) error { return &smtp.SMTPError{Code: 550, Message: "no such mailbox"} })
	if err := m.Send(context.Background(), email); !errors.Is(err, notification.ErrUndeliverable) {
		t.Errorf("permanent refusal (550): %v, want ErrUndeliverable", err)
	}
}

// Once the server has answered 250 to DATA the message is its to deliver:
// an error after that, at QUIT, must not make the task send it again.
func TestAcceptedEmailIsNotResentWhenQuitFails(t *testing.T) {
	srv := smtptest.NewWith(t, smtptest.Options{DropAtQuit: true})
	var log bytes.Buffer
	m, err := notifysmtp.New(notifysmtp.Config{URL: srv.URL(), From: "b@example.com", Domain: "mail.test", Logger: slog.New(slog.NewTextHandler(&log, nil))})
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Send(context.Background(), email); err != nil {
		t.Errorf("send whose QUIT failed after DATA was accepted: %v, want nil (sent)", err)
	}
	if n := len(srv.Messages()); n != 1 {
		t.Errorf("%d messages accepted, want 1", n)
	}
	if !strings.Contains(log.String(), "level=WARN") || !strings.Contains(log.String(), email.MessageID("mail.test")) {
		t.Errorf("the failed QUIT was not logged with the Message-ID:\n%s", log.String())
	}
	// Nothing was accepted before a failed QUIT of a ping: it fails.
	if err := m.Ping(context.Background()); err == nil {
		t.Error("ping whose QUIT failed: nil, want an error")
	}
}

// A display name shaped like RFC 2047 encoded words must reach the reader
// as the text it is: decoders that decode encoded words even inside a
// quoted string would turn "=?utf-8?q?=0D=0A...?=" into a line break and a
// header of its own.
func TestANameLikeAnEncodedWordDecodesToItself(t *testing.T) {
	srv := smtptest.New(t)
	m, err := notifysmtp.New(notifysmtp.Config{URL: srv.URL(), From: "b@example.com", Domain: "mail.test"})
	if err != nil {
		t.Fatal(err)
	}
	names := []string{
		"=?utf-8?q?=0D=0ABcc:_attacker@evil.example?=",
		"=?UTF-8?B?DQpCY2M6IGF0dGFja2VyQGV2aWwuZXhhbXBsZQ==?=",
		"Ada =?utf-8?q?=0A?= Lovelace",
		`Zoë "=?utf-8?q?=0D=0A?=" O'Brien`,
		`=?`,
		strings.Repeat("=?utf-8?q?=0A?=", 13), // 195 octets: several encoded words
	}
	for i, name := range names {
		e := email
		e.To.Name = name
		if err := m.Send(context.Background(), e); err != nil {
			t.Fatalf("%q: %v", name, err)
		}
		got := srv.Wait(i+1, 10*time.Second)[i]
		raw := got.Header.Get("To")
		if to, err := got.Header.AddressList("To"); err != nil || len(to) != 1 || to[0].Name != name {
			t.Errorf("To %q parses as %v, %v; want the name %q", raw, to, err, name)
		}
		// Decoded as lenient readers do: every encoded word, quoted or not.
		lenient, err := new(mime.WordDecoder).DecodeHeader(raw)
		if err != nil || strings.ContainsAny(lenient, "\r\n") {
			t.Errorf("To %q decodes leniently to %q, %v: a line break", raw, lenient, err)
		}
		if len(got.Header["Bcc"]) != 0 {
			t.Errorf("To %q: the message has a Bcc header", raw)
		}
	}
}

// An address outside internet mail, which an event published before the
// API refused it may carry, is never mailed: the task fails for good and
// says why.
func TestAddressOutsideInternetMailIsUndeliverable(t *testing.T) {
	srv := smtptest.New(t)
	m, err := notifysmtp.New(notifysmtp.Config{URL: srv.URL(), From: "b@example.com", Domain: "mail.test"})
	if err != nil {
		t.Fatal(err)
	}
	for _, addr := range []string{
		"a@[127.0.0.1]", "a@[IPv6:::1]", "root@localhost", "a@b", "a@-x.com", "a@x-.com", "a@127.0.0.1", "a@example.123",
		"a@under_score.example", "a@" + strings.Repeat("x", 64) + ".example", "Ada <ada@example.com>", "not an address",
	} {
		e := email
		e.To.Email = addr
		err := m.Send(context.Background(), e)
		if !errors.Is(err, notification.ErrUndeliverable) || !strings.Contains(err.Error(), "recipient") {
			t.Errorf("%q: %v, want ErrUndeliverable naming the recipient", addr, err)
		}
	}
	if msgs := srv.Messages(); len(msgs) != 0 {
		t.Errorf("%d messages accepted, first to %v", len(msgs), msgs[0].To)
	}
}

// An internationalised domain goes out as its A-label (punycode), in the
// envelope and in the header, which then needs no SMTPUTF8.
func TestInternationalisedDomainIsSentAsItsALabel(t *testing.T) {
	srv := smtptest.New(t)
	m, err := notifysmtp.New(notifysmtp.Config{URL: srv.URL(), From: "b@example.com", Domain: "mail.test"})
	if err != nil {
		t.Fatal(err)
	}
	e := email
	e.To.Email = "ada@Bücher.example"
	if err := m.Send(context.Background(), e); err != nil {
		t.Fatalf("send: %v", err)
	}
	got := srv.Wait(1, 10*time.Second)[0]
	const want = "ada@xn--bcher-kva.example"
	if len(got.To) != 1 || got.To[0] != want {
		t.Errorf("envelope to %q, want %q", got.To, want)
	}
	if to, err := got.Header.AddressList("To"); err != nil || len(to) != 1 || to[0].Address != want {
		t.Errorf("To %q, want the address %q", got.Header.Get("To"), want)
	}
}

// A non-ASCII local part has no ASCII form: it is sent where the server
// offers SMTPUTF8, and fails for good, saying so, where it does not.
func TestNonASCIILocalPartNeedsSMTPUTF8(t *testing.T) {
	e := email
	e.To.Email = "zoë@bücher.example"
	const want = "zoë@xn--bcher-kva.example"
	t.Run("offered", func(t *testing.T) {
		srv := smtptest.NewWith(t, smtptest.Options{SMTPUTF8: true})
		m, _ := notifysmtp.New(notifysmtp.Config{URL: srv.URL(), From: "b@example.com", Domain: "mail.test"})
		if err := m.Send(context.Background(), e); err != nil {
			t.Fatalf("send: %v", err)
		}
		got := srv.Wait(1, 10*time.Second)[0]
		if !got.UTF8 || len(got.To) != 1 || got.To[0] != want {
			t.Errorf("envelope to %q, SMTPUTF8 %t; want %q, true", got.To, got.UTF8, want)
		}
		if to, err := got.Header.AddressList("To"); err != nil || len(to) != 1 || to[0].Address != want {
			t.Errorf("To %q, want the address %q", got.Header.Get("To"), want)
		}
	})
	t.Run("not offered", func(t *testing.T) {
		srv := smtptest.New(t)
		m, _ := notifysmtp.New(notifysmtp.Config{URL: srv.URL(), From: "b@example.com", Domain: "mail.test"})
		err := m.Send(context.Background(), e)
		if !errors.Is(err, notification.ErrUndeliverable) || !strings.Contains(err.Error(), "SMTPUTF8") {
			t.Errorf("send: %v, want ErrUndeliverable naming SMTPUTF8", err)
		}
		if n := len(srv.Messages()); n != 0 {
			t.Errorf("%d messages accepted", n)
		}
	})
}

// The subject is decoded by every reader, encoded words and all: one that
// holds what looks like an encoded word (an invoice number of an old or
// forged event) must decode to itself, not to a line break.
func TestASubjectLikeAnEncodedWordDecodesToItself(t *testing.T) {
	srv := smtptest.New(t)
	m, err := notifysmtp.New(notifysmtp.Config{URL: srv.URL(), From: "b@example.com", Domain: "mail.test"})
	if err != nil {
		t.Fatal(err)
	}
	e := email
	e.Subject = "Invoice =?utf-8?q?=0D=0ABcc:_attacker@evil.example?="
	if err := m.Send(context.Background(), e); err != nil {
		t.Fatal(err)
	}
	got := srv.Wait(1, 10*time.Second)[0]
	if got.Subject() != e.Subject {
		t.Errorf("Subject %q decodes to %q, want %q", got.Header.Get("Subject"), got.Subject(), e.Subject)
	}
}
