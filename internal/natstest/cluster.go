package natstest

import (
	"fmt"
	"net"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

// Cluster is embedded nats-servers with JetStream clustered on loopback, in
// the test's process: for benchmarks and tests of replicated streams. (A
// test that kills a node with SIGKILL needs processes: internal/faulttest.)
type Cluster struct {
	Servers []*Server
}

// NewCluster starts n servers (named n1, n2, ...) routed to each other,
// opts applied to each, and waits until JetStream has a meta leader, or
// fails the test. They are shut down when the test ends.
func NewCluster(t testing.TB, n int, opts ...Option) *Cluster {
	t.Helper()
	routes := make([]*url.URL, n)
	ports := make([]int, n)
	for i := range n {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatalf("natstest: route port: %v", err)
		}
		ports[i] = ln.Addr().(*net.TCPAddr).Port
		ln.Close()
		routes[i] = &url.URL{Scheme: "nats-route", Host: fmt.Sprintf("127.0.0.1:%d", ports[i])}
	}
	c := &Cluster{}
	for i := range n {
		member := func(o *server.Options) {
			o.ServerName = fmt.Sprintf("n%d", i+1)
			o.Cluster = server.ClusterOpts{Name: "natstest", Host: "127.0.0.1", Port: ports[i]}
			o.Routes = routes
		}
		c.Servers = append(c.Servers, New(t, append([]Option{member}, opts...)...))
	}
	for deadline := time.Now().Add(30 * time.Second); !c.hasMetaLeader(); time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("natstest: no JetStream meta leader in the cluster after 30s")
		}
	}
	return c
}

// URL returns every server's client URL, comma-separated.
func (c *Cluster) URL() string {
	urls := make([]string, len(c.Servers))
	for i, s := range c.Servers {
		urls[i] = s.URL()
	}
	return strings.Join(urls, ",")
}

func (c *Cluster) hasMetaLeader() bool {
	for _, s := range c.Servers {
		if s.srv != nil && s.srv.JetStreamIsLeader() {
			return true
		}
	}
	return false
}
