package devstack_test

import (
	"net"
	"strings"
	"testing"

	"github.com/invoicing-dev/invoicing/internal/devstack"
)

func TestParseFlags(t *testing.T) {
	f, err := devstack.ParseFlags([]string{"mail", "--smtp", "127.0.0.1:0"})
	if err != nil || !f.MailOnly || f.SMTP != "127.0.0.1:0" || f.Mail != "127.0.0.1:8025" {
		t.Errorf("dev mail --smtp 127.0.0.1:0: %+v, %v", f, err)
	}
	for _, args := range [][]string{{"--tenant="}, {"extra"}, {"--bogus"}} {
		if _, err := devstack.ParseFlags(args); err == nil || !strings.HasPrefix(err.Error(), "dev takes: ") {
			t.Errorf("dev %s: %v, want what dev takes", strings.Join(args, " "), err)
		}
	}
}

func TestFreeNamesTheVariableOfATakenPort(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	if err := devstack.Free("HTTP_ADDR", ln.Addr().String()); err == nil || !strings.Contains(err.Error(), "give HTTP_ADDR a free address") {
		t.Errorf("Free on a taken port: %v, want an error naming HTTP_ADDR", err)
	}
	if err := devstack.Free("PPROF_ADDR", ""); err != nil {
		t.Errorf("Free of an unset address: %v", err)
	}
}
