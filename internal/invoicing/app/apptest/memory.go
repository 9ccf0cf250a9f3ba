// Package apptest holds what the app's tests and the adapters' tests share:
// an in-memory repository of invoices with its read ports (one invoice, its
// lines, the lists, an invoice's history, the feed), and the contract every implementation of app.Invoices and those
// ports must keep (RunInvoicesContract), run against it and against
// PostgreSQL.
package apptest

import (
	"context"
	"errors"
	"slices"
	"sync"

	"github.com/invoicing-dev/invoicing/internal/invoicing/app"
	"github.com/invoicing-dev/invoicing/internal/invoicing/domain/creditnote"
	"github.com/invoicing-dev/invoicing/internal/invoicing/domain/invoice"
	"github.com/invoicing-dev/invoicing/internal/invoicing/outbox"
	"github.com/invoicing-dev/invoicing/internal/kernel"
)

var _ app.Invoices = (*Invoices)(nil)

// Invoices is an app.Invoices in memory, with the read ports of reads.go
// over the same state, and with the PostgreSQL repository's semantics: an
// update holds its invoice's lock from the load to the write (fn runs on a
// private copy; concurrent updates of one invoice queue, of different
// invoices run in parallel), invoice numbers held until the update ends and
// given back if it rolls back, idempotency keys checked first and stored
// with the change, and events kept in commit order.
type Invoices struct {
	mu       sync.Mutex
	invoices map[invoice.ID]invoice.Snapshot
	// totals are the amounts the domain derived for each invoice when it was
	// written, kept beside its state as the PostgreSQL rows keep theirs, so
	// that a list reads them rather than rebuilding the invoice.
	totals   map[invoice.ID]invoice.Totals
	order    []invoice.ID // creation order
	keys     map[keyID]storedKey
	inFlight map[keyID]bool
	locks    map[invoice.ID]*sync.Mutex // an invoice's, held by its update as PostgreSQL's row lock
	counters map[counterID]*counter
	events   []invoice.Event

	creditNotes      []*creditnote.CreditNote // committed, in commit order
	creditNoteEvents []creditnote.Event

	// outbox holds every committed event of both aggregates as the
	// PostgreSQL outbox does, in commit order: what Events serves. seq is
	// the last sequence taken.
	outbox []outbox.EventRecord
	seq    int64
}

type keyID struct {
	tenant kernel.TenantID
	key    string
}

type storedKey struct {
	fingerprint []byte
	result      app.Result
}

type counterID struct {
	tenant      kernel.TenantID
	year        int
	creditNotes bool // the credit notes' sequence, not the invoices'
}

// counter is a tenant's sequence of invoice numbers for a year. Its lock is
// held by the update that takes a number until that update ends, as a row
// lock in PostgreSQL, so numbers stay gapless.
type counter struct {
	lock sync.Mutex
	last int64
}

// NewInvoices returns an empty repository.
func NewInvoices() *Invoices {
	return &Invoices{
		invoices: map[invoice.ID]invoice.Snapshot{}, totals: map[invoice.ID]invoice.Totals{}, keys: map[keyID]storedKey{},
		inFlight: map[keyID]bool{}, locks: map[invoice.ID]*sync.Mutex{}, counters: map[counterID]*counter{},
	}
}

// CreditNotes returns the credit notes committed so far, in commit order,
// and their events.
func (m *Invoices) CreditNotes() ([]*creditnote.CreditNote, []creditnote.Event) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.creditNotes), slices.Clone(m.creditNoteEvents)
}

// Events returns the events committed so far, in commit order.
func (m *Invoices) Events() []invoice.Event {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.events)
}

// Add implements app.Invoices.Add. A duplicate id is an error.
func (m *Invoices) Add(ctx context.Context, inv *invoice.Invoice, opts app.ChangeOptions, result app.Result) (app.Changed, error) {
	events := inv.PullEvents()
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.checkKey(inv.Tenant(), opts.Idempotency); err != nil {
		return app.Changed{}, err
	}
	if _, ok := m.invoices[inv.ID()]; ok {
		return app.Changed{}, errors.New("apptest: duplicate invoice id")
	}
	result, err := app.ResultToStore(opts.Idempotency, result)
	if err != nil {
		return app.Changed{}, err
	}
	m.invoices[inv.ID()], m.totals[inv.ID()] = SnapshotOf(inv), inv.Totals()
	m.order = append(m.order, inv.ID())
	m.events = append(m.events, events...)
	m.outbox = appendRecords(m.outbox, &m.seq, events, app.TraceFrom(ctx))
	m.storeKey(inv.Tenant(), opts.Idempotency, result)
	return app.Changed{Invoice: inv, Result: result}, nil
}

