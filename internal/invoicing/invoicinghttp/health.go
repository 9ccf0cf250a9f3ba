package invoicinghttp

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// DefaultCheckTimeout bounds the checks of one GET /readyz when
// Config.CheckTimeout is 0.
const DefaultCheckTimeout = 2 * time.Second

// Check is one condition GET /readyz verifies, e.g. "database", or one it
// only reports (Report).
type Check struct {
	// Name identifies the check in the response: short and stable.
	Name string
	// Run returns nil if the condition holds, within ctx's deadline. Its
	// error is logged, never shown: the response gives the Reason of an
	// *Unready in the error's chain, else "timeout" or "failed". A nil Run
	// (and Report) means the check does not apply to this process: it is
	// reported as skipped.
	Run func(ctx context.Context) error
	// Report, set instead of Run, makes the check advisory: it never fails
	// readiness, whatever it finds. It returns a count shown in the
	// response under the check's CountName, within ctx's deadline; a count
	// above zero shows the status "warning" with Warning as its reason. An
	// error shows the status "unknown" and is logged, never shown.
	Report func(ctx context.Context) (count int64, err error)
	// CountName and Warning describe what Report counts, e.g. "parked" and
	// "events parked: see `invoicing outbox failed`".
	CountName, Warning string
	// Advisory, with Run, makes the check never fail readiness: a failing
	// Run shows the status "warning" with the reason it would have failed
	// with.
	Advisory bool
}

// Unready is a check failure whose Reason is safe to show anyone: short,
// with no address, credential or error text of a dependency.
type Unready struct {
	Reason string
	// Starting marks a condition this process is about to clear itself
	// (a stream its relay creates on first leading): it fails the check
	// as any other, but is logged at debug, not as a failure.
	Starting bool
}

// Error returns the reason.
func (u *Unready) Error() string { return u.Reason }

// checkResult is one check in the body of GET /readyz.
type checkResult struct {
	Status string // ok, failed, skipped; or for an advisory check ok, warning, unknown
	Reason string // omitted when ""
	// The count of an advisory check, shown under its name (e.g. "parked").
	countName string
	count     int64
}

// MarshalJSON returns {"status":…,"reason":…} with an advisory check's count
// beside them, e.g. {"status":"warning","reason":"…","parked":2}.
func (c checkResult) MarshalJSON() ([]byte, error) {
	b, err := json.Marshal(struct {
		Status string `json:"status"`
		Reason string `json:"reason,omitempty"`
	}{c.Status, c.Reason})
	if err != nil || c.countName == "" {
		return b, err
	}
	name, err := json.Marshal(c.countName)
	if err != nil {
		return nil, err
	}
	b = append(append(append(b[:len(b)-1], ','), name...), ':')
	return append(strconv.AppendInt(b, c.count, 10), '}'), nil
}

// readiness is the body of GET /readyz.
type readiness struct {
	Status  string                 `json:"status"`            // ready or unavailable
	Failing []string               `json:"failing,omitempty"` // the names of the failed checks, in Config order
	Checks  map[string]checkResult `json:"checks"`
}

// ready serves GET /readyz. It remembers each check's last outcome, so it
// logs only changes: a database that is down for a minute is one warning,
// not one per probe.
type ready struct {
	checks  []Check
	timeout time.Duration
	log     *slog.Logger

	mu     sync.Mutex
	failed map[string]bool
}

// healthz serves GET /healthz: the process is up and serving HTTP. It
// checks nothing else, so an orchestrator restarts the process only when it
// is truly stuck, not when a dependency is down.
func healthz(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, r, http.StatusOK, map[string]string{"status": "ok"})
}

// ServeHTTP runs every check concurrently under one timeout and answers 200
// if all hold (or are skipped), else 503 naming the failed ones.
func (rd *ready) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), rd.timeout)
	defer cancel()
	errs := make([]error, len(rd.checks))
	counts := make([]int64, len(rd.checks))
	var wg sync.WaitGroup
	for i, c := range rd.checks {
		switch {
		case c.Run != nil:
			wg.Go(func() { errs[i] = c.Run(ctx) })
		case c.Report != nil:
			wg.Go(func() { counts[i], errs[i] = c.Report(ctx) })
		}
	}
	wg.Wait()

	body := readiness{Status: "ready", Checks: make(map[string]checkResult, len(rd.checks))}
	for i, c := range rd.checks {
		res := checkResult{Status: "ok"}
		switch err := errs[i]; {
		case c.Run == nil && c.Report == nil:
			res.Status = "skipped"
		case c.Run == nil:
			res = advice(c, counts[i], err)
		case err != nil && c.Advisory:
			res = checkResult{Status: "warning", Reason: reason(err)}
		case err != nil:
			res = checkResult{Status: "failed", Reason: reason(err)}
			body.Failing = append(body.Failing, c.Name)
		}
		rd.logChange(r.Context(), c.Name, errs[i])
		body.Checks[c.Name] = res
	}
	status := http.StatusOK
	if len(body.Failing) > 0 {
		body.Status, status = "unavailable", http.StatusServiceUnavailable
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, r, status, body)
}

// advice returns the result of advisory check c that counted count, or
// failed with err.
func advice(c Check, count int64, err error) checkResult {
	switch {
	case err != nil:
		return checkResult{Status: "unknown"}
	case count > 0:
		return checkResult{Status: "warning", Reason: c.Warning, countName: c.CountName, count: count}
	default:
		return checkResult{Status: "ok", countName: c.CountName}
	}
}

// reason returns the text shown for a failed check's err.
func reason(err error) string {
	var u *Unready
	switch {
	case errors.As(err, &u):
		return u.Reason
	case errors.Is(err, context.DeadlineExceeded):
		return "timeout"
	default:
		return "failed"
	}
}

// logChange logs a check that starts failing, with its error, or recovers;
// a failure marked Starting it logs at debug only, and not as a failure.
func (rd *ready) logChange(ctx context.Context, name string, err error) {
	if u := (*Unready)(nil); errors.As(err, &u) && u.Starting {
		rd.log.DebugContext(ctx, "readiness check waits for start-up", slog.String("check", name), slog.String("reason", u.Reason))
		err = nil // nothing failed: neither a failure nor, later, a recovery
	}
	rd.mu.Lock()
	was := rd.failed[name]
	rd.failed[name] = err != nil
	rd.mu.Unlock()
	switch {
	case err != nil && !was:
		rd.log.WarnContext(ctx, "readiness check failed", slog.String("check", name), slog.Any("err", err))
	case err == nil && was:
		rd.log.InfoContext(ctx, "readiness check recovered", slog.String("check", name))
	}
}
