package main

import "testing"

func TestPoolTopUp(t *testing.T) {
	var p pool
	p.add([]openInvoice{{id: "a"}, {id: "b"}, {id: "c"}})
	if inv, ok := p.take(); !ok || inv.id != "a" {
		t.Fatalf("take = %v, %v; want a", inv, ok)
	}
	if got := p.remaining(); got != 2 {
		t.Fatalf("remaining = %d, want 2", got)
	}
	p.add([]openInvoice{{id: "d"}})
	var got []string
	for inv, ok := p.take(); ok; inv, ok = p.take() {
		got = append(got, inv.id)
	}
	if len(got) != 3 || got[0] != "b" || got[2] != "d" {
		t.Errorf("took %v after top-up, want [b c d]", got)
	}
	if p.remaining() != 0 {
		t.Errorf("remaining = %d after draining, want 0", p.remaining())
	}
}
