package notifysmtp

import (
	"errors"
	"fmt"
	"net/url"
	"strconv"
)

// CheckURL returns an error unless v is a URL the Mailer takes:
// smtp://host:port or smtps://host:port, user:password@ optional, and
// nothing the Mailer would not read.
func CheckURL(v string) error {
	u, err := url.Parse(v)
	if err != nil || (u.Scheme != "smtp" && u.Scheme != "smtps") || u.Hostname() == "" || u.Port() == "" {
		return errors.New("must be empty, smtp://host:port or smtps://host:port")
	}
	if n, err := strconv.ParseUint(u.Port(), 10, 16); err != nil || n == 0 {
		return fmt.Errorf("port %q must be a number from 1 to 65535", u.Port())
	}
	// The mailer reads only the scheme, user, host and port: anything
	// else would be taken for a setting and silently ignored.
	switch {
	case u.Path != "" && u.Path != "/":
		return errors.New("must have no path: smtp://host:port or smtps://host:port")
	case u.RawQuery != "" || u.ForceQuery:
		return errors.New("must have no query: smtp://host:port or smtps://host:port")
	case u.Fragment != "":
		return errors.New("must have no fragment: smtp://host:port or smtps://host:port")
	}
	return nil
}
