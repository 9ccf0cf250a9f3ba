package main

import (
	"net/http"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	yaml "github.com/oasdiff/yaml3"
	dto "github.com/prometheus/client_model/go"
)

// The monitoring that ships with the service: the Grafana dashboard and the
// Prometheus alerting rules of docker-compose.yml.
const (
	dashboardFile = "../../deploy/grafana/dashboards/invoicing.json"
	alertsFile    = "../../deploy/prometheus/alerts.yml"
)

// TestMonitoringNamesOnlyServedMetrics scrapes a serve that runs every part
// (API, relay, notification with webhooks) and fails if the dashboard or an
// alerting rule names a metric it does not serve: a renamed metric would
// otherwise leave a blank panel and an alert that never fires.
func TestMonitoringNamesOnlyServedMetrics(t *testing.T) {
	t.Parallel()
	base, _, stop := startNotifyingServe(t, map[string]string{"WEBHOOKS_ENABLED": "true"}, "acme")
	defer stop()
	if res, err := http.Get(base + "/healthz"); err != nil { // a request, so the HTTP series exist
		t.Fatal(err)
	} else {
		_ = res.Body.Close()
	}
	served := metricFamilies(t, base)

	for _, file := range []string{dashboardFile, alertsFile} {
		var names []string
		for _, e := range monitoringExprs(t, file) {
			names = append(names, metricNames(e)...)
		}
		if len(names) == 0 {
			t.Fatalf("%s names no metric: the expressions were not found", file)
		}
		for _, name := range names {
			if !servedName(served, name) {
				t.Errorf("%s names %s, which GET /metrics does not serve", file, name)
			}
		}
	}
}

// servedName reports whether name is a served family, or a histogram's
// _bucket, _sum or _count series.
func servedName(served map[string]*dto.MetricFamily, name string) bool {
	if _, ok := served[name]; ok {
		return true
	}
	for _, suffix := range []string{"_bucket", "_sum", "_count"} {
		if base, ok := strings.CutSuffix(name, suffix); ok && served[base].GetType() == dto.MetricType_HISTOGRAM {
			return true
		}
	}
	return false
}

// monitoringExprs returns every PromQL expression of file, the dashboard
// (JSON) or the alerting rules (YAML, which JSON also is): the string value
// of each "expr" key at any depth, so panels inside rows count too.
func monitoringExprs(t *testing.T, file string) []string {
	t.Helper()
	raw, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var doc any
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	var out []string
	var walk func(any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, e := range v {
				if s, ok := e.(string); ok && k == "expr" {
					out = append(out, s)
				}
				walk(e)
			}
		case []any:
			for _, e := range v {
				walk(e)
			}
		}
	}
	walk(doc)
	return out
}

var (
	// What in PromQL is not a metric name: strings, label matchers, range
	// and subquery windows, grouping label lists, offsets, Grafana variables.
	// Strings go first: a route in a matcher holds braces.
	promqlStrings = regexp.MustCompile(`"(?:[^"\\]|\\.)*"`)
	promqlNoise   = regexp.MustCompile(`\{[^}]*\}|\[[^\]]*\]|\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)|\boffset\s+\w+|\$\w+`)
	promqlIdent   = regexp.MustCompile(`[a-zA-Z_:][a-zA-Z0-9_:]*(\s*\()?`)
	promqlWords   = []string{"and", "or", "unless", "bool", "offset", "by", "without", "on", "ignoring", "group_left", "group_right", "inf", "nan"}
)

// metricNames returns the metric names expr selects: its identifiers that
// are neither functions or aggregations (followed by a parenthesis) nor
// keywords.
func metricNames(expr string) []string {
	var out []string
	for _, m := range promqlIdent.FindAllStringSubmatch(promqlNoise.ReplaceAllString(promqlStrings.ReplaceAllString(expr, " "), " "), -1) {
		if m[1] != "" || slices.Contains(promqlWords, strings.ToLower(m[0])) {
			continue
		}
		out = append(out, m[0])
	}
	return out
}

func TestMetricNames(t *testing.T) {
	t.Parallel()
	for expr, want := range map[string][]string{
		`max(outbox_parked_events) > 0`: {"outbox_parked_events"},
		`histogram_quantile(0.99, sum by (le) (rate(http_request_duration_seconds_bucket{method="POST",route="/v1/invoices/{id}/payments"}[$__rate_interval])))`: {"http_request_duration_seconds_bucket"},
		`(sum(relay_leader) or vector(0)) < 1`:                                                        {"relay_leader"},
		`max(a) > max(min_over_time(b{status="x"}[1h])) and max without (job) (c) unless d offset 5m`: {"a", "b", "c", "d"},
	} {
		if got := metricNames(expr); !slices.Equal(got, want) {
			t.Errorf("metricNames(%s) = %v, want %v", expr, got, want)
		}
	}
}
