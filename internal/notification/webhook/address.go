package webhook

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"strings"
	"syscall"
)

// Resolver looks up a host's addresses; *net.Resolver is one. Tests give a
// stub, so that no address they refuse is ever connected to.
type Resolver interface {
	LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error)
}

// ErrForbiddenAddress marks a URL or a connection to an address webhooks may
// not reach: loopback, private, link-local, multicast, unspecified, or a
// cloud metadata address.
var ErrForbiddenAddress = errors.New("webhook: address not allowed")

// reserved are ranges no public receiver lives in that net/netip does not
// classify: shared (CGNAT), protocol, benchmarking and reserved space, and
// the metadata addresses among them. (Cloud metadata at 169.254.169.254 is
// link-local; fd00:ec2::254 is private.)
var reserved = []netip.Prefix{
	netip.MustParsePrefix("100.100.100.200/32"), // Alibaba Cloud
	netip.MustParsePrefix("100.64.0.0/10"),      // carrier-grade NAT, not the internet
	netip.MustParsePrefix("192.0.0.0/24"),       // IETF protocol assignments
	netip.MustParsePrefix("198.18.0.0/15"),      // benchmarking
	netip.MustParsePrefix("240.0.0.0/4"),        // reserved
}

// Allowed reports whether a webhook may connect to ip: a global unicast
// address, outside the private, shared and reserved ranges.
func Allowed(ip netip.Addr) bool {
	ip = ip.Unmap()
	if !ip.IsValid() || !ip.IsGlobalUnicast() || ip.IsPrivate() || ip.IsLoopback() ||
		ip.IsLinkLocalUnicast() || ip.IsMulticast() || ip.IsUnspecified() {
		return false
	}
	for _, p := range reserved {
		if p.Contains(ip) {
			return false
		}
	}
	return true
}

// Policy is where webhooks may go.
type Policy struct {
	// AllowPrivate lifts the checks: http URLs and every address are
	// allowed (WEBHOOK_ALLOW_PRIVATE_URLS, for development and tests).
	AllowPrivate bool
	// Resolver looks hosts up. Nil: net.DefaultResolver.
	Resolver Resolver
}

func (p Policy) resolver() Resolver {
	if p.Resolver == nil {
		return net.DefaultResolver
	}
	return p.Resolver
}

// CheckURL returns an *InvalidError (field url) unless raw is an absolute
// https URL without credentials or fragment whose host resolves only to
// allowed addresses (any http(s) URL under AllowPrivate).
func (p Policy) CheckURL(ctx context.Context, raw string) error {
	bad := func(msg string) error { return &InvalidError{Field: "url", Message: msg} }
	if len(raw) > MaxURLLength {
		return bad(fmt.Sprintf("must be at most %d bytes", MaxURLLength))
	}
	u, err := url.Parse(raw)
	if err != nil || !u.IsAbs() || u.Host == "" || u.Opaque != "" {
		return bad("must be an absolute URL such as https://example.com/webhooks")
	}
	if u.User != nil || u.Fragment != "" {
		return bad("must not carry credentials or a fragment")
	}
	switch {
	case u.Scheme == "https":
	case u.Scheme == "http" && p.AllowPrivate:
	default:
		return bad("must be an https URL")
	}
	if p.AllowPrivate {
		return nil
	}
	host := u.Hostname()
	if ip, err := netip.ParseAddr(host); err == nil {
		if !Allowed(ip) {
			return bad(fmt.Sprintf("%s is a loopback, private, link-local, multicast or metadata address", ip))
		}
		return nil
	}
	if strings.EqualFold(host, "localhost") || strings.HasSuffix(strings.ToLower(host), ".localhost") {
		return bad("must not name localhost")
	}
	ips, err := p.resolver().LookupNetIP(ctx, "ip", host)
	if err != nil || len(ips) == 0 {
		return bad(fmt.Sprintf("host %q does not resolve", host))
	}
	for _, ip := range ips {
		if !Allowed(ip) {
			return bad(fmt.Sprintf("host %q resolves to %s, a loopback, private, link-local, multicast or metadata address", host, ip.Unmap()))
		}
	}
	return nil
}

// DialContext returns a dial function for an http.Transport that resolves
// with the policy's resolver and refuses, before connecting, any address not
// Allowed (unless AllowPrivate): DNS may have changed since registration.
// Its errors wrap ErrForbiddenAddress for such addresses.
func (p Policy) DialContext(d *net.Dialer) func(ctx context.Context, network, addr string) (net.Conn, error) {
	dd := *d
	if !p.AllowPrivate {
		// Control runs after the socket is made and before it connects:
		// the last word on the address actually dialled.
		dd.Control = func(_, address string, _ syscall.RawConn) error {
			ap, err := netip.ParseAddrPort(address)
			if err != nil || !Allowed(ap.Addr()) {
				return fmt.Errorf("%w: %s", ErrForbiddenAddress, address)
			}
			return nil
		}
	}
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		if p.Resolver == nil {
			return dd.DialContext(ctx, network, addr)
		}
		host, port, err := net.SplitHostPort(addr)
		if err != nil {
			return nil, err
		}
		ips := []netip.Addr{}
		if ip, err := netip.ParseAddr(host); err == nil {
			ips = append(ips, ip)
		} else if ips, err = p.Resolver.LookupNetIP(ctx, "ip", host); err != nil {
			return nil, err
		}
		var errs []error
		for _, ip := range ips {
			c, err := dd.DialContext(ctx, network, net.JoinHostPort(ip.Unmap().String(), port))
			if err == nil {
				return c, nil
			}
			errs = append(errs, err)
		}
		return nil, errors.Join(append(errs, fmt.Errorf("webhook: %s: no address to connect to", host))...)
	}
}