// Update implements app.Invoices.Update as the PostgreSQL repository does:
// check the key, take the invoice's lock and load it, run fn on a private
// copy, then write the new state and events, and release the lock. Holding
// the lock throughout, an update never loses a race. It waits for the lock
// without bound: the PostgreSQL lock timeout (ErrInvoiceBusy) has no
// counterpart here.
func (m *Invoices) Update(ctx context.Context, tenant kernel.TenantID, id invoice.ID, opts app.ChangeOptions, fn app.UpdateFunc) (_ app.Changed, err error) {
	loaded, unlock, err := m.begin(tenant, id, opts.Idempotency)
	if err != nil {
		return app.Changed{}, err
	}
	defer unlock()
	tx := &tx{m: m, trace: app.TraceFrom(ctx)}
	defer func() {
		// Every way out but the write gives the numbers back, a panicking
		// fn's included.
		if p := recover(); p != nil {
			tx.end(false)
			panic(p)
		}
		if err != nil {
			tx.end(false)
		}
	}()
	defer m.release(tenant, opts.Idempotency)

	inv, err := invoice.Rehydrate(loaded)
	if err != nil {
		return app.Changed{}, err
	}
	result, err := fn(ctx, inv, tx)
	if err != nil {
		return app.Changed{}, err
	}
	events := inv.PullEvents()
	if len(events) == 0 {
		tx.end(false)
		return app.Changed{Invoice: inv}, nil
	}
	if result, err = app.ResultToStore(opts.Idempotency, result); err != nil {
		return app.Changed{}, err
	}

	m.mu.Lock()
	defer m.mu.Unlock()
	if m.invoices[id].Version != loaded.Version {
		return app.Changed{}, errors.New("apptest: the invoice changed under its lock")
	}
	m.invoices[id], m.totals[id] = SnapshotOf(inv), inv.Totals()
	// The credit notes' events first, as PostgreSQL writes them: inserted
	// by fn, before the invoice's.
	tx.end(true)
	m.events = append(m.events, events...)
	m.outbox = appendRecords(m.outbox, &m.seq, events, tx.trace)
	m.storeKey(tenant, opts.Idempotency, result)
	return app.Changed{Invoice: inv, Result: result}, nil
}

// begin checks key (marking it in flight), takes the invoice's lock, and
// returns the invoice as stored then, and the function releasing the lock.
func (m *Invoices) begin(tenant kernel.TenantID, id invoice.ID, key *app.IdempotentRequest) (invoice.Snapshot, func(), error) {
	m.mu.Lock()
	if err := m.checkKey(tenant, key); err != nil {
		m.mu.Unlock()
		return invoice.Snapshot{}, nil, err
	}
	if s, ok := m.invoices[id]; !ok || s.Tenant != tenant {
		m.mu.Unlock()
		return invoice.Snapshot{}, nil, invoice.ErrNotFound
	}
	if key != nil {
		m.inFlight[keyID{tenant, key.Key}] = true
	}
	lock, ok := m.locks[id]
	if !ok {
		lock = &sync.Mutex{}
		m.locks[id] = lock
	}
	m.mu.Unlock()

	lock.Lock()
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.invoices[id], lock.Unlock, nil
}

// release ends key's flight. The caller does not hold m.mu.
func (m *Invoices) release(tenant kernel.TenantID, key *app.IdempotentRequest) {
	if key == nil {
		return
	}
	m.mu.Lock()
	delete(m.inFlight, keyID{tenant, key.Key})
	m.mu.Unlock()
}

// checkKey returns the verdict on key, as the PostgreSQL repository's: a
// stored response of the same request is replayed, another request's is
// ErrIdempotencyKeyReused, a key in flight is ErrIdempotencyKeyInUse. The
// caller holds m.mu.
func (m *Invoices) checkKey(tenant kernel.TenantID, key *app.IdempotentRequest) error {
	if key == nil {
		return nil
	}
	k := keyID{tenant, key.Key}
	if stored, ok := m.keys[k]; ok {
		if slices.Equal(stored.fingerprint, key.Fingerprint) {
			return &app.Replayed{Result: cloneResult(stored.result)}
		}
		return app.ErrIdempotencyKeyReused
	}
	if m.inFlight[k] {
		return app.ErrIdempotencyKeyInUse
	}
	return nil
}

// storeKey stores result under key, if any. The caller holds m.mu.
func (m *Invoices) storeKey(tenant kernel.TenantID, key *app.IdempotentRequest, result app.Result) {
	if key != nil {
		m.keys[keyID{tenant, key.Key}] = storedKey{fingerprint: slices.Clone(key.Fingerprint), result: cloneResult(result)}
	}
}

// cloneResult returns r with a View of its own.
func cloneResult(r app.Result) app.Result {
	r.View = slices.Clone(r.View)
	return r
}

// tx is the app.Tx of one update attempt: the counters it took numbers
// from, locked until end.
type tx struct {
	m     *Invoices
	taken map[*counter]int64 // the last number taken from each, not yet committed
	notes []*creditnote.CreditNote
	trace outbox.Trace // the request's, stored with the events
}

