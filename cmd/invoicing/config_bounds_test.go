package main

import (
	"fmt"
	"strings"
	"testing"
)

// TestConfigRefusesAbsurdValues sets values that parse but that no
// deployment means: start-up refuses each, naming the variable and the
// range it accepts.
func TestConfigRefusesAbsurdValues(t *testing.T) {
	for _, tc := range []struct {
		vars map[string]string
		want []string // in the error, besides "NAME="
	}{
		{map[string]string{"WEBHOOK_TIMEOUT": "1ns"}, []string{"WEBHOOK_TIMEOUT=", "1s", "2m"}},
		{map[string]string{"WEBHOOK_TIMEOUT": "10m"}, []string{"WEBHOOK_TIMEOUT=", "1s", "2m"}},
		{map[string]string{"WEBHOOK_RETRY_SCHEDULE": "1ns"}, []string{"WEBHOOK_RETRY_SCHEDULE=", "100ms", "168h"}},
		{map[string]string{"WEBHOOK_RETRY_SCHEDULE": "5s,5m,1ns"}, []string{"WEBHOOK_RETRY_SCHEDULE=", "100ms", "168h"}},
		{map[string]string{"WEBHOOK_RETRY_SCHEDULE": "5s,9000h"}, []string{"WEBHOOK_RETRY_SCHEDULE=", "100ms", "168h"}},
		{map[string]string{"WEBHOOK_RETRY_SCHEDULE": strings.Repeat("5s,", 4999) + "5s"}, []string{"WEBHOOK_RETRY_SCHEDULE=", "1 to 50"}},
		{map[string]string{"WEBHOOK_ENDPOINT_CONCURRENCY": "51"}, []string{"WEBHOOK_ENDPOINT_CONCURRENCY=", "WEBHOOK_WORKERS", "50"}},
		{map[string]string{"WEBHOOK_WORKERS": "2", "WEBHOOK_ENDPOINT_CONCURRENCY": "3"}, []string{"WEBHOOK_ENDPOINT_CONCURRENCY=", "WEBHOOK_WORKERS", "1 to 2"}},
		{map[string]string{"NOTIFY_INBOX_RETENTION": "1s"}, []string{"NOTIFY_INBOX_RETENTION=", "redelivery", "48h51m40s"}},
		{map[string]string{"NOTIFY_INBOX_RETENTION": "24h"}, []string{"NOTIFY_INBOX_RETENTION=", "redelivery", "48h51m40s"}},
		{map[string]string{"SMTP_URL": "smtp://mail:25/relay"}, []string{"SMTP_URL=", "path"}},
		{map[string]string{"SMTP_URL": "smtp://mail:25?starttls=off"}, []string{"SMTP_URL=", "query"}},
		{map[string]string{"SMTP_URL": "smtps://mail:465#x"}, []string{"SMTP_URL=", "fragment"}},
	} {
		name := fmt.Sprint(tc.vars)
		if len(name) > 80 {
			name = name[:80] + "..."
		}
		_, err := loadConfig(env(tc.vars))
		if err == nil {
			t.Errorf("%s accepted", name)
			continue
		}
		msg := err.Error()
		if len(msg) > 300 {
			msg = msg[:150] + "..." + msg[len(msg)-150:]
		}
		for _, w := range tc.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: error %q does not say %q", name, msg, w)
			}
		}
	}
	// The bounds leave room for what tests and deployments use.
	for _, vars := range []map[string]string{
		{"WEBHOOK_TIMEOUT": "1s"}, {"WEBHOOK_TIMEOUT": "2m"},
		{"WEBHOOK_RETRY_SCHEDULE": "200ms,500ms,1s,2s,2s,2s,2s,2s,2s,2s,2s,2s,2s,2s,2s"},
		{"WEBHOOK_RETRY_SCHEDULE": "5s,5m,30m,2h,5h,10h,10h,168h"},
		{"WEBHOOK_WORKERS": "4", "WEBHOOK_ENDPOINT_CONCURRENCY": "4"},
		{"NOTIFY_INBOX_RETENTION": "49h"},
		{"SMTP_URL": "smtp://mail:25/"},
	} {
		if _, err := loadConfig(env(vars)); err != nil {
			t.Errorf("%v refused: %v", vars, err)
		}
	}
}
