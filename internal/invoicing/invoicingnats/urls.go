package invoicingnats

import (
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
)

// CheckURLs checks a comma-separated list of NATS server URLs as nats.go will
// dial them: each with a scheme nats.go knows (nats, tls, ws, wss; nats.go
// would dial any other as plain TCP), a host and, if given, a port from 1 to
// 65535; websocket and plain URLs not mixed, which nats.go refuses. Unlike
// nats.go, it wants the scheme written out and no empty entries: a stray
// comma more likely means a server left out. It returns an error saying
// which entry is wrong and why.
func CheckURLs(v string) error {
	var websocket []bool
	for i, s := range strings.Split(v, ",") {
		s = strings.TrimSpace(s)
		if s == "" {
			return fmt.Errorf("entry %d is empty", i+1)
		}
		u, err := url.Parse(s)
		if err != nil || u.Host == "" {
			return fmt.Errorf("entry %d is not a URL such as nats://host:4222", i+1)
		}
		switch u.Scheme {
		case "nats", "tls":
			websocket = append(websocket, false)
		case "ws", "wss":
			websocket = append(websocket, true)
		default:
			return fmt.Errorf("entry %d: scheme %q is not nats, tls, ws or wss", i+1, u.Scheme)
		}
		if u.Hostname() == "" {
			return fmt.Errorf("entry %d names no host", i+1)
		}
		if p := u.Port(); p != "" {
			if n, err := strconv.ParseUint(p, 10, 16); err != nil || n == 0 {
				return fmt.Errorf("entry %d: port %q must be a number from 1 to 65535", i+1, p)
			}
		}
		if websocket[i] != websocket[0] {
			return errors.New("mixes websocket (ws, wss) and plain (nats, tls) URLs")
		}
	}
	return nil
}
