// Command pages loads `invoicing serve` with the largest invoices the limits
// allow and has clients page through them at once, for bench/pages.sh, which
// samples the server's peak RSS meanwhile.
//
// It creates -invoices invoices of 500 lines of 500 four-byte characters
// (1 MB requests) and issues them, then starts -clients clients, each of
// which reads every page of GET /v1/invoices?limit=100 and of
// GET /v1/events?limit=1000, and every invoice, its lines and its history.
// It prints one JSON line: requests, bytes read, the largest response and
// the time taken. It fails on any answer other than 200 (404 from a server
// without GET /v1/invoices/{id}/lines excepted).
package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

func main() {
	base := flag.String("url", "http://127.0.0.1:18080", "the service's base URL")
	key := flag.String("key", "", "an API key of the tenant to load")
	invoices := flag.Int("invoices", 100, "largest invoices to create first (0: use those there are)")
	clients := flag.Int("clients", 10, "clients paging at once")
	flag.Parse()
	l := &loader{base: *base, key: *key}
	if err := l.run(*invoices, *clients); err != nil {
		fmt.Fprintln(os.Stderr, "pages:", err)
		os.Exit(1)
	}
}

type loader struct {
	base, key      string
	requests, read atomic.Int64
	largest        atomic.Int64
	largestPath    atomic.Value
	client         http.Client
}

func (l *loader) run(invoices, clients int) error {
	if err := l.seed(invoices); err != nil {
		return err
	}
	start := time.Now()
	errs := make(chan error, clients)
	var wg sync.WaitGroup
	for range clients {
		wg.Go(func() { errs <- l.pageAll() })
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			return err
		}
	}
	path, _ := l.largestPath.Load().(string)
	return json.NewEncoder(os.Stdout).Encode(map[string]any{
		"clients": clients, "requests": l.requests.Load(), "bytes_read": l.read.Load(),
		"largest_response": l.largest.Load(), "largest_path": path, "seconds": time.Since(start).Seconds(),
	})
}

// seed creates and issues n of the largest invoices, 4 at a time.
func (l *loader) seed(n int) error {
	lines := make([]map[string]any, 500)
	for i := range lines {
		lines[i] = map[string]any{"description": strings.Repeat("😀", 500), "quantity": 1, "unit_amount": 100}
	}
	body, err := json.Marshal(map[string]any{
		"customer": map[string]string{"name": "Bench", "email": "bench@example.com"}, "currency": "EUR", "lines": lines,
	})
	if err != nil {
		return err
	}
	jobs := make(chan struct{}, n)
	for range n {
		jobs <- struct{}{}
	}
	close(jobs)
	errs := make(chan error, 4)
	for range 4 {
		go func() {
			for range jobs {
				var inv struct{ ID string }
				if err := l.call("POST", "/v1/invoices", body, &inv); err != nil {
					errs <- err
					return
				}
				if err := l.call("POST", "/v1/invoices/"+inv.ID+"/issue", nil, nil); err != nil {
					errs <- err
					return
				}
			}
			errs <- nil
		}()
	}
	for range 4 {
		if err := <-errs; err != nil {
			return err
		}
	}
	return nil
}

// pageAll reads every page of the list and of the feed, and every invoice
// with its lines and history.
func (l *loader) pageAll() error {
	var ids []string
	for after := ""; ; {
		var p struct {
			Data    []struct{ ID string }
			HasMore bool `json:"has_more"`
		}
		if err := l.call("GET", "/v1/invoices?limit=100"+after, nil, &p); err != nil {
			return err
		}
		for _, inv := range p.Data {
			ids = append(ids, inv.ID)
		}
		if !p.HasMore || len(p.Data) == 0 {
			break
		}
		after = "&starting_after=" + p.Data[len(p.Data)-1].ID
	}
	for after := "0"; ; {
		var p struct {
			Data      []json.RawMessage
			NextAfter json.RawMessage `json:"next_after"`
		}
		if err := l.call("GET", "/v1/events?limit=1000&after="+after, nil, &p); err != nil {
			return err
		}
		if len(p.Data) == 0 {
			break
		}
		after = strings.Trim(string(p.NextAfter), `"`)
	}
	for _, id := range ids {
		if err := l.call("GET", "/v1/invoices/"+id, nil, nil); err != nil {
			return err
		}
		for after := ""; ; {
			var p struct {
				Data    []struct{ ID string }
				HasMore bool `json:"has_more"`
			}
			err := l.call("GET", "/v1/invoices/"+id+"/lines?limit=100"+after, nil, &p)
			if errors.Is(err, errNotFound) {
				break // a server without the route
			}
			if err != nil {
				return err
			}
			if !p.HasMore || len(p.Data) == 0 {
				break
			}
			after = "&starting_after=" + p.Data[len(p.Data)-1].ID
		}
		for after := "0"; ; {
			var p struct {
				Data []struct {
					Version int64 `json:"invoiceversion"`
				}
				HasMore bool `json:"has_more"`
			}
			if err := l.call("GET", "/v1/invoices/"+id+"/events?after="+after, nil, &p); err != nil {
				return err
			}
			if !p.HasMore || len(p.Data) == 0 {
				break
			}
			after = fmt.Sprint(p.Data[len(p.Data)-1].Version)
		}
	}
	return nil
}

var errNotFound = errors.New("404")

// call sends a request and decodes a 200's or 201's body into out (if not
// nil), counting what it read.
func (l *loader) call(method, path string, body []byte, out any) error {
	req, err := http.NewRequest(method, l.base+path, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+l.key)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := l.client.Do(req)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	l.requests.Add(1)
	l.read.Add(int64(len(raw)))
	for n := l.largest.Load(); int64(len(raw)) > n; n = l.largest.Load() {
		if l.largest.CompareAndSwap(n, int64(len(raw))) {
			l.largestPath.Store(method + " " + strings.SplitN(path, "?", 2)[0])
			break
		}
	}
	switch {
	case res.StatusCode == http.StatusNotFound:
		return errNotFound
	case res.StatusCode != http.StatusOK && res.StatusCode != http.StatusCreated:
		return fmt.Errorf("%s %s: %d %.200s", method, path, res.StatusCode, raw)
	case out == nil:
		return nil
	}
	return json.Unmarshal(raw, out)
}
