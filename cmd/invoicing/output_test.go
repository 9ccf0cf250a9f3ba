package main

import (
	"context"
	"io"
	"strings"
	"testing"

	"github.com/nats-io/nats.go"

	"github.com/invoicing-dev/invoicing/internal/invoicing/invoicingnats"
	"github.com/invoicing-dev/invoicing/internal/natstest"
	"github.com/invoicing-dev/invoicing/internal/pgtest"
)

// TestOneShotCommandsAnswerApartFromTheLog: `notify replay` (like every
// command that answers and exits) writes its answer alone on stdout and its
// JSON log lines on stderr, so a script can read the answer.
func TestOneShotCommandsAnswerApartFromTheLog(t *testing.T) {
	ns := natstest.New(t)
	getenv := env(map[string]string{"DATABASE_URL": pgtest.NewURL(t), "NATS_URL": ns.URL()})
	ctx := context.Background()
	// The stream, as serve's relay creates it.
	nc, err := nats.Connect(ns.URL())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	pub, err := invoicingnats.NewPublisher(nc, invoicingnats.StreamConfig{})
	if err == nil {
		err = pub.Prepare(ctx)
	}
	if err != nil {
		t.Fatalf("create the stream: %v", err)
	}
	if err := run(ctx, []string{"migrate", "up"}, getenv, io.Discard); err != nil {
		t.Fatalf("migrate up: %v", err)
	}
	// The NATS client logs its closed connection from a goroutine of its
	// own, which may still run as the command returns.
	var stdout, stderr syncBuffer
	if err := runWith(ctx, []string{"notify", "replay", "--since", "1h"}, getenv, &stdout, &stderr); err != nil {
		t.Fatalf("notify replay: %v", err)
	}
	if out := stdout.String(); !strings.HasPrefix(out, "replayed 0 events") || strings.Count(out, "\n") != 1 {
		t.Errorf("notify replay's stdout:\n%s\nwant its answer alone, one line", out)
	}
	// Without SMTP_URL notify warns that emails are disabled: a log line.
	if !strings.Contains(stderr.String(), `"level":"WARN"`) {
		t.Errorf("notify replay's stderr:\n%s\nwant its JSON log lines", stderr.String())
	}
}
