package pgurl

import "testing"

func TestCreatedbCommand(t *testing.T) {
	for _, c := range []struct{ url, name, want string }{
		{"postgres://postgres@127.0.0.1:5432/invoicing?sslmode=disable", "invoicing", "createdb -h 127.0.0.1 -U postgres invoicing"},
		{"postgres://app:secret@db.internal:6432/billing", "billing", "createdb -h db.internal -p 6432 -U app billing"},
		{"postgres://postgres@127.0.0.1/it's", "it's", `createdb -h 127.0.0.1 -U postgres 'it'\''s'`},
	} {
		if got := CreatedbCommand(c.url, c.name); got != c.want {
			t.Errorf("CreatedbCommand(%s) = %s, want %s", c.url, got, c.want)
		}
	}
}
