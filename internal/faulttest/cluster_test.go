package faulttest

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/invoicing-dev/invoicing/internal/natstest"
)

// clusterInstall is the command the cluster test's failure names when no
// recent enough nats-server is at hand (.ci/run runs it).
const clusterInstall = "GOBIN=/tmp/nats-server-v2.15.2 go install github.com/nats-io/nats-server/v2@v2.15.2 && " +
	"export NATS_SERVER_BIN=/tmp/nats-server-v2.15.2/nats-server"

// TestFaultNATSCluster runs the built binary (two serve and two relay
// processes) against a three-node NATS cluster on loopback, the stream at
// three replicas (NATS_STREAM_REPLICAS=3), as production runs it. While
// clients pay invoices, it kills the stream's leader node with SIGKILL,
// restarts it once the others have taken over, and does it again to the new
// leader. Then every committed event must be in the stream exactly once, each
// invoice's events in version order (the fault suite's checker).
//
// It runs only when INVOICING_FAULT=1, with nats-server 2.12 or later in
// NATS_SERVER_BIN (or on the PATH); .ci/run installs 2.15.2 for it.
func TestFaultNATSCluster(t *testing.T) {
	if os.Getenv("INVOICING_FAULT") == "" {
		t.Skip("the cluster fault test runs only with INVOICING_FAULT=1 (see doc.go)")
	}
	cl := startNATSCluster(t, clusterServerBinary(t))
	sys := startSystemOn(t, 8, cl.URLs(), "NATS_STREAM_REPLICAS=3", "NATS_ATOMIC_BATCHES=true")
	stopProcs := sys.run(t)
	defer stopProcs()

	l := newLedger()
	races := &raceStats{byKind: map[string]int{}}
	stopLoad := make(chan struct{})
	loadDone := make(chan []string, 1)
	go func() { loadDone <- sys.load(len(sys.clients)*3, l, races, stopLoad) }()

	for round := 1; round <= 2; round++ {
		time.Sleep(8 * time.Second) // events flow to the current leader
		leader, info := cl.leader(t)
		before := l.paymentCount()
		t.Logf("round %d: killing %s, the stream's leader (%d messages, %d payments acknowledged)", round, leader.name, info.State.Msgs, before)
		leader.Stop(syscall.SIGKILL)
		killed := time.Now()
		// A new leader is elected; the relay's publishes go there. How
		// long the stream stands still is a figure, not a pass mark.
		waitFor(t, "the stream to grow after the kill", 60*time.Second, func(ctx context.Context, js jetstream.JetStream) error {
			s, err := js.Stream(ctx, "INVOICING")
			if err != nil {
				return err
			}
			now, err := s.Info(ctx)
			if err == nil && now.State.Msgs <= info.State.Msgs {
				err = fmt.Errorf("still %d messages", now.State.Msgs)
			}
			return err
		}, cl.URLs())
		t.Logf("round %d: the stream grew again %s after the kill", round, time.Since(killed).Round(100*time.Millisecond))
		time.Sleep(time.Until(killed.Add(8 * time.Second)))
		newLeader, info := cl.leader(t)
		t.Logf("round %d: %s leads with %s down (%d messages, %d payments acknowledged meanwhile)",
			round, newLeader.name, leader.name, info.State.Msgs, l.paymentCount()-before)
		if err := leader.Start(); err != nil {
			t.Fatalf("restart %s: %v", leader.name, err)
		}
		cl.waitCurrent(t, 90*time.Second)
	}
	time.Sleep(3 * time.Second)
	close(stopLoad)
	loadErrs := <-loadDone

	backlog, err := waitDrained(context.Background(), sys.dbURL, 3*time.Minute)
	if err != nil {
		t.Error(err)
	}
	stopProcs()
	cl.leader(t)
	v, notes, err := check(context.Background(), sys.dbURL, cl.URLs(), l)
	for try := 1; err != nil && try < 5; try++ { // a node may still be settling
		t.Logf("invariant checker: %v; trying again", err)
		time.Sleep(2 * time.Second)
		v, notes, err = check(context.Background(), sys.dbURL, cl.URLs(), l)
	}
	if err != nil {
		t.Fatalf("invariant checker: %v", err)
	}
	t.Logf("%d invoices, %d paid, %d payments acknowledged; %d events committed, %d messages in the stream; backlog after the load %d",
		v.Invoices, v.Paid, l.paymentCount(), v.Events, v.StreamMessages, backlog)
	for _, n := range notes {
		t.Log(n)
	}
	if b := v.broken(); len(b) > 0 {
		t.Errorf("invariants broken: %s", strings.Join(b, ", "))
	}
	if v.Events == 0 || v.Paid == 0 {
		t.Errorf("no load: %d events, %d paid invoices", v.Events, v.Paid)
	}
	sys.checkAnswers(t, loadErrs)
}

