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

	"code.dny.dev/ssrf"
)

// Resolver looks up a host's addresses; *net.Resolver is one. Tests give a
// stub, so that no address they refuse is ever connected to.
type Resolver interface {
	LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error)
}

// ErrForbiddenAddress marks a URL or a connection to an address webhooks may
// not reach: any but a public unicast address (Allowed).
var ErrForbiddenAddress = errors.New("webhook: address not allowed")

// guardian holds the IANA special-purpose registries of IPv4 and IPv6
// (code.dny.dev/ssrf, generated from them) and refuses every IPv6 address
// outside global unicast (2000::/3). That refuses whole prefixes whose
// addresses embed an IPv4 one, whichever it is: NAT64 (64:ff9b::/96,
// 64:ff9b:1::/48), IPv4-compatible and IPv4-translated (within ::/8), 6to4
// (2002::/16) and Teredo (2001::/32). Ports and networks are the URL's
// business, not the address check's.
var guardian = ssrf.New(ssrf.WithAnyPort(), ssrf.WithAnyNetwork())

// Allowed reports whether a webhook may connect to ip: a public unicast
// address, in no special-purpose range (loopback, private, shared,
// link-local, multicast, documentation, reserved, metadata and the rest).
// An IPv4-mapped address is judged as the IPv4 address it is dialled as.
func Allowed(ip netip.Addr) bool {
	return ip.IsValid() && guardian.SafeAddr(ip.Unmap()) == nil
}

// Policy is where webhooks may go.
type Policy struct {
	// AllowPrivate lifts the checks: http URLs and every address are
	// allowed (WEBHOOK_ALLOW_PRIVATE_URLS, for development and tests).
	AllowPrivate bool
	// PrivateHint, if set, ends each refusal that AllowPrivate would lift
	// (an http URL, a loopback, private or other non-public address),
	// saying how to lift it, e.g. the setting that sets AllowPrivate.
	PrivateHint string
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
	private := func(msg string) error {
		if p.PrivateHint != "" {
			msg += " (" + p.PrivateHint + ")"
		}
		return bad(msg)
	}
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
	case u.Scheme == "http":
		return private("must be an https URL")
	default:
		return bad("must be an https URL")
	}
	if p.AllowPrivate {
		return nil
	}
	host := u.Hostname()
	if ip, err := netip.ParseAddr(host); err == nil {
		if !Allowed(ip) {
			return private(fmt.Sprintf("%s is not a public address (it is loopback, private, link-local, multicast, reserved or special-purpose)", ip))
		}
		return nil
	}
	if strings.EqualFold(host, "localhost") || strings.HasSuffix(strings.ToLower(host), ".localhost") {
		return private("must not name localhost")
	}
	ips, err := p.resolver().LookupNetIP(ctx, "ip", host)
	if err != nil || len(ips) == 0 {
		return bad(fmt.Sprintf("host %q does not resolve", host))
	}
	for _, ip := range ips {
		if !Allowed(ip) {
			return private(fmt.Sprintf("host %q resolves to %s, not a public address (it is loopback, private, link-local, multicast, reserved or special-purpose)", host, ip.Unmap()))
		}
	}
	return nil
}

// DialContext returns a dial function for an http.Transport that resolves
// with the policy's resolver and refuses, before connecting, any address not
// Allowed (unless AllowPrivate): DNS may have changed since registration.
// Its errors wrap ErrForbiddenAddress for such addresses. d's own Control
// or ControlContext, if any, runs after the check.
func (p Policy) DialContext(d *net.Dialer) func(ctx context.Context, network, addr string) (net.Conn, error) {
	dd := *d
	if !p.AllowPrivate {
		// ControlContext runs after the socket is made and before it
		// connects: the last word on the address actually dialled, where
		// Go's resolver chose it. It takes precedence over Control, so it
		// is the one set, and it calls d's.
		ctl, ctlCtx := d.Control, d.ControlContext
		dd.Control = nil
		dd.ControlContext = func(ctx context.Context, network, address string, c syscall.RawConn) error {
			ap, err := netip.ParseAddrPort(address)
			if err != nil || !Allowed(ap.Addr()) {
				return fmt.Errorf("%w: %s", ErrForbiddenAddress, address)
			}
			switch {
			case ctlCtx != nil:
				return ctlCtx(ctx, network, address, c)
			case ctl != nil:
				return ctl(network, address, c)
			}
			return nil
		}
	}
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		host, port, err := net.SplitHostPort(addr)
		if err != nil {
			return nil, err
		}
		var ips []netip.Addr
		if ip, err := netip.ParseAddr(host); err == nil {
			ips = []netip.Addr{ip}
		} else if p.Resolver == nil {
			return dd.DialContext(ctx, network, addr)
		} else if ips, err = p.Resolver.LookupNetIP(ctx, "ip", host); err != nil {
			return nil, err
		}
		var errs []error
		for _, ip := range ips {
			if !p.AllowPrivate && !Allowed(ip) {
				// Refused before a socket is even made.
				errs = append(errs, fmt.Errorf("%w: %s", ErrForbiddenAddress, ip))
				continue
			}
			c, err := dd.DialContext(ctx, network, net.JoinHostPort(ip.Unmap().String(), port))
			if err == nil {
				return c, nil
			}
			errs = append(errs, err)
		}
		return nil, errors.Join(append(errs, fmt.Errorf("webhook: %s: no address to connect to", host))...)
	}
}
