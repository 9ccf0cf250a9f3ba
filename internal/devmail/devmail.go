// Package devmail is a mail sink for development: an SMTP server that
// accepts every message and keeps the latest ones in memory, and an HTTP
// handler that shows them on a page and as JSON. It delivers nothing
// anywhere, authenticates nobody and keeps nothing across restarts: it is
// for a developer's machine, never for production.
package devmail

import (
	"bytes"
	"errors"
	"io"
	"log"
	"net"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/emersion/go-message/mail"
	"github.com/emersion/go-smtp"
)

// Message is one message the sink accepted, decoded.
type Message struct {
	ID        int       `json:"id"` // 1 for the first message since the sink started
	Received  time.Time `json:"received"`
	From      string    `json:"from"` // the envelope's sender (MAIL FROM)
	To        []string  `json:"to"`   // the envelope's recipients (RCPT TO)
	Subject   string    `json:"subject"`
	MessageID string    `json:"message_id"`
	Text      string    `json:"text"`           // the text/plain part, or the raw message if it does not parse
	HTML      string    `json:"html,omitempty"` // the text/html part
}

// Config bounds what a Sink keeps. Zero fields take their defaults.
type Config struct {
	// MaxMessages is how many messages are kept, the newest; older ones
	// are forgotten (default 500).
	MaxMessages int
	// MaxBytes bounds one message; a larger one is refused with 552
	// (default 10 MiB).
	MaxBytes int64
	// MaxRecipients bounds one message's recipients (default 100).
	MaxRecipients int
	// MaxTotalBytes bounds the text and HTML of all messages kept together;
	// the oldest are forgotten to make room (default 64 MiB, never less
	// than MaxBytes): MaxMessages full-size messages alone would hold
	// gigabytes, and every page view renders them all.
	MaxTotalBytes int64
}

func (c *Config) setDefaults() {
	if c.MaxMessages <= 0 {
		c.MaxMessages = 500
	}
	if c.MaxBytes <= 0 {
		c.MaxBytes = 10 << 20
	}
	if c.MaxRecipients <= 0 {
		c.MaxRecipients = 100
	}
	if c.MaxTotalBytes <= 0 {
		c.MaxTotalBytes = 64 << 20
	}
	c.MaxTotalBytes = max(c.MaxTotalBytes, c.MaxBytes)
}

// Sink keeps the messages its SMTP server accepts. Its methods may be
// called concurrently.
type Sink struct {
	cfg Config
	srv *smtp.Server

	mu    sync.Mutex
	msgs  []Message // oldest first, at most cfg.MaxMessages
	bytes int64     // the size of msgs, held within cfg.MaxTotalBytes
	next  int
}

// New returns a Sink with cfg; ServeSMTP starts its server.
func New(cfg Config) *Sink {
	cfg.setDefaults()
	s := &Sink{cfg: cfg, next: 1}
	srv := smtp.NewServer(backend{s})
	srv.Domain = "devmail.localhost"
	srv.MaxMessageBytes = cfg.MaxBytes
	srv.MaxRecipients = cfg.MaxRecipients
	srv.ReadTimeout, srv.WriteTimeout = time.Minute, time.Minute
	srv.AllowInsecureAuth = true
	srv.ErrorLog = log.New(io.Discard, "", 0) // a client going away is not news here
	s.srv = srv
	return s
}

// ServeSMTP accepts SMTP sessions on ln until Close. It returns nil after
// Close, else the listener's error.
func (s *Sink) ServeSMTP(ln net.Listener) error {
	err := s.srv.Serve(ln)
	if errors.Is(err, smtp.ErrServerClosed) {
		return nil
	}
	return err
}

// Close stops the SMTP server and its sessions; the messages stay readable.
func (s *Sink) Close() error { return s.srv.Close() }

// Messages returns the messages kept, newest first.
func (s *Sink) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Message, len(s.msgs))
	for i, m := range s.msgs {
		out[len(s.msgs)-1-i] = m
	}
	return out
}

// Message returns the message with id, or false if it is not kept.
func (s *Sink) Message(id int) (Message, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, m := range s.msgs {
		if m.ID == id {
			return m, true
		}
	}
	return Message{}, false
}

// keep stores m under the next id, forgetting the oldest messages until it
// fits within MaxMessages and MaxTotalBytes.
func (s *Sink) keep(m Message) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m.ID, m.Received = s.next, time.Now()
	s.next++
	drop := 0
	for drop < len(s.msgs) && (len(s.msgs)-drop >= s.cfg.MaxMessages || s.bytes+size(m) > s.cfg.MaxTotalBytes) {
		s.bytes -= size(s.msgs[drop])
		drop++
	}
	s.msgs = append(s.msgs[:0], s.msgs[drop:]...)
	s.msgs = append(s.msgs, m)
	s.bytes += size(m)
}

// size is what MaxTotalBytes counts of m: its bodies, the bulk of it.
func size(m Message) int64 { return int64(len(m.Text) + len(m.HTML)) }

type backend struct{ s *Sink }

// NewSession starts the state of one SMTP connection.
func (b backend) NewSession(*smtp.Conn) (smtp.Session, error) { return &session{s: b.s}, nil }

type session struct {
	s    *Sink
	from string
	to   []string
}

func (se *session) Mail(from string, _ *smtp.MailOptions) error { se.from = from; return nil }
func (se *session) Rcpt(to string, _ *smtp.RcptOptions) error   { se.to = append(se.to, to); return nil }
func (se *session) Reset()                                      { se.from, se.to = "", nil }
func (se *session) Logout() error                               { return nil }

// Data keeps the message; go-smtp has already refused one over MaxBytes.
func (se *session) Data(r io.Reader) error {
	raw, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	m := parse(raw)
	m.From, m.To = clean(se.from), make([]string, len(se.to))
	for i, to := range se.to {
		m.To[i] = clean(to)
	}
	se.s.keep(m)
	return nil
}

// parse decodes raw's headers and its text and HTML parts. A message it
// cannot read is kept whole as its text, so nothing sent goes unseen.
func parse(raw []byte) Message {
	var m Message
	r, err := mail.CreateReader(bytes.NewReader(raw))
	if err != nil {
		m.Text = clean(string(raw))
		return m
	}
	defer r.Close()
	m.Subject, _ = r.Header.Subject()
	m.Subject = clean(m.Subject)
	m.MessageID, _ = r.Header.MessageID()
	m.MessageID = clean(m.MessageID)
	for {
		p, err := r.NextPart()
		if err != nil {
			if !errors.Is(err, io.EOF) && m.Text == "" && m.HTML == "" {
				m.Text = clean(string(raw))
			}
			return m
		}
		h, ok := p.Header.(*mail.InlineHeader)
		if !ok {
			continue // an attachment: named nowhere on the page
		}
		body, err := io.ReadAll(p.Body)
		if err != nil {
			continue
		}
		switch ct, _, _ := h.ContentType(); ct {
		case "text/plain":
			m.Text = clean(string(body))
		case "text/html":
			m.HTML = clean(string(body))
		}
	}
}

// clean returns s as valid UTF-8 without NUL characters, for a page and
// JSON whatever a client sent.
func clean(s string) string {
	return strings.ReplaceAll(strings.ToValidUTF8(s, string(utf8.RuneError)), "\x00", "")
}
