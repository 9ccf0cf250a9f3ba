package faulttest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/invoicing-dev/invoicing/internal/notification/notifysmtp/smtptest"
	"github.com/invoicing-dev/invoicing/internal/notification/webhook"
)

// hookReceiver is a webhook receiver on loopback that counts deliveries by
// webhook-id.
type hookReceiver struct {
	addr string
	mu   sync.Mutex
	got  map[string]int // webhook-id → requests
	bad  []string       // deliveries whose webhook-id is not their event's id
}

func newHookReceiver(t *testing.T) *hookReceiver {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r := &hookReceiver{addr: ln.Addr().String(), got: map[string]int{}}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(io.LimitReader(req.Body, 1<<20))
		var ev struct{ ID string }
		_ = json.Unmarshal(body, &ev)
		id := req.Header.Get(webhook.HeaderID)
		r.mu.Lock()
		defer r.mu.Unlock()
		if ev.ID != id && len(r.bad) < 10 {
			r.bad = append(r.bad, fmt.Sprintf("webhook-id %q on the body of event %q", id, ev.ID))
		}
		r.got[id]++
	}), ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return r
}

// url returns the endpoint URL of tenant.
func (r *hookReceiver) url(tenant string) string { return "http://" + r.addr + "/hook/" + tenant }

func (r *hookReceiver) counts() (map[string]int, []string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return clone(r.got), slices.Clone(r.bad)
}

