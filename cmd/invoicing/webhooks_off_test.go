package main

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

// TestWebhookAPISaysWhatToSet: with WEBHOOKS_ENABLED=false the webhook
// routes answer a 404 problem naming the variable, not "no such route";
// with it on, a refused http or loopback URL names
// WEBHOOK_ALLOW_PRIVATE_URLS, the setting a developer is missing.
func TestWebhookAPISaysWhatToSet(t *testing.T) {
	post := func(base, key, path, body string) (int, string) {
		t.Helper()
		req, err := http.NewRequest("POST", base+path, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+key)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}

	base, keys, stop := startNotifyingServe(t, map[string]string{"WEBHOOKS_ENABLED": "false"}, "acme")
	for _, path := range []string{"/v1/webhook_endpoints", "/v1/webhook_endpoints/4f0c1c1e-8a54-4d0a-9a51-0b6f3f1f2a11/replay"} {
		code, body := post(base, keys["acme"], path, `{"url":"https://example.com/hook","enabled_events":["*"]}`)
		if code != 404 || !strings.Contains(body, "webhooks_disabled") || !strings.Contains(body, "WEBHOOKS_ENABLED=true") {
			t.Errorf("POST %s with WEBHOOKS_ENABLED=false: %d %s, want a 404 webhooks_disabled naming WEBHOOKS_ENABLED=true", path, code, body)
		}
	}
	stop()

	base, keys, stop = startNotifyingServe(t, map[string]string{"WEBHOOKS_ENABLED": "true"}, "acme")
	for _, url := range []string{"http://hooks.example.com/in", "https://127.0.0.1:9/in", "https://localhost/in"} {
		code, body := post(base, keys["acme"], "/v1/webhook_endpoints", `{"url":"`+url+`","enabled_events":["*"]}`)
		if code != 422 || !strings.Contains(body, "WEBHOOK_ALLOW_PRIVATE_URLS=true") {
			t.Errorf("POST /v1/webhook_endpoints with url %s: %d %s, want a 422 naming WEBHOOK_ALLOW_PRIVATE_URLS=true", url, code, body)
		}
	}
	stop()
}
