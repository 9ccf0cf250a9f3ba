// Command watermill is the peer of the invoicing relay benchmark: Watermill's
// SQL outbox (watermill-sql's PostgreSQL publisher, wrapped by
// components/forwarder's enveloping publisher) holds -n pre-inserted events,
// and a components/forwarder.Forwarder moves them to JetStream through
// watermill-nats' JetStream publisher (one synchronous publish per message,
// Nats-Msg-Id = message UUID). It times from the start of forwarding until the
// n-th message is in the stream (StreamInfo's message count) and prints one
// JSON line.
//
// It lives in its own Go module so the service's go.mod never depends on
// Watermill. Its tables (watermill_*) and its stream (BENCH_WM_<pid>_<time>)
// are dropped before it exits.
//
//	go run . -db postgres://postgres@127.0.0.1:5432/bench_x?sslmode=disable -nats-url nats://127.0.0.1:4222 -n 50000
package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"strconv"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	wmnats "github.com/ThreeDotsLabs/watermill-nats/v2/pkg/nats"
	wmsql "github.com/ThreeDotsLabs/watermill-sql/v3/pkg/sql"
	"github.com/ThreeDotsLabs/watermill/components/forwarder"
	"github.com/ThreeDotsLabs/watermill/message"
	_ "github.com/jackc/pgx/v5/stdlib"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// result is the JSON line printed on success.
type result struct {
	Peer         string  `json:"peer"`
	Events       int     `json:"events"`
	Seconds      float64 `json:"seconds"`
	EventsPerSec float64 `json:"events_per_s"`
	InsertSecs   float64 `json:"insert_seconds"` // untimed setup, for reference
}

// forwarderTopic is the SQL topic the enveloped events wait in.
const forwarderTopic = "bench_outbox"

// payload is an invoice.paid CloudEvent of about 500 bytes, as the relay sends.
var payload = []byte(`{"specversion":"1.0","id":"0190f7a8-0000-7000-8000-0000000000aa","source":"/invoicing",` +
	`"type":"invoicing.invoice.paid","subject":"0190f7a8-0000-7000-8000-000000000003","time":"2026-03-01T10:00:00.123456Z",` +
	`"datacontenttype":"application/json","tenantid":"0190f7a8-0000-7000-8000-000000000001","sequence":"123","invoiceversion":4,` +
	`"data":{"invoice_id":"0190f7a8-0000-7000-8000-000000000003","number":"INV-2026-000123","customer":{"name":"Acme Corporation",` +
	`"email":"accounts.payable@acme.example"},"currency":"EUR","total":123456,"amount_paid":123456,"paid_at":"2026-03-01T10:00:00.123456Z"}}`)

func main() {
	dbURL := flag.String("db", "", "PostgreSQL URL of a throwaway database (required)")
	natsURL := flag.String("nats-url", "nats://127.0.0.1:4222", "NATS server URL")
	n := flag.Int("n", 50_000, "events to forward (at most 5,000,000)")
	batch := flag.Int("batch", 0, "watermill-sql SubscribeBatchSize (0 = its default, 100)")
	timeout := flag.Duration("timeout", 10*time.Minute, "give up after this long")
	flag.Parse()
	if *dbURL == "" || *n < 1 || *n > 5_000_000 {
		fmt.Fprintln(os.Stderr, "watermill: -db is required and -n must be 1..5,000,000")
		os.Exit(2)
	}
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	if err := run(ctx, *dbURL, *natsURL, *n, *batch); err != nil {
		fmt.Fprintln(os.Stderr, "watermill:", err)
		os.Exit(1)
	}
}

