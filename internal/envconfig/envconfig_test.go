package envconfig

import (
	"testing"
	"time"
)

func TestListenAddr(t *testing.T) {
	for _, c := range []struct {
		v  string
		ok bool
	}{
		{":8080", true},
		{"127.0.0.1:0", true},
		{"[::1]:8080", true},
		{"api.internal:443", true},
		{"8080", false},
		{":http", false},
		{":65536", false},
		{"bad host:80", false},
	} {
		if err := ListenAddr(c.v); (err == nil) != c.ok {
			t.Errorf("ListenAddr(%q) = %v, want ok %t", c.v, err, c.ok)
		}
	}
}

func TestHidePasswords(t *testing.T) {
	for in, want := range map[string]string{
		`DATABASE_URL="postgres://app:s3cret@db/x"`:                `DATABASE_URL="postgres://app:xxxxx@db/x"`,
		"postgres://db/x?user=app&password=s3cret&sslmode=require": "postgres://db/x?user=app&password=xxxxx&sslmode=require",
		"nats://a:p1@n1:4222,nats://b:p2@n2:4222":                  "nats://a:xxxxx@n1:4222,nats://b:xxxxx@n2:4222",
		"nats://n1:4222": "nats://n1:4222",
	} {
		if got := HidePasswords(in); got != want {
			t.Errorf("HidePasswords(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestInterval(t *testing.T) {
	type conf struct{ d time.Duration }
	field := func(c *conf) *time.Duration { return &c.d }
	for _, c := range []struct {
		off bool
		v   string
		ok  bool
	}{
		{false, "1s", true},
		{false, "10ms", true},
		{false, "1ns", false},
		{false, "0", false},
		{true, "0", true},
		{true, "5ms", false},
	} {
		var cf conf
		err := Interval(c.off, field)(&cf, c.v)
		if (err == nil) != c.ok {
			t.Errorf("Interval(%t)(%q) = %v, want ok %t", c.off, c.v, err, c.ok)
		}
	}
}

func TestLoopbackAddrDialsTheUnspecifiedHostOnThisMachine(t *testing.T) {
	for addr, want := range map[string]string{
		":8080": "127.0.0.1:8080", "0.0.0.0:4222": "127.0.0.1:4222", "[::]:1025": "127.0.0.1:1025",
		"127.0.0.1:8025": "127.0.0.1:8025", "localhost:80": "localhost:80", "not an address": "not an address",
	} {
		if got := LoopbackAddr(addr); got != want {
			t.Errorf("LoopbackAddr(%q) = %q, want %q", addr, got, want)
		}
	}
}
