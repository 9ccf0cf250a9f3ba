// Command natsstream prints where a JetStream stream stands: its last
// sequence number and message count, or that it does not exist. CI prints it
// for the machine's shared INVOICING stream before and after the tests and
// fails if it changed: tests run their own servers (natstest) and must never
// publish into, create or change the stream a developer's consumers read.
//
//	go run ./tools/natsstream -nats-url nats://127.0.0.1:4222 -stream INVOICING
//
// It exits 1 if the server cannot be asked.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

func main() {
	url := flag.String("nats-url", "nats://127.0.0.1:4222", "NATS server URL")
	stream := flag.String("stream", "INVOICING", "stream name")
	flag.Parse()
	state, err := describe(*url, *stream)
	if err != nil {
		fmt.Fprintln(os.Stderr, "natsstream:", err)
		os.Exit(1)
	}
	fmt.Println(state)
}

// describe returns one line on the stream: its name, last sequence, message
// count, creation time and duplicate window, or "absent". It returns an error if the server
// cannot be reached or answers with anything else.
func describe(url, name string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	nc, err := nats.Connect(url, nats.Timeout(5*time.Second))
	if err != nil {
		return "", err
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		return "", err
	}
	s, err := js.Stream(ctx, name)
	if errors.Is(err, jetstream.ErrStreamNotFound) {
		return fmt.Sprintf("stream %s at %s: absent", name, url), nil
	}
	if err != nil {
		return "", fmt.Errorf("stream %s: %w", name, err)
	}
	info := s.CachedInfo()
	return fmt.Sprintf("stream %s at %s: last sequence %d, %d messages, created %s, duplicate window %s",
		name, url, info.State.LastSeq, info.State.Msgs, info.Created.UTC().Format(time.RFC3339Nano), info.Config.Duplicates), nil
}
