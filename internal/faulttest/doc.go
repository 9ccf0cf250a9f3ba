// Package faulttest is the fault suite of the invoicing service: it runs the
// built binary (two serve and two relay processes) against a PostgreSQL
// cluster and a nats-server of its own, kills and restarts them while many
// clients create, issue and pay invoices, and then checks the delivery
// invariants against the database and the whole JetStream stream. What it
// proves, and the figures of a run, are in docs/reliability.md.
//
// It runs only when INVOICING_FAULT=1 (CI runs it as a step of its own):
//
//	INVOICING_FAULT=1 go test -race -count=1 -timeout 20m -run '^TestFault' -v ./internal/faulttest
//
// TestFaultNATSCluster runs the binary on a three-node NATS cluster and
// kills the stream's leader node; it needs nats-server 2.12 or later, which
// .ci/run installs (see clusterInstall in cluster_test.go):
//
//	NATS_SERVER_BIN=/path/to/nats-server INVOICING_FAULT=1 go test -count=1 -run '^TestFaultNATSCluster$' -v ./internal/faulttest
//
// TestFaultPostgresFailover runs the binary (two serve processes and
// notify) on a three-member Patroni cluster with etcd, kills the primary's
// postmaster, switches over and restarts the synchronous standby under
// load; it needs Patroni and etcd (Debian's patroni and etcd-server), which
// .ci/run installs:
//
//	INVOICING_FAULT=1 go test -count=1 -run '^TestFaultPostgresFailover$' -v ./internal/faulttest
//
// The package has no code outside its tests.
package faulttest
