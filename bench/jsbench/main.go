// Command jsbench is the JetStream ceiling of the relay benchmark: it
// publishes -n messages of -size bytes, each with a unique Nats-Msg-Id, to a
// throwaway stream configured like INVOICING (file storage, 2m duplicate
// window) on the given server, and prints one JSON line with the rate.
//
//	jsbench -nats-url nats://127.0.0.1:4222 -n 50000            # async, up to 4096 in flight
//	jsbench -nats-url nats://127.0.0.1:4222 -n 5000 -sync       # one publish at a time
//
// The stream (BENCH_JS_<pid>_<time>) is deleted before it exits.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// result is the JSON line printed on success.
type result struct {
	Server     string  `json:"server_version"`
	Mode       string  `json:"mode"`
	Messages   int     `json:"messages"`
	Bytes      int     `json:"bytes"`
	Seconds    float64 `json:"seconds"`
	MsgsPerSec float64 `json:"msgs_per_s"`
}

func main() {
	url := flag.String("nats-url", "nats://127.0.0.1:4222", "NATS server URL")
	n := flag.Int("n", 50_000, "messages to publish (at most 10,000,000)")
	size := flag.Int("size", 500, "message body size in bytes")
	sync := flag.Bool("sync", false, "publish one message at a time, waiting for each ack")
	pending := flag.Int("max-pending", 4096, "async publishes in flight at most")
	flag.Parse()
	if *n < 1 || *n > 10_000_000 || *size < 1 || *size > 1<<20 {
		fmt.Fprintln(os.Stderr, "jsbench: -n must be 1..10,000,000 and -size 1..1 MiB")
		os.Exit(2)
	}
	if err := run(*url, *n, *size, *sync, *pending); err != nil {
		fmt.Fprintln(os.Stderr, "jsbench:", err)
		os.Exit(1)
	}
}

// run creates the stream, publishes, deletes the stream and prints the
// result. It returns the first error, including failed acks.
func run(url string, n, size int, sync bool, pending int) (err error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	nc, err := nats.Connect(url, nats.Name("jsbench"))
	if err != nil {
		return err
	}
	defer nc.Close()
	var failed atomic.Int64
	js, err := jetstream.New(nc, jetstream.WithPublishAsyncMaxPending(pending),
		jetstream.WithPublishAsyncErrHandler(func(jetstream.JetStream, *nats.Msg, error) { failed.Add(1) }))
	if err != nil {
		return err
	}
	name := "BENCH_JS_" + strconv.Itoa(os.Getpid()) + "_" + strconv.FormatInt(time.Now().UnixNano(), 36)
	subject := "bench.js." + name
	if _, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: name, Subjects: []string{subject},
		Storage: jetstream.FileStorage, Duplicates: 2 * time.Minute}); err != nil {
		return fmt.Errorf("create stream %s: %w", name, err)
	}
	defer func() { err = errors.Join(err, js.DeleteStream(context.WithoutCancel(ctx), name)) }()

	body := make([]byte, size)
	for i := range body {
		body[i] = 'a' + byte(i%26)
	}
	mode := "async"
	start := time.Now()
	for range n {
		msg := &nats.Msg{Subject: subject, Data: body}
		if sync {
			mode = "sync"
			if _, err := js.PublishMsg(ctx, msg, jetstream.WithMsgID(uuid.NewString())); err != nil {
				return err
			}
			continue
		}
		if _, err := js.PublishMsgAsync(msg, jetstream.WithMsgID(uuid.NewString()), jetstream.WithStallWait(10*time.Second)); err != nil {
			return err
		}
	}
	select {
	case <-js.PublishAsyncComplete():
	case <-ctx.Done():
		return ctx.Err()
	}
	took := time.Since(start)
	if f := failed.Load(); f > 0 {
		return fmt.Errorf("%d publishes failed", f)
	}
	return json.NewEncoder(os.Stdout).Encode(result{Server: nc.ConnectedServerVersion(), Mode: mode, Messages: n, Bytes: size,
		Seconds: took.Seconds(), MsgsPerSec: float64(n) / took.Seconds()})
}
