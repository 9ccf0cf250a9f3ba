// Package notifysmtp sends the notification context's emails over SMTP, with
// STARTTLS when the server offers it, implicit TLS for smtps:// URLs, and
// authentication from the URL's user information.
package notifysmtp

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/smtp"
	"net/textproto"
	"net/url"
	"strings"
	"time"

	"github.com/emersion/go-message"
	"github.com/emersion/go-message/mail"

	"github.com/invoicing-dev/invoicing/internal/notification"
)

// Config configures a Mailer.
type Config struct {
	// URL of the server: smtp://host:port (STARTTLS when offered) or
	// smtps://host:port (implicit TLS); user:password@ authenticates with
	// PLAIN, which net/smtp allows only over TLS or to localhost.
	URL string
	// From is the sender address, e.g. "Invoicing <billing@example.com>".
	From string
	// Domain is the right-hand side of every Message-ID.
	Domain string
	// Timeout bounds one send, connection included. Default 30s.
	Timeout time.Duration
	// TLS, if set, is used for STARTTLS and smtps (tests trust their own
	// certificate with it). Default: the system roots, the URL's host name.
	TLS *tls.Config
	// Logger receives what goes wrong after the server accepted a message
	// (a failed QUIT), which Send does not return. Default: discarded.
	Logger *slog.Logger
}

// Mailer sends emails through one SMTP server, one connection per email.
type Mailer struct {
	cfg      Config
	addr     string
	host     string
	implicit bool
	auth     smtp.Auth
	from     *mail.Address
}

var _ notification.Mailer = (*Mailer)(nil)

// New returns a Mailer for cfg. It returns an error naming the field at
// fault if the URL, sender or domain is invalid; it does not connect.
func New(cfg Config) (*Mailer, error) {
	u, err := url.Parse(cfg.URL)
	if err != nil || (u.Scheme != "smtp" && u.Scheme != "smtps") || u.Hostname() == "" || u.Port() == "" {
		return nil, errors.New("smtp: URL must be smtp://host:port or smtps://host:port")
	}
	from, err := mail.ParseAddress(cfg.From)
	if err != nil {
		return nil, fmt.Errorf("smtp: sender %q: %w", cfg.From, err)
	}
	if cfg.Domain == "" {
		return nil, errors.New("smtp: the Message-ID domain must not be empty")
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = 30 * time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	m := &Mailer{cfg: cfg, addr: u.Host, host: u.Hostname(), implicit: u.Scheme == "smtps", from: from}
	if u.User != nil {
		pw, _ := u.User.Password()
		m.auth = smtp.PlainAuth("", u.User.Username(), pw, m.host)
	}
	return m, nil
}

// Send delivers e to its recipient, whose domain goes out as its A-label.
// It returns an error if the recipient's address is invalid or the server
// did not accept the message, wrapping notification.ErrUndeliverable for
// an address outside internet mail (see recipient), a non-ASCII local part
// the server cannot take (no SMTPUTF8) or a permanent (5xx) refusal; the
// caller retries the others, so the server may receive a message twice,
// with the same Message-ID. Once the server has accepted the message (its
// reply to DATA), Send returns nil whatever follows: a later error is
// logged.
func (m *Mailer) Send(ctx context.Context, e notification.Email) error {
	addr, utf8Local, err := recipient(e.To.Email)
	if err != nil {
		return fmt.Errorf("smtp: recipient %q: %w: %w", e.To.Email, notification.ErrUndeliverable, err)
	}
	to := &mail.Address{Name: e.To.Name, Address: addr}
	msg, err := m.compose(e, to)
	if err != nil {
		return err
	}
	accepted := false
	err = m.session(ctx, func(c *smtp.Client) error {
		// net/smtp declares SMTPUTF8 in MAIL whenever the server offers it.
		if ok, _ := c.Extension("SMTPUTF8"); utf8Local && !ok {
			return fmt.Errorf("%w: recipient %q has a non-ASCII local part and the server does not offer SMTPUTF8",
				notification.ErrUndeliverable, e.To.Email)
		}
		if err := c.Mail(m.from.Address); err != nil {
			return err
		}
		if err := c.Rcpt(to.Address); err != nil {
			return err
		}
		w, err := c.Data()
		if err != nil {
			return err
		}
		if _, err := w.Write(msg); err != nil {
			return errors.Join(err, w.Close())
		}
		if err := w.Close(); err != nil {
			return err
		}
		accepted = true
		return nil
	})
	if err != nil && accepted {
		// The server took the message over with its 250: a retry would
		// deliver a second copy.
		m.cfg.Logger.WarnContext(ctx, "smtp: session failed after the server accepted the message",
			"message_id", e.MessageID(m.cfg.Domain), "err", err)
		return nil
	}
	return err
}

// Ping connects, greets and quits: the server is up and, if the URL has
// credentials, accepts them. It returns an error otherwise.
func (m *Mailer) Ping(ctx context.Context) error {
	return m.session(ctx, func(*smtp.Client) error { return nil })
}

// session opens a connection (TLS as configured), authenticates, runs fn
// and quits, all within ctx and the Timeout.
func (m *Mailer) session(ctx context.Context, fn func(*smtp.Client) error) error {
	ctx, cancel := context.WithTimeout(ctx, m.cfg.Timeout)
	defer cancel()
	tlsCfg := m.cfg.TLS
	if tlsCfg == nil {
		tlsCfg = &tls.Config{ServerName: m.host}
	}
	var conn net.Conn
	var err error
	if m.implicit {
		conn, err = (&tls.Dialer{Config: tlsCfg}).DialContext(ctx, "tcp", m.addr)
	} else {
		conn, err = (&net.Dialer{}).DialContext(ctx, "tcp", m.addr)
	}
	if err != nil {
		return fmt.Errorf("smtp: connect: %w", err)
	}
	// net/smtp takes no context: the deadline and a cancel close the
	// connection under it.
	if d, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(d)
	}
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	c, err := smtp.NewClient(conn, m.host)
	if err != nil {
		conn.Close()
		return fmt.Errorf("smtp: greeting: %w", err)
	}
	defer c.Close()
	if err := c.Hello(m.cfg.Domain); err != nil {
		return fmt.Errorf("smtp: hello: %w", err)
	}
	if ok, _ := c.Extension("STARTTLS"); ok && !m.implicit {
		if err := c.StartTLS(tlsCfg); err != nil {
			return fmt.Errorf("smtp: starttls: %w", err)
		}
	}
	if m.auth != nil {
		if err := c.Auth(m.auth); err != nil {
			return fmt.Errorf("smtp: auth: %w", err)
		}
	}
	if err := fn(c); err != nil {
		var reply *textproto.Error
		if errors.As(err, &reply) && reply.Code >= 500 {
			return fmt.Errorf("smtp: send: %w: %w", notification.ErrUndeliverable, err)
		}
		return fmt.Errorf("smtp: send: %w", err)
	}
	return c.Quit()
}