// clusterServerBinary returns NATS_SERVER_BIN, or nats-server on the PATH
// (or /usr/sbin/nats-server), if it is nats-server 2.12 or later; else it
// fails the test naming the install command.
func clusterServerBinary(t *testing.T) string {
	t.Helper()
	bin := natstest.Binary("NATS_SERVER_BIN")
	major, minor, answer, err := natstest.Version(bin)
	if err != nil || major < 2 || major == 2 && minor < 12 {
		t.Fatalf("the cluster test needs nats-server 2.12 or later (2.15.2, as in go.mod); %s says %q (%v). Install it:\n  %s",
			bin, answer, err, clusterInstall)
	}
	return bin
}

// natsCluster is three nats-server processes clustered on loopback, each
// with JetStream and a store of its own.
type natsCluster struct {
	nodes []*clusterNode
}

// clusterNode is one node: the server process and its name in the cluster.
type clusterNode struct {
	*natsServer
	name string
}

// startNATSCluster starts three nodes of bin, stopped when the test ends,
// and waits until JetStream has a meta leader.
func startNATSCluster(t *testing.T, bin string) *natsCluster {
	t.Helper()
	const size = 3
	routePorts := make([]int, size)
	routes := make([]string, size)
	for i := range routePorts {
		routePorts[i] = freePort(t)
		routes[i] = fmt.Sprintf("nats-route://127.0.0.1:%d", routePorts[i])
	}
	cl := &natsCluster{}
	for i := range size {
		n := &clusterNode{natsServer: &natsServer{bin: bin, dir: t.TempDir(), port: freePort(t)}, name: fmt.Sprintf("n%d", i+1)}
		n.conf = filepath.Join(n.dir, "nats.conf")
		conf := fmt.Sprintf("server_name: %s\ncluster {\n  name: invoicing\n  listen: 127.0.0.1:%d\n  routes: [%s]\n}\n",
			n.name, routePorts[i], strings.Join(routes, ", "))
		if err := os.WriteFile(n.conf, []byte(conf), 0o644); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { n.Stop(syscall.SIGTERM) })
		if err := n.Start(); err != nil {
			t.Fatalf("%s: %v\n%s", n.name, err, tail(filepath.Join(n.dir, "nats.log"), 20))
		}
		cl.nodes = append(cl.nodes, n)
	}
	waitFor(t, "JetStream of the cluster to answer", 60*time.Second, func(ctx context.Context, js jetstream.JetStream) error {
		_, err := js.AccountInfo(ctx)
		return err
	}, cl.URLs())
	return cl
}

// URLs returns every node's client URL, comma-separated.
func (c *natsCluster) URLs() string {
	urls := make([]string, len(c.nodes))
	for i, n := range c.nodes {
		urls[i] = n.URL()
	}
	return strings.Join(urls, ",")
}

// leader returns the node leading the INVOICING stream and the stream's
// info, waiting up to 60s for a leader.
func (c *natsCluster) leader(t *testing.T) (*clusterNode, *jetstream.StreamInfo) {
	t.Helper()
	var leader *clusterNode
	var info *jetstream.StreamInfo
	waitFor(t, "the INVOICING stream to have a leader", 60*time.Second, func(ctx context.Context, js jetstream.JetStream) error {
		s, err := js.Stream(ctx, "INVOICING")
		if err == nil {
			info, err = s.Info(ctx)
		}
		if err != nil {
			return err
		}
		for _, n := range c.nodes {
			if info.Cluster != nil && info.Cluster.Leader == n.name {
				leader = n
				return nil
			}
		}
		return fmt.Errorf("no leader yet: %+v", info.Cluster)
	}, c.URLs())
	return leader, info
}

// waitCurrent waits until the INVOICING stream has a leader and every
// other replica is current, so the next kill leaves a quorum.
func (c *natsCluster) waitCurrent(t *testing.T, timeout time.Duration) {
	t.Helper()
	waitFor(t, "every replica of INVOICING to be current", timeout, func(ctx context.Context, js jetstream.JetStream) error {
		s, err := js.Stream(ctx, "INVOICING")
		if err != nil {
			return err
		}
		info, err := s.Info(ctx)
		if err != nil {
			return err
		}
		if info.Cluster == nil || info.Cluster.Leader == "" || len(info.Cluster.Replicas) != len(c.nodes)-1 {
			return fmt.Errorf("cluster %+v", info.Cluster)
		}
		for _, r := range info.Cluster.Replicas {
			if !r.Current || r.Offline {
				return fmt.Errorf("replica %s: current %t, offline %t, lag %d", r.Name, r.Current, r.Offline, r.Lag)
			}
		}
		return nil
	}, c.URLs())
}

// waitFor calls cond with a JetStream context on urls every 250ms until it
// returns nil, or fails the test after timeout with cond's last error.
func waitFor(t *testing.T, what string, timeout time.Duration, cond func(context.Context, jetstream.JetStream) error, urls string) {
	t.Helper()
	nc, err := nats.Connect(urls, nats.MaxReconnects(-1), nats.RetryOnFailedConnect(true))
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(timeout)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		err = cond(ctx, js)
		cancel()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("waited %s for %s: %v", timeout, what, err)
		}
		time.Sleep(250 * time.Millisecond)
	}
}