// NextInvoiceNumber implements app.Tx. It waits while another update holds
// the counter.
func (t *tx) NextInvoiceNumber(_ context.Context, tenant kernel.TenantID, year int) (int64, error) {
	return t.next(counterID{tenant, year, false}), nil
}

// NextCreditNoteNumber implements app.Tx, as NextInvoiceNumber.
func (t *tx) NextCreditNoteNumber(_ context.Context, tenant kernel.TenantID, year int) (int64, error) {
	return t.next(counterID{tenant, year, true}), nil
}

// AddCreditNote implements app.Tx: the credit note is stored when the
// update commits, with its events.
func (t *tx) AddCreditNote(_ context.Context, cn *creditnote.CreditNote) error {
	t.notes = append(t.notes, cn)
	return nil
}

// next takes the next number of counter id, waiting while another update
// holds it.
func (t *tx) next(id counterID) int64 {
	t.m.mu.Lock()
	c, ok := t.m.counters[id]
	if !ok {
		c = &counter{}
		t.m.counters[id] = c
	}
	t.m.mu.Unlock()
	if t.taken == nil {
		t.taken = map[*counter]int64{}
	}
	n, held := t.taken[c]
	if !held {
		c.lock.Lock()
		n = c.last
	}
	t.taken[c] = n + 1
	return n + 1
}

// end commits (or, if !commit, gives back) the numbers taken and unlocks
// their counters. It may be called more than once.
func (t *tx) end(commit bool) {
	for c, n := range t.taken {
		if commit {
			c.last = n
		}
		c.lock.Unlock()
	}
	if commit {
		for _, cn := range t.notes {
			events := cn.PullEvents()
			t.m.creditNotes = append(t.m.creditNotes, cn)
			t.m.creditNoteEvents = append(t.m.creditNoteEvents, events...)
			t.m.outbox = appendRecords(t.m.outbox, &t.m.seq, events, t.trace)
		}
	}
	t.taken, t.notes = nil, nil
}

// SnapshotOf returns inv's state as a repository stores it.
func SnapshotOf(inv *invoice.Invoice) invoice.Snapshot {
	s := invoice.Snapshot{
		ID: inv.ID(), Tenant: inv.Tenant(), Number: inv.Number(), Status: inv.Status(),
		Currency: inv.Currency(), Customer: inv.Customer(), DueDate: inv.DueDate(),
		IssuedAt: inv.IssuedAt(), PaidAt: inv.PaidAt(), VoidedAt: inv.VoidedAt(),
		VoidReason: inv.VoidReason(), Version: inv.Version(),
		CreatedAt: inv.CreatedAt(), UpdatedAt: inv.UpdatedAt(),
		Payments:         inv.Payments(),
		PrePaymentCredit: inv.PrePaymentCredit().Amount(), PostPaymentCredit: inv.RefundDue().Amount(),
		Metadata: inv.Metadata(), MarkedUncollectibleAt: inv.MarkedUncollectibleAt(), OverdueAt: inv.OverdueAt(),
	}
	for l := range inv.AllLines() {
		s.Lines = append(s.Lines, invoice.LineInputWithID{ID: l.ID, LineInput: invoice.LineInput{
			Description: l.Description, Quantity: l.Quantity, UnitAmount: l.UnitAmount.Amount(), TaxRateBPS: l.TaxRateBPS,
		}})
	}
	return s
}

var _ app.APIKeys = (*APIKeys)(nil)

// APIKeys is an app.APIKeys in memory.
type APIKeys struct {
	mu      sync.Mutex
	tenants map[string]kernel.TenantID // by name
	keys    map[string]kernel.TenantID // by hash
}

// NewAPIKeys returns an empty APIKeys.
func NewAPIKeys() *APIKeys {
	return &APIKeys{tenants: map[string]kernel.TenantID{}, keys: map[string]kernel.TenantID{}}
}

// Create implements app.APIKeys.Create.
func (k *APIKeys) Create(_ context.Context, tenantName string, hash []byte) (kernel.TenantID, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	t, ok := k.tenants[tenantName]
	if !ok {
		t = kernel.TenantID(invoice.NewID())
		k.tenants[tenantName] = t
	}
	k.keys[string(hash)] = t
	return t, nil
}

// TenantNamed returns the id of the tenant created with name, if any.
func (k *APIKeys) TenantNamed(name string) (kernel.TenantID, bool) {
	k.mu.Lock()
	defer k.mu.Unlock()
	t, ok := k.tenants[name]
	return t, ok
}

// Tenant implements app.APIKeys.Tenant.
func (k *APIKeys) Tenant(_ context.Context, hash []byte) (kernel.TenantID, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	t, ok := k.keys[string(hash)]
	if !ok {
		return kernel.TenantID{}, app.ErrUnauthorized
	}
	return t, nil
}