// run sets up, inserts, forwards, prints the result and cleans up. It
// returns the first error.
func run(ctx context.Context, dbURL, natsURL string, n, batch int) (err error) {
	db, err := sql.Open("pgx", dbURL)
	if err != nil {
		return err
	}
	defer db.Close()
	nc, err := nats.Connect(natsURL, nats.Name("watermill-peer"))
	if err != nil {
		return err
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		return err
	}

	// A stream like INVOICING (file storage, 2m duplicate window).
	stream := "BENCH_WM_" + strconv.Itoa(os.Getpid()) + "_" + strconv.FormatInt(time.Now().UnixNano(), 36)
	subject := "bench.wm." + stream
	s, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: stream, Subjects: []string{subject},
		Storage: jetstream.FileStorage, Duplicates: 2 * time.Minute})
	if err != nil {
		return fmt.Errorf("create stream %s: %w", stream, err)
	}
	defer func() { err = errors.Join(err, js.DeleteStream(context.WithoutCancel(ctx), stream)) }()

	schema := wmsql.DefaultPostgreSQLSchema{SubscribeBatchSize: batch}
	defer func() { err = errors.Join(err, dropTables(db, schema)) }()
	logger := watermill.NopLogger{}

	insertStart := time.Now()
	if err := insert(db, schema, logger, subject, n); err != nil {
		return err
	}
	insertTook := time.Since(insertStart)

	sub, err := wmsql.NewSubscriber(db, wmsql.SubscriberConfig{ConsumerGroup: "bench", SchemaAdapter: schema,
		OffsetsAdapter: wmsql.DefaultPostgreSQLOffsetsAdapter{}, InitializeSchema: true}, logger)
	if err != nil {
		return err
	}
	out, err := wmnats.NewPublisherWithNatsConn(nc, wmnats.PublisherPublishConfig{
		Marshaler: &wmnats.NATSMarshaler{}, SubjectCalculator: wmnats.DefaultSubjectCalculator,
		JetStream: wmnats.JetStreamConfig{TrackMsgId: true},
	}, logger)
	if err != nil {
		return err
	}
	fwd, err := forwarder.NewForwarder(sub, out, logger, forwarder.Config{ForwarderTopic: forwarderTopic})
	if err != nil {
		return err
	}

	start := time.Now()
	runErr := make(chan error, 1)
	fwdCtx, stopFwd := context.WithCancel(ctx)
	defer stopFwd()
	go func() { runErr <- fwd.Run(fwdCtx) }()
	if err := waitForMessages(ctx, s, n, runErr); err != nil {
		return err
	}
	took := time.Since(start)
	stopFwd()
	if err := fwd.Close(); err != nil {
		return err
	}
	return json.NewEncoder(os.Stdout).Encode(result{Peer: "watermill-sql+forwarder+watermill-nats", Events: n,
		Seconds: took.Seconds(), EventsPerSec: float64(n) / took.Seconds(), InsertSecs: insertTook.Seconds()})
}

// insert stores n enveloped events for subject in the SQL outbox, 500 per
// INSERT (the setup is not timed).
func insert(db *sql.DB, schema wmsql.SchemaAdapter, logger watermill.LoggerAdapter, subject string, n int) error {
	pub, err := wmsql.NewPublisher(db, wmsql.PublisherConfig{SchemaAdapter: schema, AutoInitializeSchema: true}, logger)
	if err != nil {
		return err
	}
	outbox := forwarder.NewPublisher(pub, forwarder.PublisherConfig{ForwarderTopic: forwarderTopic})
	for done := 0; done < n; {
		k := min(500, n-done)
		msgs := make([]*message.Message, k)
		for i := range msgs {
			msgs[i] = message.NewMessage(watermill.NewUUID(), payload)
		}
		if err := outbox.Publish(subject, msgs...); err != nil {
			return fmt.Errorf("insert events: %w", err)
		}
		done += k
	}
	return nil
}

// waitForMessages polls the stream until it holds n messages. It fails if
// ctx ends or the forwarder stops first.
func waitForMessages(ctx context.Context, s jetstream.Stream, n int, runErr <-chan error) error {
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for {
		info, err := s.Info(ctx)
		if err != nil {
			return fmt.Errorf("stream info: %w", err)
		}
		if info.State.Msgs >= uint64(n) {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%d of %d messages forwarded: %w", info.State.Msgs, n, ctx.Err())
		case err := <-runErr:
			return fmt.Errorf("forwarder stopped after %d of %d messages: %v", info.State.Msgs, n, err)
		case <-tick.C:
		}
	}
}

// dropTables removes the benchmark's Watermill tables.
func dropTables(db *sql.DB, schema wmsql.DefaultPostgreSQLSchema) error {
	offsets := wmsql.DefaultPostgreSQLOffsetsAdapter{}
	_, err := db.Exec("DROP TABLE IF EXISTS " + schema.MessagesTable(forwarderTopic) + ", " +
		offsets.MessagesOffsetsTable(forwarderTopic))
	return err
}
