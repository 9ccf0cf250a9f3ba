package notifynats

import "testing"

// The filter a server before 2.10 takes (it refuses FilterSubjects, so
// notify never started against Debian's nats-server 2.9.10), and the
// subjects the consumer then skips itself.
func TestFilterFitsTheServer(t *testing.T) {
	for _, tc := range []struct {
		version string
		want    bool
	}{{"2.9.10", false}, {"2.10.0", true}, {"2.15.2", true}, {"3.0.0", true}, {"1.99.0", false}, {"", false}, {"x.y", false}} {
		if got := serverAtLeast(tc.version, 2, 10); got != tc.want {
			t.Errorf("serverAtLeast(%q, 2, 10) = %v, want %v", tc.version, got, tc.want)
		}
	}
	c := &Consumer{cfg: Config{Subjects: []string{"invoicing.invoice.issued", "invoicing.invoice.paid"}}}
	for subject, want := range map[string]bool{
		"invoicing.invoice.paid": true, "invoicing.invoice.issued": true,
		"invoicing.invoice.created": false, "invoicing.invoice.paid.x": false, "invoicing.invoice": false,
	} {
		if got := c.wants(subject); got != want {
			t.Errorf("wants(%q) = %v, want %v", subject, got, want)
		}
	}
	c.cfg.Subjects = []string{"invoicing.>"}
	for subject, want := range map[string]bool{"invoicing.invoice.paid": true, "invoicing": false, "other.invoice.paid": false} {
		if got := c.wants(subject); got != want {
			t.Errorf("wants(%q) under invoicing.> = %v, want %v", subject, got, want)
		}
	}
	if one, many := c.filter(); one != "invoicing.>" || many != nil {
		t.Errorf("one subject: filter = %q, %v; want FilterSubject, which every server takes", one, many)
	}
}
