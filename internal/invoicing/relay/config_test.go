package relay

import (
	"strings"
	"testing"
	"time"
)

func TestConfigDefaultsAreValid(t *testing.T) {
	var c Config
	c.setDefaults()
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if c.PollInterval != time.Second || c.BatchSize != 500 || c.MaxAttempts != 10 || c.Retention != 168*time.Hour {
		t.Fatalf("defaults = %+v", c)
	}
}

func TestConfigValidateNamesEachBadField(t *testing.T) {
	c := Config{PollInterval: -1, BatchSize: 10001, MaxAttempts: -1, BackoffMin: time.Second, BackoffMax: time.Millisecond}
	c.setDefaults()
	err := c.Validate()
	if err == nil {
		t.Fatal("Validate accepted a bad config")
	}
	for _, want := range []string{"poll interval", "batch size", "max attempts", "maximum backoff"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not name %q", err, want)
		}
	}
}

func TestBackoffGrowsCappedWithJitter(t *testing.T) {
	lo, hi := 100*time.Millisecond, 2*time.Second
	for n, ceiling := range map[int]time.Duration{1: lo, 2: 2 * lo, 3: 4 * lo, 10: hi, 1000: hi} {
		for range 100 {
			d := backoff(n, lo, hi)
			if d < ceiling/2 || d > ceiling {
				t.Fatalf("backoff(%d) = %s, want within [%s, %s]", n, d, ceiling/2, ceiling)
			}
		}
	}
}
