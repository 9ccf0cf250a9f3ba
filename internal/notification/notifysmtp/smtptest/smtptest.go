// Package smtptest runs a real SMTP server in the test process
// (github.com/emersion/go-smtp) that keeps what it receives, and can refuse
// messages or go down, for tests of the notification context.
package smtptest

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"io"
	"log"
	"math/big"
	"mime"
	"mime/multipart"
	"net"
	"net/mail"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// Message is one message the server accepted.
type Message struct {
	From   string
	To     []string
	Header mail.Header
	Text   string // the text/plain part, decoded
	HTML   string // the text/html part, decoded
	// Raw is the message as it came after DATA, CRLF line ends and all.
	Raw []byte
	// UTF8 is whether MAIL declared SMTPUTF8 (RFC 6531).
	UTF8 bool
	// Received is when the server accepted the message.
	Received time.Time
}

// MessageID returns the message's Message-ID header.
func (m Message) MessageID() string { return m.Header.Get("Message-ID") }

// Subject returns the decoded Subject header.
func (m Message) Subject() string {
	s, err := new(mime.WordDecoder).DecodeHeader(m.Header.Get("Subject"))
	if err != nil {
		return m.Header.Get("Subject")
	}
	return s
}

// Options choose how a server secures its sessions.
type Options struct {
	// TLS offers STARTTLS with a self-signed certificate for 127.0.0.1
	// (trust it with Server.TLSConfig).
	TLS bool
	// Implicit speaks TLS from the first byte (smtps), instead of STARTTLS.
	Implicit bool
	// User and Password, if User is set, are required through AUTH PLAIN
	// before MAIL.
	User, Password string
	// DropAtQuit closes the connection when the client sends QUIT instead
	// of answering 221, as a server or a network failing at the end of a
	// session does; what the server accepted before stays accepted. It
	// cannot see into sessions upgraded with STARTTLS.
	DropAtQuit bool
	// RefuseLongLines drops the connection, without a reply, on a message
	// with a line over 998 octets (RFC 5322 2.1.1), as mail servers that
	// refuse such lines have been seen to do.
	RefuseLongLines bool
	// SMTPUTF8 offers the SMTPUTF8 extension (RFC 6531): addresses with
	// non-ASCII local parts. Without it, the server refuses a MAIL that
	// declares it.
	SMTPUTF8 bool
}

// MaxLine is the most octets a line of a message may hold, CRLF aside
// (RFC 5322 2.1.1).
const MaxLine = 998

// LongestLine returns the length in octets of the longest line of raw,
// its line end aside.
func LongestLine(raw []byte) int {
	longest := 0
	for line := range bytes.SplitSeq(raw, []byte("\n")) {
		longest = max(longest, len(bytes.TrimSuffix(line, []byte("\r"))))
	}
	return longest
}

// Server is an SMTP server on a random local port, closed when the test ends.
type Server struct {
	t    testing.TB
	addr string
	opts Options
	cert *tls.Certificate

	mu     sync.Mutex
	srv    *smtp.Server
	msgs   []Message
	reject func(Message) error
	hold   chan struct{} // non-nil: accepted messages wait for it to close before their reply
}

// New starts a plain server without authentication, or fails the test.
func New(t testing.TB) *Server {
	t.Helper()
	return NewWith(t, Options{})
}

// NewWith starts a server with opts, or fails the test.
func NewWith(t testing.TB, opts Options) *Server {
	t.Helper()
	s := &Server{t: t, addr: "127.0.0.1:0", opts: opts}
	if opts.TLS || opts.Implicit {
		s.cert = selfSigned(t)
	}
	s.Start()
	t.Cleanup(s.Stop)
	return s
}

// URL returns the server's smtp:// (smtps:// if Implicit) URL, with the
// credentials if it requires them.
func (s *Server) URL() string {
	u := url.URL{Scheme: "smtp", Host: s.addr}
	if s.opts.Implicit {
		u.Scheme = "smtps"
	}
	if s.opts.User != "" {
		u.User = url.UserPassword(s.opts.User, s.opts.Password)
	}
	return u.String()
}

