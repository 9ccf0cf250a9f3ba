package notification

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Schedule is when the reminders of an overdue invoice go out, each counted
// from the moment it became overdue. Empty: no reminders.
type Schedule []time.Duration

// MaxReminders is the most steps a Schedule may have.
const MaxReminders = 20

// ParseSchedule reads a comma-separated list of Go durations, where a
// whole number of days may also be written "3d": "3d,7d,14d", "2s,4s". The
// empty string and "none" are the empty schedule (an unset variable and
// one set empty read alike, so the settings that take a schedule say none). It returns an error naming the first
// entry that is not a positive duration, or if the steps do not increase
// or number more than MaxReminders.
func ParseSchedule(s string) (Schedule, error) {
	if s = strings.TrimSpace(s); s == "" || s == "none" {
		return nil, nil
	}
	fields := strings.Split(s, ",")
	if len(fields) > MaxReminders {
		return nil, fmt.Errorf("must be at most %d steps, not %d", MaxReminders, len(fields))
	}
	var out Schedule
	for _, f := range fields {
		f = strings.TrimSpace(f)
		d, err := time.ParseDuration(f)
		if days, ok := strings.CutSuffix(f, "d"); ok {
			n, nerr := strconv.Atoi(days)
			d, err = time.Duration(n)*24*time.Hour, nerr
			if n > 3650 {
				err = errors.New("too long")
			}
		}
		if err != nil || d <= 0 {
			return nil, fmt.Errorf("%q is not a positive duration (such as 72h, 3d or 5s)", f)
		}
		if len(out) > 0 && d <= out[len(out)-1] {
			return nil, fmt.Errorf("%q is not after the step before it: the steps count from the same moment, in increasing order", f)
		}
		out = append(out, d)
	}
	return out, nil
}

// String writes s as ParseSchedule reads it ("none" when empty).
func (s Schedule) String() string {
	if len(s) == 0 {
		return "none"
	}
	parts := make([]string, len(s))
	for i, d := range s {
		if d%(24*time.Hour) == 0 {
			parts[i] = strconv.Itoa(int(d/(24*time.Hour))) + "d"
		} else {
			parts[i] = d.String()
		}
	}
	return strings.Join(parts, ",")
}
