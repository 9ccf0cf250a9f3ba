package schemastate_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/invoicing-dev/invoicing/internal/schemastate"
)

func TestOfCountsThePendingMigrations(t *testing.T) {
	s := schemastate.Of("invoicing", "schema_migrations", []uint{1, 2, 5, 7}, 2, false)
	if s.Latest != 7 || s.Pending != 2 {
		t.Errorf("Of at 2 of 1, 2, 5, 7: latest %d, pending %d; want 7, 2", s.Latest, s.Pending)
	}
}

func TestCheckRefusesDirtyAndOlderSchemasOnly(t *testing.T) {
	var dirty *schemastate.DirtyError
	var older *schemastate.VersionError
	for _, c := range []struct {
		s                  schemastate.State
		wantDirty, wantOld bool
	}{
		{schemastate.State{Version: 5, Latest: 5}, false, false},
		{schemastate.State{Version: 6, Latest: 5}, false, false}, // a later release migrated it
		{schemastate.State{Version: 4, Latest: 5}, false, true},
		{schemastate.State{Version: 6, Latest: 5, Dirty: true}, true, false},
	} {
		err := c.s.Check()
		if errors.As(err, &dirty) != c.wantDirty || errors.As(err, &older) != c.wantOld {
			t.Errorf("Check of %+v: %v", c.s, err)
		}
	}
}

func TestDirtyRefusalSaysHowToRepair(t *testing.T) {
	err := schemastate.Before(schemastate.State{Table: "notification.schema_migrations", Version: 3, Dirty: true}.Clean(), "migrating")
	want := "the notification schema is dirty at version 3 (migration 3 failed half-way): finish it by hand (or undo it and set version to the one before), and clear the flag (UPDATE notification.schema_migrations SET dirty = false) before migrating"
	if err == nil || err.Error() != want {
		t.Errorf("refusal %q, want %q", err, want)
	}
	if other := errors.New("x"); schemastate.Before(other, "migrating") != other {
		t.Error("Before changed an error that is not a dirty schema's")
	}
}

func TestWriteStatusSaysWhatToDo(t *testing.T) {
	for _, c := range []struct {
		states []schemastate.State
		want   string
	}{
		{[]schemastate.State{{Name: "a", Version: 2, Latest: 2}}, "up to date\n"},
		{[]schemastate.State{{Name: "a", Version: 2, Latest: 2}, {Name: "b", Latest: 1, Pending: 1}}, "run `invoicing migrate up`"},
		{[]schemastate.State{{Name: "a", Version: 3, Latest: 2}, {Name: "b", Version: 2, Latest: 1}}, "the a and b schema is newer"},
	} {
		var b strings.Builder
		if err := schemastate.WriteStatus(&b, c.states...); err != nil || !strings.Contains(b.String(), c.want) {
			t.Errorf("WriteStatus(%+v) = %q, %v; want it to say %q", c.states, b.String(), err, c.want)
		}
	}
}
