package webhook_test

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"

	"github.com/invoicing-dev/invoicing/internal/notification/webhook"
)

// addressForms are addresses a webhook may or may not reach, in the forms
// an attacker would try. Nothing is ever connected to: the test checks
// them at registration and at dial time against stubs.
var addressForms = []struct {
	addr    string
	allowed bool
}{
	// IPv6 forms that embed an IPv4 address.
	{"64:ff9b::a9fe:a9fe", false},                   // NAT64 of the metadata address
	{"64:ff9b::a00:1", false},                       // NAT64 of 10.0.0.1
	{"64:ff9b::808:808", false},                     // NAT64 of a public address: the prefix is not the internet
	{"64:ff9b:1::a9fe:a9fe", false},                 // local-use NAT64
	{"::127.0.0.1", false},                          // IPv4-compatible
	{"::a9fe:a9fe", false},                          // IPv4-compatible metadata
	{"::ffff:0:7f00:1", false},                      // IPv4-translated
	{"::ffff:127.0.0.1", false},                     // IPv4-mapped
	{"::ffff:10.0.0.1", false},                      // IPv4-mapped private
	{"::ffff:169.254.169.254", false},               // IPv4-mapped metadata
	{"2002:7f00:1::", false},                        // 6to4 of 127.0.0.1
	{"2002:a9fe:a9fe::1", false},                    // 6to4 of the metadata address
	{"2001:0:4136:e378:8000:63bf:80ff:fffe", false}, // Teredo, client 127.0.0.1
	{"2001:0:4136:e378:8000:63bf:5601:5601", false}, // Teredo, client 169.254.169.254
	{"2001:0:a00:1:8000:63bf:3fff:fdd2", false},     // Teredo, server 10.0.0.1
	{"2001:0:808:808:8000:63bf:f7f7:f7f7", false},   // Teredo, public server and client
	{"2002:808:808::1", false},                      // 6to4 of a public address
	{"fe80::a9fe:a9fe", false},                      // link-local with the metadata address inside
	{"2606:4700:4700::1111%eth0", false},            // a zone has no business in a public address
	{"fe80::1%eth0", false},                         // link-local with a zone
	{"::ffff:8.8.8.8", true},                        // IPv4-mapped public: dialled as 8.8.8.8
	{"2a00:1450:4001:80b::a9fe:a9fe", true},         // global unicast whose last bits only look like an address
	{"2001:4860:4860::8888", true},                  // public
	{"2606:4700:4700::1111", true},                  // public
	{"8.8.8.8", true},                               // public
	{"1.1.1.1", true},                               // public
	{"9.9.9.9", true},                               // public

	// IPv6 special-purpose and non-global ranges.
	{"::", false}, {"::1", false}, {"100::1", false}, {"100:0:0:1::1", false},
	{"2001::1", false}, {"2001:2::1", false}, {"2001:10::1", false}, {"2001:20::1", false},
	{"2001:db8::1", false}, {"3fff::1", false}, {"2620:4f:8000::1", false}, {"5f00::1", false},
	{"fc00::1", false}, {"fd00:ec2::254", false}, {"fec0::1", false}, {"fe80::1", false}, {"ff02::1", false},

	// IPv4 special-purpose ranges.
	{"0.0.0.0", false}, {"0.1.2.3", false}, {"10.1.2.3", false}, {"100.64.0.1", false}, {"100.100.100.200", false},
	{"127.0.0.1", false}, {"127.1.2.3", false}, {"169.254.169.254", false}, {"172.16.0.1", false}, {"172.31.255.255", false},
	{"192.0.0.8", false}, {"192.0.0.170", false}, {"192.0.2.1", false}, {"192.31.196.1", false}, {"192.52.193.1", false},
	{"192.88.99.1", false}, {"192.168.1.1", false}, {"192.175.48.1", false}, {"198.18.0.1", false}, {"198.51.100.1", false},
	{"203.0.113.7", false}, {"224.0.0.1", false}, {"239.255.255.250", false}, {"240.0.0.1", false}, {"255.255.255.255", false},
}

// urlHost returns addr as the host of a URL: bracketed if IPv6, its zone
// escaped.
func urlHost(addr string) string {
	if strings.Contains(addr, ":") {
		return "[" + strings.ReplaceAll(addr, "%", "%25") + "]"
	}
	return addr
}

// TestAddressFormsAtRegistration checks every form by itself, as a URL's
// host, and as what a registered host resolves to.
func TestAddressFormsAtRegistration(t *testing.T) {
	ctx := context.Background()
	for _, f := range addressForms {
		ip := netip.MustParseAddr(f.addr)
		p := webhook.Policy{Resolver: stub{"host.example": {ip}}}
		if got := webhook.Allowed(ip); got != f.allowed {
			t.Errorf("Allowed(%s) = %t, want %t", f.addr, got, f.allowed)
		}
		for _, u := range []string{"https://" + urlHost(f.addr) + "/hook", "https://host.example/hook"} {
			err := p.CheckURL(ctx, u)
			var inv *webhook.InvalidError
			switch {
			case f.allowed && err != nil:
				t.Errorf("CheckURL(%s) with host.example at %s: %v, want accepted", u, f.addr, err)
			case !f.allowed && !errors.As(err, &inv):
				t.Errorf("CheckURL(%s) with host.example at %s: %v, want an *InvalidError", u, f.addr, err)
			}
		}
	}
}

// TestAddressFormsAtDial resolves a host to each refused form when
// connecting (DNS changed since registration, or a literal address): the
// dial fails with ErrForbiddenAddress and never reaches the dialer's own
// Control, which records the call and refuses it, so that even a broken
// check connects nowhere. Allowed forms are not dialled at all.
func TestAddressFormsAtDial(t *testing.T) {
	var calls atomic.Int32
	d := &net.Dialer{Control: func(_, address string, _ syscall.RawConn) error {
		calls.Add(1)
		return errors.New("test dialer: would connect to " + address)
	}}
	for _, f := range addressForms {
		if f.allowed {
			continue
		}
		ip := netip.MustParseAddr(f.addr)
		dial := webhook.Policy{Resolver: stub{"host.example": {ip}}}.DialContext(d)
		for _, addr := range []string{"host.example:443", net.JoinHostPort(f.addr, "443")} {
			before := calls.Load()
			c, err := dial(context.Background(), "tcp", addr)
			if c != nil {
				_ = c.Close()
			}
			if !errors.Is(err, webhook.ErrForbiddenAddress) || calls.Load() != before {
				t.Errorf("dial %s (%s): %v, %d calls of the dialer's Control; want ErrForbiddenAddress and none",
					addr, f.addr, err, calls.Load()-before)
			}
		}
	}
}