func clone(m map[string]int) map[string]int {
	out := make(map[string]int, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// committedEvents returns every outbox row.
func committedEvents(ctx context.Context, dbURL string) ([]outboxRow, error) {
	db, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		return nil, err
	}
	defer db.Close(context.Background())
	return queryOutbox(ctx, db)
}

// emailedTypes are the event types the notification context emails about.
var emailedTypes = []string{"invoice.issued", "invoice.paid", "invoice.voided"}

// deliveries is what the notification context sent for the committed
// events: emails and webhooks, with those sent again and those missing,
// and its River tasks by state.
type deliveries struct {
	emailsWanted, emailed, emails int
	emailedAgain                  []string // event ids emailed more than once
	emailsMissing                 []string
	messageIDsPerEvent            []string // events emailed under more than one Message-ID
	hooksWanted, hooked, hooks    int
	hookedAgain                   []string // webhook-ids delivered more than once
	hooksMissing                  []string
	hookIDMismatches              []string
	tasks                         map[string]int // River tasks by state
}

func (d deliveries) String() string {
	return fmt.Sprintf("emails: %d events to email, %d emailed (%d messages; %d events emailed again, e.g. %v), %d missing; "+
		"webhooks: %d events, %d delivered (%d requests; %d delivered again, e.g. %v), %d missing; River tasks: %s",
		d.emailsWanted, d.emailed, d.emails, len(d.emailedAgain), d.emailedAgain[:min(3, len(d.emailedAgain))], len(d.emailsMissing),
		d.hooksWanted, d.hooked, d.hooks, len(d.hookedAgain), d.hookedAgain[:min(3, len(d.hookedAgain))], len(d.hooksMissing),
		counts(d.tasks))
}

// problems returns the broken guarantees: a missing email or webhook, an
// event emailed under two Message-IDs, a webhook-id not its event's, a task
// not completed.
func (d deliveries) problems() []string {
	var out []string
	if n := len(d.emailsMissing); n > 0 {
		out = append(out, fmt.Sprintf("%d events not emailed, e.g. %v", n, d.emailsMissing[:min(5, n)]))
	}
	if n := len(d.messageIDsPerEvent); n > 0 {
		out = append(out, fmt.Sprintf("%d events emailed under more than one Message-ID: %v", n, d.messageIDsPerEvent[:min(5, n)]))
	}
	if n := len(d.hooksMissing); n > 0 {
		out = append(out, fmt.Sprintf("%d events not delivered to their webhook endpoint, e.g. %v", n, d.hooksMissing[:min(5, n)]))
	}
	if n := len(d.hookIDMismatches); n > 0 {
		out = append(out, fmt.Sprintf("webhooks with the wrong id: %v", d.hookIDMismatches))
	}
	for state, n := range d.tasks {
		if state != "completed" && n > 0 {
			out = append(out, fmt.Sprintf("%d River tasks %s, want every task completed (none left running by a dead connection)", n, state))
		}
	}
	slices.Sort(out)
	return out
}

// settled reports whether nothing is missing and no task is unfinished.
func (d deliveries) settled() bool {
	for state, n := range d.tasks {
		if n > 0 && state != "completed" && state != "discarded" && state != "cancelled" {
			return false
		}
	}
	return len(d.emailsMissing) == 0 && len(d.hooksMissing) == 0
}

// waitNotified waits until every event was emailed (if its type is) and
// delivered by webhook, and no River task is unfinished, or timeout passes;
// it returns what was sent.
func waitNotified(ctx context.Context, dbURL string, events []outboxRow, mail *smtptest.Server, hooks *hookReceiver, timeout time.Duration) deliveries {
	deadline := time.Now().Add(timeout)
	for {
		d, err := notified(ctx, dbURL, events, mail, hooks)
		if err == nil && d.settled() || time.Now().After(deadline) {
			if err != nil {
				d.tasks = map[string]int{"unknown: " + err.Error(): 1}
			}
			return d
		}
		time.Sleep(250 * time.Millisecond)
	}
}

func notified(ctx context.Context, dbURL string, events []outboxRow, mail *smtptest.Server, hooks *hookReceiver) (deliveries, error) {
	var d deliveries
	byEvent := map[string]map[string]int{} // event id → Message-ID → messages
	for _, m := range mail.Messages() {
		ev := m.Header.Get("X-Invoicing-Event-Id")
		if byEvent[ev] == nil {
			byEvent[ev] = map[string]int{}
		}
		byEvent[ev][m.MessageID()]++
		d.emails++
	}
	got, bad := hooks.counts()
	d.hookIDMismatches = bad
	for _, n := range got {
		d.hooks += n
	}
	for _, e := range events {
		d.hooksWanted++
		switch n := got[e.id]; {
		case n == 0:
			d.hooksMissing = append(d.hooksMissing, e.id)
		case n > 1:
			d.hookedAgain = append(d.hookedAgain, e.id)
			fallthrough
		default:
			d.hooked++
		}
		if !slices.Contains(emailedTypes, e.typ) {
			continue
		}
		d.emailsWanted++
		mids := byEvent[e.id]
		messages := 0
		for _, n := range mids {
			messages += n
		}
		switch {
		case messages == 0:
			d.emailsMissing = append(d.emailsMissing, e.id)
			continue
		case messages > 1:
			d.emailedAgain = append(d.emailedAgain, e.id)
		}
		d.emailed++
		if len(mids) > 1 {
			d.messageIDsPerEvent = append(d.messageIDsPerEvent, e.id)
		}
	}
	qctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	db, err := pgx.Connect(qctx, dbURL)
	if err != nil {
		return d, err
	}
	defer db.Close(context.Background())
	rows, err := db.Query(qctx, `SELECT state::text, count(*)::int FROM notification.river_job GROUP BY state`)
	if err != nil {
		return d, err
	}
	d.tasks = map[string]int{}
	var state string
	var n int
	_, err = pgx.ForEachRow(rows, []any{&state, &n}, func() error { d.tasks[state] = n; return nil })
	return d, err
}

// checkFeeds reads every tenant's event feed from the start through a serve
// process and returns an error unless the feeds together hold every
// committed event exactly once, each invoice's in version order.
func checkFeeds(ctx context.Context, sys *system, events []outboxRow) error {
	seen := map[string]int{}
	var errs []error
	for _, c := range sys.clients {
		lastVersion := map[string]int64{}
		after := int64(0)
		for {
			var page struct {
				Data []struct {
					ID             string `json:"id"`
					Subject        string `json:"subject"`
					InvoiceVersion int64  `json:"invoiceversion"`
				} `json:"data"`
				NextAfter int64 `json:"next_after"`
			}
			if err := c.get(ctx, fmt.Sprintf("/v1/events?after=%d&limit=1000", after), &page); err != nil {
				return fmt.Errorf("the feed of %s after %d: %w", c.tenant, after, err)
			}
			if len(page.Data) == 0 {
				break
			}
			for _, e := range page.Data {
				seen[e.ID]++
				if e.InvoiceVersion <= lastVersion[e.Subject] {
					errs = append(errs, fmt.Errorf("feed of %s: invoice %s v%d after v%d", c.tenant, e.Subject, e.InvoiceVersion, lastVersion[e.Subject]))
				}
				lastVersion[e.Subject] = e.InvoiceVersion
			}
			after = page.NextAfter
		}
	}
	var missing, twice int
	for _, e := range events {
		switch seen[e.id] {
		case 0:
			missing++
		case 1:
		default:
			twice++
		}
	}
	if missing > 0 || twice > 0 || len(seen) != len(events) {
		errs = append(errs, fmt.Errorf("the feeds hold %d events for %d committed: %d missing, %d more than once", len(seen), len(events), missing, twice))
	}
	if len(errs) > 5 {
		errs = append(errs[:5], fmt.Errorf("and %d more", len(errs)-5))
	}
	return errors.Join(errs...)
}

// get reads path from a serve process into v, failing on anything but a
// 200 (no retries: the feed is read once the cluster is whole).
func (c *client) get(ctx context.Context, path string, v any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.bases[0]+path, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+c.key)
	res, err := c.http.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		return err
	}
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %d %s", path, res.StatusCode, strings.TrimSpace(string(b)))
	}
	return json.Unmarshal(b, v)
}
