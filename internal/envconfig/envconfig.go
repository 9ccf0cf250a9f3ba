// Package envconfig parses the values of environment variables into the
// fields of a program's configuration: each function returns the setter of
// one kind of value (a bounded number, a duration, a flag), which stores a
// valid value in the field it is given and otherwise returns an error
// saying what the value must be. The table of variables, their defaults and
// the configuration they fill stay with each context (Var), as does the
// help of a context's own commands (Command), which help.go writes.
package envconfig

import (
	"errors"
	"fmt"
	"net"
	"regexp"
	"strconv"
	"time"
)

// MinInterval is the shortest period of a loop that queries the database
// (RELAY_POLL_INTERVAL, OVERDUE_INTERVAL): below it, a typo such as 1ns
// would run that query back to back.
const MinInterval = 10 * time.Millisecond

// Interval parses the period of such a loop: at least MinInterval, or 0
// (the loop is off) if off is allowed.
func Interval[C any](off bool, field func(*C) *time.Duration) func(*C, string) error {
	return func(c *C, v string) error {
		d, err := time.ParseDuration(v)
		switch {
		case err == nil && (d >= MinInterval || off && d == 0):
			*field(c) = d
			return nil
		case off:
			return fmt.Errorf("must be 0 or a duration of at least %s such as 1m", MinInterval)
		default:
			return fmt.Errorf("must be a duration of at least %s such as 1s", MinInterval)
		}
	}
}

// Duration parses a positive duration.
func Duration[C any](field func(*C) *time.Duration) func(*C, string) error {
	return func(c *C, v string) error {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			return errors.New("must be a positive duration such as 500ms, 15s or 2m")
		}
		*field(c) = d
		return nil
	}
}

// BoundedDuration parses a duration from min to max.
func BoundedDuration[C any](min, max time.Duration, field func(*C) *time.Duration) func(*C, string) error {
	return func(c *C, v string) error {
		d, err := time.ParseDuration(v)
		if err != nil || d < min || d > max {
			return fmt.Errorf("must be a duration from %s to %s", min, max)
		}
		*field(c) = d
		return nil
	}
}

// Int parses a whole number from min to max.
func Int[C any](min, max int, field func(*C) *int) func(*C, string) error {
	return func(c *C, v string) error {
		n, err := strconv.Atoi(v)
		if err != nil || n < min || n > max {
			return fmt.Errorf("must be a whole number from %d to %d", min, max)
		}
		*field(c) = n
		return nil
	}
}

// Bool parses true or false, in any form strconv.ParseBool takes.
func Bool[C any](field func(*C) *bool) func(*C, string) error {
	return func(c *C, v string) error {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return errors.New("must be true or false")
		}
		*field(c) = b
		return nil
	}
}

// ListenAddr checks that v is an address net.Listen takes for TCP: host:port
// with an empty host, an IP or a host name, and a port number (0: any). It
// returns an error saying which part is wrong.
func ListenAddr(v string) error {
	host, port, err := net.SplitHostPort(v)
	if err != nil {
		return errors.New("must be host:port, such as :8080 or 127.0.0.1:8080")
	}
	if _, err := strconv.ParseUint(port, 10, 16); err != nil {
		return fmt.Errorf("port %q must be a number from 0 to 65535", port)
	}
	if host != "" && net.ParseIP(host) == nil && !hostName.MatchString(host) {
		return fmt.Errorf("host %q is neither an IP address nor a host name", host)
	}
	return nil
}

// LoopbackAddr returns addr (host:port) as a client on this machine dials
// it: an empty or unspecified host becomes 127.0.0.1.
func LoopbackAddr(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return addr
	}
	if ip := net.ParseIP(host); host == "" || ip != nil && ip.IsUnspecified() {
		host = "127.0.0.1"
	}
	return net.JoinHostPort(host, port)
}

// hostName matches a DNS name: dot-separated labels of letters, digits,
// hyphens and underscores.
var hostName = regexp.MustCompile(`^[A-Za-z0-9_]([A-Za-z0-9_-]{0,62})(\.[A-Za-z0-9_]([A-Za-z0-9_-]{0,62}))*\.?$`)

// Passwords in URLs (user:password@, ?password=) as they appear in a
// configuration error.
var (
	userPassword  = regexp.MustCompile(`(://[^:/@\s,"]*:)[^/@\s,"]*@`)
	queryPassword = regexp.MustCompile(`(password=)[^&\s,"]*`)
)

// HidePasswords returns s with the passwords of any URLs in it replaced by
// xxxxx, so an invalid DATABASE_URL or NATS_URL can be shown in a log.
func HidePasswords(s string) string {
	return queryPassword.ReplaceAllString(userPassword.ReplaceAllString(s, "${1}xxxxx@"), "${1}xxxxx")
}

// Var is one environment variable of a configuration C: its name, its
// default (used when the variable is unset or empty), what it means, and
// the setter that checks a value and stores it in C. A context keeps the
// table of its own variables; a program puts the tables together.
type Var[C any] struct {
	Name, Default, Usage string
	Set                  func(c *C, v string) error
}