// TLSConfig returns a client configuration that trusts the server's
// certificate; nil for a server without TLS.
func (s *Server) TLSConfig() *tls.Config {
	if s.cert == nil {
		return nil
	}
	pool := x509.NewCertPool()
	pool.AddCert(s.cert.Leaf)
	return &tls.Config{RootCAs: pool, ServerName: "127.0.0.1"}
}

// selfSigned returns a certificate for 127.0.0.1, valid for a day.
func selfSigned(t testing.TB) *tls.Certificate {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "smtptest"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return &tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}
}

// Start starts a stopped server on the same port (first start: a random
// one). It fails the test if it cannot listen.
func (s *Server) Start() {
	s.t.Helper()
	var ln net.Listener
	var err error
	// The port of a stopped server may linger briefly.
	for i := 0; i < 50; i++ {
		if ln, err = net.Listen("tcp", s.addr); err == nil {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil {
		s.t.Fatalf("smtptest: listen: %v", err)
	}
	if s.opts.Implicit {
		ln = tls.NewListener(ln, &tls.Config{Certificates: []tls.Certificate{*s.cert}})
	}
	if s.opts.DropAtQuit {
		ln = quitDropListener{ln}
	}
	srv := smtp.NewServer(backend{s})
	if s.opts.TLS {
		srv.TLSConfig = &tls.Config{Certificates: []tls.Certificate{*s.cert}}
	}
	if s.opts.RefuseLongLines {
		srv.MaxLineLength = 0 // Data measures lines itself, to the octet
	}
	srv.EnableSMTPUTF8 = s.opts.SMTPUTF8
	srv.Domain = "smtptest.local"
	srv.AllowInsecureAuth = true
	srv.ReadTimeout, srv.WriteTimeout = 10*time.Second, 10*time.Second
	// Clients killed mid-session (the fault runs) are expected, not news.
	srv.ErrorLog = log.New(io.Discard, "", 0)
	s.mu.Lock()
	s.addr, s.srv = ln.Addr().String(), srv
	s.mu.Unlock()
	go func() { _ = srv.Serve(ln) }()
}

// Stop closes the server: connections are refused until Start.
func (s *Server) Stop() {
	s.mu.Lock()
	srv := s.srv
	s.srv = nil
	s.mu.Unlock()
	if srv != nil {
		_ = srv.Close()
	}
}

// Reject makes the server refuse each message for which fn returns an
// error: with that reply if it is a *smtp.SMTPError of go-smtp (e.g. a
// permanent 550), else with a temporary 451. Nil accepts everything.
func (s *Server) Reject(fn func(Message) error) {
	s.mu.Lock()
	s.reject = fn
	s.mu.Unlock()
}

// Hold makes the server keep each message it accepts from now on, and then
// keep the client waiting for the reply to it until Release: the moment
// between a mail server's taking a message and the sender's learning it,
// where a sender that dies sends the message again on its next attempt.
func (s *Server) Hold() {
	s.mu.Lock()
	if s.hold == nil {
		s.hold = make(chan struct{})
	}
	s.mu.Unlock()
}

// Release sends the replies Hold kept back, and the next ones at once.
func (s *Server) Release() {
	s.mu.Lock()
	if s.hold != nil {
		close(s.hold)
		s.hold = nil
	}
	s.mu.Unlock()
}

// Messages returns the messages accepted so far.
func (s *Server) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Message(nil), s.msgs...)
}