// compose returns e as an RFC 5322 message: headers, then plain text and
// HTML alternatives in quoted-printable. go-message encodes non-ASCII
// header text and folds every header line, so no line of the message
// exceeds 998 octets (RFC 5322 2.1.1), whatever the names and texts hold.
func (m *Mailer) compose(e notification.Email, to *mail.Address) ([]byte, error) {
	// go-message writes the field set last first: set in reverse, the
	// header reads From, To, Subject, Date, Message-ID and so on.
	var h mail.Header
	h.SetContentType("multipart/alternative", nil)
	h.Set("MIME-Version", "1.0")
	h.Set("X-Invoicing-Reaction", e.Reaction)
	h.Set("X-Invoicing-Event-Id", e.EventID)
	h.Set("Message-ID", e.MessageID(m.cfg.Domain))
	h.SetDate(time.Now().UTC())
	if strings.Contains(e.Subject, "=?") {
		// Readers decode encoded words in a subject: text that merely
		// looks like one must be encoded to reach them as itself.
		h.Set("Subject", encodeWords(e.Subject))
	} else {
		h.SetSubject(e.Subject)
	}
	h.Set("To", formatAddress(to))
	h.Set("From", formatAddress(m.from))
	var msg bytes.Buffer
	w, err := message.CreateWriter(&msg, h.Header)
	if err != nil {
		return nil, err
	}
	for _, part := range []struct{ typ, content string }{{"text/plain", e.Text}, {"text/html", e.HTML}} {
		var ph message.Header
		ph.SetContentType(part.typ, map[string]string{"charset": "utf-8"})
		ph.Set("Content-Transfer-Encoding", "quoted-printable")
		pw, err := w.CreatePart(ph)
		if err != nil {
			return nil, err
		}
		if _, err := pw.Write([]byte(part.content)); err != nil {
			return nil, err
		}
		if err := pw.Close(); err != nil {
			return nil, err
		}
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	return msg.Bytes(), nil
}
