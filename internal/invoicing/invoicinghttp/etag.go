package invoicinghttp

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/invoicing-dev/invoicing/internal/invoicing/app"
)

// etag returns the strong entity tag of an invoice version, e.g. "v3". The
// version changes with every change of the invoice, so it identifies the
// representation.
func etag(version int64) string {
	return `"v` + strconv.FormatInt(version, 10) + `"`
}

// ifMatch returns the app.Condition the request's If-Match asks for: none if
// it is absent or "*" (the invoice exists, which the use case checks anyway);
// otherwise the versions its strong tags name. A weak or foreign tag can match
// no version (If-Match compares strongly), so a header naming only such tags
// allows none.
func ifMatch(r *http.Request) app.Condition {
	tags, ok := entityTags(r, "If-Match")
	if !ok || (len(tags) == 1 && tags[0] == "*") {
		return app.Condition{}
	}
	var versions []int64
	for _, tag := range tags {
		if v, ok := versionOf(tag); ok {
			versions = append(versions, v)
		}
	}
	return app.IfVersion(versions...)
}

// notModified reports whether the request's If-None-Match names tag, which
// it compares weakly (W/"v3" matches "v3"), or is "*".
func notModified(r *http.Request, tag string) bool {
	tags, _ := entityTags(r, "If-None-Match")
	for _, t := range tags {
		if t == "*" || strings.TrimPrefix(t, "W/") == tag {
			return true
		}
	}
	return false
}

// entityTags returns the comma-separated entity tags of every header line
// named name, and whether there was any.
func entityTags(r *http.Request, name string) ([]string, bool) {
	lines := r.Header.Values(name)
	var tags []string
	for _, line := range lines {
		for t := range strings.SplitSeq(line, ",") {
			if t = strings.TrimSpace(t); t != "" {
				tags = append(tags, t)
			}
		}
	}
	return tags, len(lines) > 0
}

// versionOf returns the version named by a strong tag of ours ("v3").
func versionOf(tag string) (int64, bool) {
	rest, ok := strings.CutPrefix(tag, `"v`)
	if !ok || !strings.HasSuffix(rest, `"`) {
		return 0, false
	}
	v, err := strconv.ParseInt(strings.TrimSuffix(rest, `"`), 10, 64)
	return v, err == nil && v >= 1
}
