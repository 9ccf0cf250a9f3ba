package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// prismBlindSpots are the response cases Prism's proxy (5.14) lets through
// although the document forbids them, with the reason; kin-openapi and
// libopenapi-validator catch them.
var prismBlindSpots = map[string]string{
	"problem as plain JSON": "it does not check a response's Content-Type against the documented media types",
}

// TestPrismProxyEnforcesTheDocument puts Prism's validating proxy
// (`prism proxy --errors`, the contract-test tool of many client teams) in
// front of a server that gives each response case in turn: every response
// the document forbids must be flagged, every one it allows passed through.
// It runs only with INVOICING_PRISM set to Prism's binary, as .ci/run does
// (tools/spec/check.sh prism).
func TestPrismProxyEnforcesTheDocument(t *testing.T) {
	prism := os.Getenv("INVOICING_PRISM")
	if prism == "" {
		t.Skip("set INVOICING_PRISM to Prism's binary: tools/spec/check.sh prism")
	}
	cases := responseCases(t)
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		i, err := strconv.Atoi(strings.TrimPrefix(r.Header.Get("X-Request-Id"), "case-"))
		if err != nil || i < 0 || i >= len(cases) {
			http.Error(w, "no such case", http.StatusBadRequest)
			return
		}
		for k, v := range cases[i].header {
			w.Header()[k] = v
		}
		w.WriteHeader(cases[i].status)
		_, _ = w.Write(cases[i].body)
	}))
	t.Cleanup(upstream.Close)
	proxy := startPrism(t, prism, upstream.URL)

	for i, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			flagged, violations := throughPrism(t, proxy, i, tt)
			if reason, ok := prismBlindSpots[tt.name]; ok {
				t.Logf("a known blind spot of Prism (%s); flagged: %v", reason, flagged)
				return
			}
			switch {
			case tt.wantErr && !flagged:
				t.Errorf("Prism let through a response the document forbids")
			case !tt.wantErr && flagged:
				t.Errorf("Prism flagged a response the document allows: %s", violations)
			case flagged:
				t.Logf("flagged: %.300s", violations)
			}
		})
	}
}

// throughPrism sends case i through the proxy and reports whether Prism
// flagged the exchange, with its violations.
func throughPrism(t *testing.T, proxy string, i int, tt responseCase) (flagged bool, violations string) {
	t.Helper()
	var body io.Reader
	if tt.reqBody != "" {
		body = strings.NewReader(tt.reqBody)
	}
	req, err := http.NewRequest(tt.method, proxy+tt.target, body)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer inv_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")
	req.Header.Set("X-Request-Id", fmt.Sprintf("case-%d", i))
	if tt.reqBody != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	var problem struct{ Type string }
	_ = json.Unmarshal(raw, &problem)
	if problem.Type == "https://stoplight.io/prism/errors#VIOLATIONS" {
		return true, res.Header.Get("sl-violations")
	}
	if res.StatusCode != tt.status {
		t.Fatalf("Prism answered %d %s, want the upstream's %d or a violation", res.StatusCode, raw, tt.status)
	}
	// A warning (not an error) passes with the header set: count it too.
	return res.Header.Get("sl-violations") != "", res.Header.Get("sl-violations")
}

// startPrism runs `prism proxy --errors openapi.yaml upstream` on a free
// port until the test ends, and returns its URL once it accepts connections.
func startPrism(t *testing.T, prism, upstream string) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
	_ = ln.Close()

	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, prism, "proxy", "--errors", "-h", "127.0.0.1", "-p", port, "openapi.yaml", upstream)
	out := &lockedBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	cmd.WaitDelay = 5 * time.Second
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatalf("start Prism (%s): %v", prism, err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		cancel()
		<-exited
		if t.Failed() {
			t.Logf("Prism's output:\n%s", out)
		}
	})

	// Prism takes seconds to start, more on a loaded machine.
	deadline := time.Now().Add(2 * time.Minute)
	for {
		conn, err := net.DialTimeout("tcp", "127.0.0.1:"+port, time.Second)
		if err == nil {
			_ = conn.Close()
			return "http://127.0.0.1:" + port
		}
		select {
		case <-exited:
			t.Fatalf("Prism exited before listening:\n%s", out)
		case <-time.After(200 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("Prism did not listen on %s within 2 minutes:\n%s", port, out)
		}
	}
}

// lockedBuffer collects a process's output, safe for its copying goroutines.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
