package main

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"
)

func TestPercentile(t *testing.T) {
	hundred := make([]time.Duration, 100)
	for i := range hundred {
		hundred[i] = time.Duration(i+1) * time.Millisecond // 1..100 ms
	}
	tests := []struct {
		name   string
		sorted []time.Duration
		p      float64
		want   time.Duration
	}{
		{"empty", nil, 99, 0},
		{"one value", []time.Duration{7}, 50, 7},
		{"p50 of 1..100", hundred, 50, 50 * time.Millisecond},
		{"p95 of 1..100", hundred, 95, 95 * time.Millisecond},
		{"p99 of 1..100", hundred, 99, 99 * time.Millisecond},
		{"p100 is the max", hundred, 100, 100 * time.Millisecond},
		{"p99 of 10 is the max", hundred[:10], 99, 10 * time.Millisecond},
		{"p50 of 4 rounds rank up", []time.Duration{1, 2, 3, 4}, 50, 2},
		{"p51 of 4", []time.Duration{1, 2, 3, 4}, 51, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := percentile(tt.sorted, tt.p); got != tt.want {
				t.Errorf("percentile(%d values, %v) = %v, want %v", len(tt.sorted), tt.p, got, tt.want)
			}
		})
	}
}

func TestNewLevelResult(t *testing.T) {
	lat := []time.Duration{4 * time.Millisecond, time.Millisecond, 3 * time.Millisecond, 2 * time.Millisecond}
	r := newLevelResult(2, 0, 2*time.Second, lat, map[string]int{"409": 1}, false)
	if r.OK != 4 || r.RPS != 2 || r.P50 != 2 || r.P99 != 4 {
		t.Errorf("got ok=%d rps=%v p50=%v p99=%v, want 4, 2, 2, 4", r.OK, r.RPS, r.P50, r.P99)
	}
}

func TestReportOutputs(t *testing.T) {
	rep := report{Invoices: 10, Levels: []levelResult{
		newLevelResult(4, 0, time.Second, []time.Duration{time.Millisecond}, map[string]int{"500": 2, "409": 1}, true),
	}}
	rep.Levels[0].Events = &eventResult{Expected: 1, Received: 1, P50: 3.5, P99: 3.5, Max: 3.5}

	var table bytes.Buffer
	if err := rep.writeTable(&table); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"409:1 500:2 (ran out of invoices)", "1/1", "3.5"} {
		if !strings.Contains(table.String(), want) {
			t.Errorf("table lacks %q:\n%s", want, table.String())
		}
	}

	var js bytes.Buffer
	if err := rep.writeJSON(&js); err != nil {
		t.Fatal(err)
	}
	var back report
	if err := json.Unmarshal(js.Bytes(), &back); err != nil {
		t.Fatal(err)
	}
	if got := back.Levels[0]; got.Concurrency != 4 || got.Errors["500"] != 2 || got.Events.Received != 1 || !got.Exhausted {
		t.Errorf("JSON round trip = %+v", got)
	}
}

func TestParseOptions(t *testing.T) {
	env := func(k string) string { return map[string]string{"LOAD_API_KEY": "inv_x"}[k] }
	o, err := parseOptions([]string{"-concurrency", "1, 8", "-url", "http://localhost:9000/"}, env, &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	if len(o.levels) != 2 || o.levels[1] != 8 || o.url != "http://localhost:9000" || o.key != "inv_x" {
		t.Errorf("got %+v", o)
	}
	for _, args := range [][]string{
		{"-url", "http://10.0.0.1:8080"},
		{"-concurrency", "0"},
		{"-duration", "1h"},
		{"-wait-events", "-nats-url", "nats://192.168.1.1:4222"},
	} {
		if _, err := parseOptions(args, env, &bytes.Buffer{}); err == nil {
			t.Errorf("parseOptions(%q) = nil error, want one", args)
		}
	}
}
