package webhook

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// Delivery statuses.
const (
	DeliveryPending   = "pending"
	DeliverySucceeded = "succeeded"
	DeliveryFailed    = "failed"
)

// Delivery is one event to one endpoint, with the log of its attempts.
type Delivery struct {
	ID            string
	EndpointID    string
	EventID       string
	EventType     string
	EventTime     time.Time
	Status        string
	Attempts      []Attempt
	NextAttemptAt time.Time // zero unless pending
	CreatedAt     time.Time
}

// Attempt is one try of a delivery.
type Attempt struct {
	At         time.Time
	StatusCode int // 0: no response
	Duration   time.Duration
	Error      string
}

// NewEndpoint is what registering an endpoint takes.
type NewEndpoint struct {
	URL           string
	EnabledEvents []string
	Description   string
}

// Patch changes an endpoint: nil fields stay as they are.
type Patch struct {
	URL           *string
	EnabledEvents []string // nil: unchanged
	Description   *string
	// Status enables or disables the endpoint (enabling clears the
	// reason it was disabled for).
	Status *string
}

// ValidateStatus returns an *InvalidError (field status) unless s is
// "enabled" or "disabled".
func ValidateStatus(s string) error {
	if s != StatusEnabled && s != StatusDisabled {
		return &InvalidError{Field: "status", Message: `must be "enabled" or "disabled"`}
	}
	return nil
}

// Page is how a list is read: at most Limit items after the one with id
// StartingAfter ("" for the first page), newest first.
type Page struct {
	Limit         int
	StartingAfter string
}

// DeliveryFilter selects deliveries: Status "" for all.
type DeliveryFilter struct {
	Status string
	Page
}

// MaxReplay is how many deliveries one replay queues at most: a replay
// since long ago at a busy endpoint would otherwise change them all in one
// transaction and put them all before the workers at once.
const MaxReplay = 1000

// Replay selects the deliveries a replay queues again: those of events at
// or after Since, oldest event first (then by id), after the delivery
// StartingAfter ("" to begin), at most MaxReplay.
type Replay struct {
	Since         time.Time
	StartingAfter string
}

// Replayed is what one replay did: it queued Queued deliveries and, if
// More, left later ones for a replay starting after Next, the last it
// passed.
type Replayed struct {
	Queued int
	More   bool
	Next   string
}

// ValidateDeliveryStatus returns an *InvalidError (field status) unless s
// is "", pending, succeeded or failed.
func ValidateDeliveryStatus(s string) error {
	switch s {
	case "", DeliveryPending, DeliverySucceeded, DeliveryFailed:
		return nil
	}
	return &InvalidError{Field: "status", Message: `must be "pending", "succeeded" or "failed"`}
}

// Schedule is the waits between a delivery's attempts: after the n-th
// failed attempt the next one comes Schedule[n-1] later; after
// len(Schedule)+1 failed attempts the delivery has failed.
type Schedule []time.Duration

// DefaultSchedule is WEBHOOK_RETRY_SCHEDULE's default: about 28 hours of
// attempts.
var DefaultSchedule = Schedule{5 * time.Second, 5 * time.Minute, 30 * time.Minute, 2 * time.Hour, 5 * time.Hour, 10 * time.Hour, 10 * time.Hour}

// Bounds of a Schedule read by ParseSchedule: shorter waits would hammer a
// receiver that is down, longer ones or more of them would keep a delivery
// pending for longer than anyone waits for it.
const (
	MaxScheduleLength = 50
	MinScheduleWait   = 100 * time.Millisecond
	MaxScheduleWait   = 7 * 24 * time.Hour
)

// ParseSchedule reads a comma-separated list of durations ("5s,5m,30m"). It
// returns an error unless there are 1 to MaxScheduleLength, each from
// MinScheduleWait to MaxScheduleWait.
func ParseSchedule(s string) (Schedule, error) {
	fields := strings.Split(s, ",")
	if len(fields) > MaxScheduleLength {
		return nil, fmt.Errorf("must be 1 to %d waits, not %d", MaxScheduleLength, len(fields))
	}
	var out Schedule
	for _, f := range fields {
		d, err := time.ParseDuration(strings.TrimSpace(f))
		if err != nil || d < MinScheduleWait || d > MaxScheduleWait {
			return nil, fmt.Errorf("%q is not a duration from %s to %dh", strings.TrimSpace(f), MinScheduleWait, MaxScheduleWait/time.Hour)
		}
		out = append(out, d)
	}
	if len(out) == 0 {
		return nil, errors.New("no durations")
	}
	return out, nil
}

// Next returns the wait before the attempt after failed failed attempts, at
// least retryAfter (a receiver's Retry-After, capped at the schedule's
// longest wait), and false once the attempts are spent.
func (s Schedule) Next(failed int, retryAfter time.Duration) (time.Duration, bool) {
	if failed < 1 || failed > len(s) {
		return 0, false
	}
	longest := time.Duration(0)
	for _, d := range s {
		longest = max(longest, d)
	}
	return max(s[failed-1], min(retryAfter, longest)), true
}
