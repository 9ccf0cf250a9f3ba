package envconfig

import (
	"errors"
	"strings"
	"testing"
)

func TestHelp(t *testing.T) {
	h := Help{Program: "prog", Commands: []Command{
		{Name: "run", Synopsis: []string{"run\tstart it"}, About: "Runs.", Env: []string{"A"}},
		{Name: "help", Synopsis: []string{"help\tthis"}},
	}, Vars: []Doc{{Name: "A", Default: "1", Usage: "the `a`"}, {Name: "B", Usage: "the b"}}}
	var b strings.Builder
	if err := h.Write(&b, []string{"run"}); err != nil || !strings.Contains(b.String(), "  prog run\n") || !strings.Contains(b.String(), "  A (1)\n      the a\n") || strings.Contains(b.String(), "  B (") {
		t.Errorf("help run = %q, %v", b.String(), err)
	}
	b.Reset()
	if err := h.Write(&b, []string{"env"}); err != nil || !strings.Contains(b.String(), "  B (empty)\n") {
		t.Errorf("help env = %q, %v", b.String(), err)
	}
	if err := h.Write(&b, []string{"stop"}); !errors.Is(err, ErrNoHelp) || err.Error() != `no help for "stop"; commands: run, help, env` {
		t.Errorf("help stop: %v", err)
	}
	for args, want := range map[string]string{"run x": "usage:\n  run ", "help x": "usage: prog <command>", "": "usage: prog <command>"} {
		b.Reset()
		h.WriteMisuse(&b, strings.Fields(args))
		if !strings.HasPrefix(b.String(), want) {
			t.Errorf("after %q: %q, want it to start %q", args, b.String(), want)
		}
	}
}