// Wait returns the accepted messages once there are at least n, or fails
// the test after timeout (a generous bound, not a speed check).
func (s *Server) Wait(n int, timeout time.Duration) []Message {
	s.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		msgs := s.Messages()
		if len(msgs) >= n {
			return msgs
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("smtptest: %d messages after %s, want %d", len(msgs), timeout, n)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// quitDropListener hands out connections that close instead of sending the
// reply to QUIT.
type quitDropListener struct{ net.Listener }

// Accept wraps the next connection.
func (l quitDropListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return quitDropConn{c}, nil
}

type quitDropConn struct{ net.Conn }

// Write closes the connection in place of the 221 reply, the only one
// that code: go-smtp writes each reply in one call.
func (c quitDropConn) Write(b []byte) (int, error) {
	if bytes.HasPrefix(b, []byte("221 ")) {
		c.Conn.Close()
		return 0, net.ErrClosed
	}
	return c.Conn.Write(b)
}

type backend struct{ s *Server }

// NewSession starts the state of one connection.
func (b backend) NewSession(c *smtp.Conn) (smtp.Session, error) {
	return &session{s: b.s, conn: c}, nil
}

type session struct {
	s      *Server
	conn   *smtp.Conn
	from   string
	utf8   bool
	to     []string
	authed bool
}

// AuthMechanisms offers PLAIN when the server requires credentials.
func (se *session) AuthMechanisms() []string {
	if se.s.opts.User == "" {
		return nil
	}
	return []string{sasl.Plain}
}

// Auth checks PLAIN credentials against Options.
func (se *session) Auth(string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(_, user, pass string) error {
		if user != se.s.opts.User || pass != se.s.opts.Password {
			return errors.New("invalid credentials")
		}
		se.authed = true
		return nil
	}), nil
}

// Reset forgets the envelope (RSET, or after DATA).
func (se *session) Reset() { se.from, se.utf8, se.to = "", false, nil }

// Logout ends the session.
func (se *session) Logout() error { return nil }

// Mail records the sender, once authenticated if the server requires it.
func (se *session) Mail(from string, opts *smtp.MailOptions) error {
	if se.s.opts.User != "" && !se.authed {
		return smtp.ErrAuthRequired
	}
	se.from, se.utf8 = from, opts != nil && opts.UTF8
	return nil
}

// Rcpt records a recipient.
func (se *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	se.to = append(se.to, to)
	return nil
}

// Data parses the message and keeps it, unless Reject refuses it or, with
// RefuseLongLines, a line is too long.
func (se *session) Data(r io.Reader) error {
	raw, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	if n := LongestLine(raw); se.s.opts.RefuseLongLines && n > MaxLine {
		se.conn.Conn().Close()
		return fmt.Errorf("a line of %d octets", n)
	}
	m, err := parse(bytes.NewReader(raw))
	if err != nil {
		return err
	}
	m.Raw = raw
	m.From, m.To, m.UTF8, m.Received = se.from, se.to, se.utf8, time.Now()
	se.s.mu.Lock()
	hold := se.s.hold
	defer func() {
		if hold != nil {
			<-hold
		}
	}()
	defer se.s.mu.Unlock()
	if se.s.reject != nil {
		if err := se.s.reject(m); err != nil {
			var reply *smtp.SMTPError
			if errors.As(err, &reply) {
				return reply
			}
			return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: err.Error()}
		}
	}
	se.s.msgs = append(se.s.msgs, m)
	return nil
}

// parse reads a multipart/alternative message into its headers and parts.
func parse(r io.Reader) (Message, error) {
	msg, err := mail.ReadMessage(r)
	if err != nil {
		return Message{}, err
	}
	m := Message{Header: msg.Header}
	_, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil {
		return m, fmt.Errorf("content type: %w", err)
	}
	mr := multipart.NewReader(msg.Body, params["boundary"])
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			return m, nil
		}
		if err != nil {
			return m, err
		}
		// NextPart has undone the quoted-printable encoding.
		var body bytes.Buffer
		if _, err := io.Copy(&body, p); err != nil {
			return m, err
		}
		switch ct := p.Header.Get("Content-Type"); {
		case strings.HasPrefix(ct, "text/plain"):
			m.Text = body.String()
		case strings.HasPrefix(ct, "text/html"):
			m.HTML = body.String()
		}
	}
}
