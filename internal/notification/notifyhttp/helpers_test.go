package notifyhttp_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/invoicing-dev/invoicing/internal/apitest"
	"github.com/invoicing-dev/invoicing/internal/invoicing/app"
	"github.com/invoicing-dev/invoicing/internal/invoicing/invoicinghttp"
	"github.com/invoicing-dev/invoicing/internal/invoicing/invoicingpg"
)

// emptyList is the body of an empty page.
const emptyList = "{\"data\":[],\"has_more\":false}\n"

// api is the service's API as main composes it: the invoicing API with
// routes added to its /v1, on the real repositories, with an API key for
// each of two tenants. Its client checks every request and response
// against api/openapi.yaml (see apitest.Transport).
type api struct {
	url        string
	keyA, keyB string
	pool       *pgxpool.Pool
	app        *app.App
	client     *http.Client
	loose      *http.Client // for invalid(): checks responses only
}

// serve creates the two tenants' keys and serves the invoicing API on
// pool, with mount adding routes to it as main does.
func serve(t *testing.T, pool *pgxpool.Pool, mount func(*invoicinghttp.API)) *api {
	t.Helper()
	ctx := context.Background()
	a := app.New(invoicingpg.NewInvoices(pool), invoicingpg.NewAPIKeys(pool), invoicingpg.NewEvents(pool), app.SystemClock{})
	keyA, _, err := a.CreateAPIKey.Handle(ctx, app.CreateAPIKey{TenantName: "Tenant A"})
	if err != nil {
		t.Fatalf("create key A: %v", err)
	}
	keyB, _, err := a.CreateAPIKey.Handle(ctx, app.CreateAPIKey{TenantName: "Tenant B"})
	if err != nil {
		t.Fatalf("create key B: %v", err)
	}
	h := invoicinghttp.NewAPI(a, invoicinghttp.Config{})
	mount(h)
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	contract, err := apitest.LoadContract()
	if err != nil {
		t.Fatal(err)
	}
	return &api{url: srv.URL, keyA: keyA, keyB: keyB, pool: pool, app: a,
		client: contract.Client(false), loose: contract.Client(true)}
}

// tenantOf returns the tenant id of key.
func (c *api) tenantOf(t *testing.T, key string) string {
	t.Helper()
	tenant, err := c.app.Authenticate.Handle(t.Context(), app.Authenticate{Key: key})
	if err != nil {
		t.Fatal(err)
	}
	return tenant.String()
}

// invalid returns c for a request that breaks the contract on purpose (an
// unknown field, a wrong type or media type, an unknown route or method):
// only the response is checked, and it must be a documented problem.
func (c *api) invalid() *api {
	cp := *c
	cp.client = c.loose
	return &cp
}

type response struct {
	status int
	header http.Header
	body   []byte
}

// do sends a request with key as bearer token ("" for none). body is nil (no
// body), a string (sent raw) or a value sent as JSON; either way Content-Type
// is application/json.
func (c *api) do(t *testing.T, method, path, key string, body any) response {
	t.Helper()
	res, err := c.try(method, path, key, body)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// try is do for goroutines other than the test's: it returns what do fails on.
func (c *api) try(method, path, key string, body any) (response, error) {
	req, err := apitest.NewRequest(method, c.url+path, key, body)
	if err != nil {
		return response{}, err
	}
	res, err := c.client.Do(req)
	if err != nil {
		return response{}, fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		return response{}, fmt.Errorf("%s %s: read body: %w", method, path, err)
	}
	return response{status: res.StatusCode, header: res.Header, body: raw}, nil
}

// wantProblem checks that res is a problem+json of status and code, naming
// field in errors[] unless field is "" (see apitest.WantProblem).
func wantProblem(t *testing.T, res response, status int, code, field string) apitest.Problem {
	t.Helper()
	return apitest.WantProblem(t, res.status, res.header, res.body, status, code, field)
}
