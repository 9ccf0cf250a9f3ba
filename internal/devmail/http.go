package devmail

import (
	"encoding/json"
	"html/template"
	"net"
	"net/http"
	"strconv"
	"time"
)

// Handler serves the messages kept by s:
//
//	GET /                     a page listing them, newest first, each with its text
//	GET /messages             the same as JSON: {"messages": [...]}
//	GET /messages/{id}/html   a message's HTML part, sandboxed (no scripts, no requests out)
func (s *Sink) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_ = page.Execute(w, s.Messages())
	})
	mux.HandleFunc("GET /messages", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(struct {
			Messages []Message `json:"messages"`
		}{s.Messages()})
	})
	mux.HandleFunc("GET /messages/{id}/html", func(w http.ResponseWriter, r *http.Request) {
		id, err := strconv.Atoi(r.PathValue("id"))
		m, ok := s.Message(id)
		if err != nil || !ok || m.HTML == "" {
			http.NotFound(w, r)
			return
		}
		// The body is what a client sent: shown, never trusted.
		w.Header().Set("Content-Security-Policy", "sandbox; default-src 'none'; style-src 'unsafe-inline'")
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write([]byte(m.HTML))
	})
	return mux
}

var page = template.Must(template.New("page").Parse(`<!doctype html>
<html><head><meta charset="utf-8"><title>invoicing dev mail</title>
<style>body{font-family:sans-serif;max-width:60em;margin:1em auto;padding:0 1em}
article{border-top:1px solid #ccc;padding:.5em 0}pre{white-space:pre-wrap;background:#f6f6f6;padding:.5em}
.meta{color:#555;font-size:90%}</style></head>
<body><h1>Mail received by invoicing dev</h1>
<p class="meta">Development only: nothing here was delivered anywhere. Newest first; reload for more;
<a href="/messages">as JSON</a>.</p>
{{range .}}<article id="m{{.ID}}"><h2>{{.Subject}}</h2>
<p class="meta">#{{.ID}} · {{.Received.Format "2006-01-02 15:04:05"}} · from {{.From}} · to {{range $i, $t := .To}}{{if $i}}, {{end}}{{$t}}{{end}} · {{.MessageID}}{{if .HTML}} · <a href="/messages/{{.ID}}/html">HTML part</a>{{end}}</p>
<pre>{{.Text}}</pre></article>
{{else}}<p>No mail yet.</p>{{end}}
</body></html>
`))

// Start runs a sink with cfg, its SMTP server on smtpLn and its page
// (Handler) on pageLn, until the returned stop closes both.
func Start(cfg Config, smtpLn, pageLn net.Listener) (stop func()) {
	sink := New(cfg)
	go func() { _ = sink.ServeSMTP(smtpLn) }()
	page := &http.Server{Handler: sink.Handler(), ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = page.Serve(pageLn) }()
	return func() { _ = page.Close(); _ = sink.Close() }
}
