package devmail_test

import (
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/emersion/go-smtp"

	"github.com/invoicing-dev/invoicing/internal/devmail"
)

const multipart = "From: Billing <billing@example.com>\r\nTo: ada@example.com\r\nSubject: Receipt for invoice <INV-1>\r\n" +
	"Message-ID: <e1.receipt@example.com>\r\nMIME-Version: 1.0\r\n" +
	"Content-Type: multipart/alternative; boundary=b\r\n\r\n" +
	"--b\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\nwe received your payment of EUR 50.00 =E2=82=AC\r\n" +
	"--b\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<p>paid<script>alert(1)</script></p>\r\n--b--\r\n"

// startSink runs a sink with cfg on loopback ports; it returns its SMTP
// address and its page's server.
func startSink(t *testing.T, cfg devmail.Config) (string, *httptest.Server) {
	t.Helper()
	s := devmail.New(cfg)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- s.ServeSMTP(ln) }()
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Error(err)
		}
		if err := <-done; err != nil {
			t.Errorf("ServeSMTP after Close: %v", err)
		}
	})
	web := httptest.NewServer(s.Handler())
	t.Cleanup(web.Close)
	return ln.Addr().String(), web
}

// send sends msg over plain SMTP (the sink offers no STARTTLS).
func send(t *testing.T, addr, from string, to []string, msg io.Reader) error {
	t.Helper()
	c, err := smtp.Dial(addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	return c.SendMail(from, to, msg)
}

func get(t *testing.T, url string) (int, http.Header, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, string(b)
}

func TestSinkShowsWhatItReceived(t *testing.T) {
	addr, web := startSink(t, devmail.Config{})
	if err := send(t, addr, "billing@example.com", []string{"ada@example.com"}, strings.NewReader(multipart)); err != nil {
		t.Fatal(err)
	}
	_, _, body := get(t, web.URL+"/messages")
	var got struct{ Messages []devmail.Message }
	if err := json.Unmarshal([]byte(body), &got); err != nil {
		t.Fatalf("%v: %s", err, body)
	}
	if len(got.Messages) != 1 {
		t.Fatalf("messages: %s", body)
	}
	m := got.Messages[0]
	if m.ID != 1 || m.Subject != "Receipt for invoice <INV-1>" || m.MessageID != "e1.receipt@example.com" ||
		m.From != "billing@example.com" || len(m.To) != 1 || m.To[0] != "ada@example.com" ||
		!strings.Contains(m.Text, "EUR 50.00 €") || !strings.Contains(m.HTML, "<p>paid") {
		t.Errorf("decoded %+v", m)
	}

	_, _, html := get(t, web.URL+"/")
	if !strings.Contains(html, "Receipt for invoice &lt;INV-1&gt;") || !strings.Contains(html, "EUR 50.00 €") {
		t.Errorf("the page lacks the escaped subject or the text:\n%s", html)
	}
	status, h, part := get(t, web.URL+"/messages/1/html")
	if status != 200 || !strings.Contains(h.Get("Content-Security-Policy"), "sandbox") || !strings.Contains(part, "<p>paid") {
		t.Errorf("HTML part: %d %v %q", status, h, part)
	}
	if status, _, _ := get(t, web.URL+"/messages/2/html"); status != 404 {
		t.Errorf("a message not kept: %d, want 404", status)
	}
}

func TestSinkKeepsTheNewestAndRefusesTheOversized(t *testing.T) {
	addr, web := startSink(t, devmail.Config{MaxMessages: 2, MaxBytes: 2048})
	for _, subject := range []string{"one", "two", "three"} {
		msg := "Subject: " + subject + "\r\n\r\nbody\r\n"
		if err := send(t, addr, "a@example.com", []string{"b@example.com"}, strings.NewReader(msg)); err != nil {
			t.Fatal(err)
		}
	}
	big := "Subject: big\r\n\r\n" + strings.Repeat("x", 4096) + "\r\n"
	if err := send(t, addr, "a@example.com", []string{"b@example.com"}, strings.NewReader(big)); err == nil {
		t.Error("a message over MaxBytes was accepted")
	}
	_, _, body := get(t, web.URL+"/messages")
	var got struct{ Messages []devmail.Message }
	if err := json.Unmarshal([]byte(body), &got); err != nil {
		t.Fatal(err)
	}
	var subjects []string
	for _, m := range got.Messages {
		subjects = append(subjects, m.Subject)
	}
	if strings.Join(subjects, ",") != "three,two" {
		t.Errorf("kept %v, want the newest two, newest first", subjects)
	}
}

func TestSinkForgetsTheOldestBeyondMaxTotalBytes(t *testing.T) {
	addr, web := startSink(t, devmail.Config{MaxBytes: 2048, MaxTotalBytes: 2500})
	for _, subject := range []string{"one", "two", "three"} {
		msg := "Subject: " + subject + "\r\n\r\n" + strings.Repeat("x", 1000) + "\r\n"
		if err := send(t, addr, "a@example.com", []string{"b@example.com"}, strings.NewReader(msg)); err != nil {
			t.Fatal(err)
		}
	}
	_, _, body := get(t, web.URL+"/messages")
	var got struct{ Messages []devmail.Message }
	if err := json.Unmarshal([]byte(body), &got); err != nil {
		t.Fatal(err)
	}
	var subjects []string
	for _, m := range got.Messages {
		subjects = append(subjects, m.Subject)
	}
	if strings.Join(subjects, ",") != "three,two" {
		t.Errorf("kept %v, want the newest two that fit in MaxTotalBytes, newest first", subjects)
	}
}
