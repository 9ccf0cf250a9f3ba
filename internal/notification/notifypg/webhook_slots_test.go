package notifypg

import (
	"context"
	"testing"
	"time"
)

// TestSlotsDeferTurnByTurnAndForgetIdleKeys: with a key's slots all held,
// each refused attempt gets a later turn than the one before (a step of
// the time held over the slots), within deferMin and deferMax plus
// jitter; a key nothing holds or waits for is forgotten.
func TestSlotsDeferTurnByTurnAndForgetIdleKeys(t *testing.T) {
	ctx := context.Background()
	s := newSlots(2)
	for range 2 {
		if ok, _ := s.take(ctx, "acme", 0); !ok {
			t.Fatal("a free slot refused")
		}
	}
	// The slots have been held for 4s: one frees about every 2s.
	s.mu.Lock()
	s.sems["acme"].since = time.Now().Add(-4 * time.Second)
	s.mu.Unlock()
	var prev time.Duration
	for i := range 5 {
		ok, d := s.take(ctx, "acme", slotWait)
		if ok {
			t.Fatal("a third slot of two")
		}
		lo := min(time.Duration(i+1)*2*time.Second, deferMax)
		if d < lo-50*time.Millisecond || d > lo+lo/4+50*time.Millisecond {
			t.Errorf("deferral %d: %s, want about %s (+ up to a quarter)", i+1, d, lo)
		}
		if d < prev-prev/4 {
			t.Errorf("deferral %d: %s, earlier than the one before, %s", i+1, d, prev)
		}
		prev = d
	}
	if ok, d := s.take(ctx, "globex", 0); !ok || d != 0 {
		t.Errorf("another key refused (%s) while acme's slots are held", d)
	}
	s.give("globex", time.Millisecond)
	s.give("acme", time.Second)
	s.give("acme", time.Second)
	if n := len(s.sems); n != 0 {
		t.Errorf("%d keys remembered with nothing held or waiting", n)
	}
	// A key whose slots turn over fast: its refusals come back at deferMin.
	f := newSlots(1)
	f.take(ctx, "fast", 0)
	f.mu.Lock()
	f.sems["fast"].held = time.Millisecond
	f.mu.Unlock()
	if ok, d := f.take(ctx, "fast", 0); ok || d < deferMin || d > deferMin+deferMin/4+time.Millisecond {
		t.Errorf("a fast key's deferral: %v %s, want about %s", ok, d, deferMin)
	}
}
