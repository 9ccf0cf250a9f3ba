package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// client calls the service's public HTTP API with one API key.
type client struct {
	base, auth string
	http       *http.Client
}

func newClient(base, key string, conns int) *client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConns, t.MaxIdleConnsPerHost = conns, conns
	return &client{base: base, auth: "Bearer " + key, http: &http.Client{Transport: t, Timeout: 30 * time.Second}}
}

// invoiceBody is the part of an invoice response the tool reads.
type invoiceBody struct {
	ID        string `json:"id"`
	AmountDue int64  `json:"amount_due"`
}

// openInvoice is an issued invoice waiting to be paid.
type openInvoice struct {
	id  string
	due int64
}

// newInvoice has three lines, so a payment loads and rewrites a realistic
// invoice (the pgbench pay script reads three lines too).
var newInvoice = []byte(`{"customer":{"name":"Load Test GmbH","email":"billing@load.example"},"currency":"EUR",
"due_date":"2030-12-31","lines":[
{"description":"Consulting (days)","quantity":10,"unit_amount":12000,"tax_rate_bps":1900},
{"description":"Travel expenses","quantity":1,"unit_amount":35000,"tax_rate_bps":1900},
{"description":"Licence, one seat","quantity":3,"unit_amount":4999}]}`)

// do sends one request and returns the status and body. A transport error
// is returned as err with status 0.
func (c *client) do(ctx context.Context, path string, body []byte) (int, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.base+path, bytes.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Authorization", c.auth)
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.http.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, b, err
}

// call sends one request and decodes a 2xx response into out. It fails on
// any other status, naming it and the start of the body.
func (c *client) call(ctx context.Context, path string, body []byte, out any) error {
	status, b, err := c.do(ctx, path, body)
	if err != nil {
		return fmt.Errorf("POST %s: %w", path, err)
	}
	if status/100 != 2 {
		return fmt.Errorf("POST %s: status %d: %.200s", path, status, b)
	}
	return json.Unmarshal(b, out)
}

// prepare creates and issues n invoices with the given concurrency. It
// returns them, or the first error (wrapping errSetup).
func (c *client) prepare(ctx context.Context, n, concurrency int) ([]openInvoice, error) {
	out := make([]openInvoice, n)
	var next atomic.Int64
	var wg sync.WaitGroup
	var once sync.Once
	var first error
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	for range min(concurrency, n) {
		wg.Go(func() {
			for i := int(next.Add(1) - 1); i < n && ctx.Err() == nil; i = int(next.Add(1) - 1) {
				inv, err := c.createIssued(ctx)
				if err != nil {
					once.Do(func() { first = err; cancel() })
					return
				}
				out[i] = inv
			}
		})
	}
	wg.Wait()
	if first != nil {
		return nil, fmt.Errorf("%w: %w", errSetup, first)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return out, nil
}

func (c *client) createIssued(ctx context.Context) (openInvoice, error) {
	var created, issued invoiceBody
	if err := c.call(ctx, "/v1/invoices", newInvoice, &created); err != nil {
		return openInvoice{}, err
	}
	if err := c.call(ctx, "/v1/invoices/"+created.ID+"/issue", []byte(`{}`), &issued); err != nil {
		return openInvoice{}, err
	}
	return openInvoice{id: issued.ID, due: issued.AmountDue}, nil
}

// pay pays inv in full under ref, which the caller makes unique, and
// returns the response status (0 and the error for a transport failure).
func (c *client) pay(ctx context.Context, inv openInvoice, ref string) (int, error) {
	body := fmt.Appendf(nil, `{"amount":%d,"reference":%q}`, inv.due, ref)
	status, _, err := c.do(ctx, "/v1/invoices/"+inv.id+"/payments", body)
	return status, err
}

// pool hands out each prepared invoice once, across levels. take may be
// called concurrently; add and remaining only between levels.
type pool struct {
	items []openInvoice
	next  atomic.Int64
}

// add appends invoices to those not yet taken.
func (p *pool) add(invs []openInvoice) {
	p.items = append(p.items[min(int(p.next.Load()), len(p.items)):], invs...)
	p.next.Store(0)
}

// remaining returns how many invoices take can still hand out.
func (p *pool) remaining() int { return max(len(p.items)-int(p.next.Load()), 0) }

// take returns the next unpaid invoice, or false when none is left.
func (p *pool) take() (openInvoice, bool) {
	i := p.next.Add(1) - 1
	if i >= int64(len(p.items)) {
		return openInvoice{}, false
	}
	return p.items[i], true
}
