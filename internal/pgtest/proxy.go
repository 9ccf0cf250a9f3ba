package pgtest

import (
	"bytes"
	"encoding/binary"
	"io"
	"net"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"
)

// Proxy is a TCP proxy in front of a test database, so a test can take the
// database away from the code under test (Down) and give it back (Up)
// without touching the shared PostgreSQL server.
type Proxy struct {
	t      testing.TB
	target string // host:port of the PostgreSQL server
	addr   string // the proxy's own host:port, the same after Up

	mu    sync.Mutex
	ln    net.Listener // nil while down
	conns map[net.Conn]struct{}

	// cutCommit: the next COMMIT a client sends is forwarded, and its
	// connection cut as soon as the server answers, the answer dropped.
	cutCommit atomic.Bool
	// cutBatch: the text of a statement whose batch is cut after its Sync
	// (CutNextBatchWith); nil when not armed.
	cutBatch atomic.Pointer[string]
}

// NewProxy starts a proxy to the server of dbURL on a free local port and
// returns it, up. It is stopped when the test ends.
func NewProxy(t testing.TB, dbURL string) *Proxy {
	t.Helper()
	u, err := url.Parse(dbURL)
	if err != nil {
		t.Fatalf("pgtest: proxy: %v", err)
	}
	p := &Proxy{t: t, target: u.Host, addr: "127.0.0.1:0", conns: map[net.Conn]struct{}{}}
	p.Up()
	t.Cleanup(p.Down)
	return p
}

// URL returns dbURL with its host replaced by the proxy's address.
func (p *Proxy) URL(dbURL string) string {
	u, err := url.Parse(dbURL)
	if err != nil {
		p.t.Fatalf("pgtest: proxy: %v", err)
	}
	p.mu.Lock()
	u.Host = p.addr
	p.mu.Unlock()
	return u.String()
}

// Down closes the proxy's listener and every connection through it, as if
// the server had gone away: connections in use break, new ones are refused.
func (p *Proxy) Down() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln != nil {
		_ = p.ln.Close()
		p.ln = nil
	}
	for c := range p.conns {
		_ = c.Close()
		delete(p.conns, c)
	}
}

// Up listens again on the proxy's address, or fails the test.
func (p *Proxy) Up() {
	p.t.Helper()
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln != nil {
		return
	}
	ln, err := net.Listen("tcp", p.addr)
	if err != nil {
		p.t.Fatalf("pgtest: proxy: %v", err)
	}
	p.ln, p.addr = ln, ln.Addr().String()
	go p.accept(ln)
}

func (p *Proxy) accept(ln net.Listener) {
	for {
		client, err := ln.Accept()
		if err != nil {
			return // closed by Down
		}
		server, err := net.Dial("tcp", p.target)
		if err != nil {
			_ = client.Close()
			continue
		}
		if !p.track(ln, client, server) {
			return
		}
		s := &session{proxy: p}
		go s.fromClient(server, client)
		go s.fromServer(client, server)
	}
}

// CutNextCommit arms the proxy: the next COMMIT any client sends (as a
// simple query, as pgx sends it) reaches the server, and when the server
// answers, the connection is cut and the answer never reaches the client.
// The transaction has then committed, and the client cannot know it.
func (p *Proxy) CutNextCommit() { p.cutCommit.Store(true) }

// CutNextBatchWith arms the proxy for a write sent without BEGIN and COMMIT
// (a pgx batch, one implicit transaction): the next statement any client
// prepares whose text contains text is forwarded with the rest of its
// batch, through the Sync that commits it, and when the server then
// answers, the connection is cut. The client cannot know whether the batch
// committed. The statement must not be prepared on that connection yet (a
// fresh pool): a cached statement is not sent again.
func (p *Proxy) CutNextBatchWith(text string) { p.cutBatch.Store(&text) }

// session is one proxied connection, which reads the client's messages to
// find a COMMIT when the proxy is armed.
type session struct {
	proxy     *Proxy
	committed atomic.Bool // a COMMIT (or a batch's Sync) was forwarded to be cut after
	inBatch   bool        // a batch to cut is being forwarded; fromClient's alone
	executed  bool        // and one of its statements executed; fromClient's alone
}

// fromClient forwards the client's messages one by one (the startup message
// first, which has no type byte), until either side ends.
func (s *session) fromClient(server, client net.Conn) {
	defer server.Close()
	defer client.Close()
	var head [5]byte
	if _, err := io.ReadFull(client, head[:4]); err != nil {
		return
	}
	n := int64(binary.BigEndian.Uint32(head[:4])) - 4
	if _, err := server.Write(head[:4]); err != nil || n < 0 {
		return
	}
	if _, err := io.CopyN(server, client, n); err != nil {
		return
	}
	for {
		if _, err := io.ReadFull(client, head[:]); err != nil {
			return
		}
		body := make([]byte, max(0, int(binary.BigEndian.Uint32(head[1:]))-4))
		if _, err := io.ReadFull(client, body); err != nil {
			return
		}
		if head[0] == 'Q' && isCommit(body) && s.proxy.cutCommit.CompareAndSwap(true, false) {
			s.committed.Store(true)
		}
		if text := s.proxy.cutBatch.Load(); head[0] == 'P' && text != nil && bytes.Contains(body, []byte(*text)) &&
			s.proxy.cutBatch.CompareAndSwap(text, nil) {
			s.inBatch = true
		}
		s.executed = s.executed || s.inBatch && head[0] == 'E'
		if _, err := server.Write(append(head[:], body...)); err != nil {
			return
		}
		// The Sync that ends the executing batch (not the one ending the
		// round trip that only prepared its statements) commits it.
		if head[0] == 'S' && s.executed {
			s.committed.Store(true)
		}
	}
}

// fromServer forwards the server's bytes, or cuts the connection at the
// first answer after a COMMIT it was armed for.
func (s *session) fromServer(client, server net.Conn) {
	defer server.Close()
	defer client.Close()
	buf := make([]byte, 32<<10)
	for {
		n, err := server.Read(buf)
		if n > 0 && s.committed.Load() {
			return
		}
		if n > 0 {
			if _, werr := client.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

// isCommit reports whether a Query message's text is COMMIT (or END).
func isCommit(query []byte) bool {
	q := bytes.ToLower(bytes.TrimSpace(bytes.TrimRight(query, "\x00;")))
	return bytes.Equal(q, []byte("commit")) || bytes.Equal(q, []byte("end"))
}

// track records a proxied pair, unless Down closed ln meanwhile: then it
// closes both and reports false.
func (p *Proxy) track(ln net.Listener, conns ...net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln != ln {
		for _, c := range conns {
			_ = c.Close()
		}
		return false
	}
	for _, c := range conns {
		p.conns[c] = struct{}{}
	}
	return true
}
