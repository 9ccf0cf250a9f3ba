package pgtest

import (
	"io"
	"net"
	"net/url"
	"sync"
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
		go pipe(client, server)
		go pipe(server, client)
	}
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

// pipe copies src to dst until either ends, then closes both.
func pipe(dst, src net.Conn) {
	_, _ = io.Copy(dst, src)
	_ = dst.Close()
	_ = src.Close()
}
