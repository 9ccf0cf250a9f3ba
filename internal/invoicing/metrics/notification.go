package metrics

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// NotificationCounts is what the notification context tells of its work:
// the events its consumer handled and its tasks by state.
type NotificationCounts interface {
	// EventCounts returns the events handled, re-deliveries included, and
	// those new to the inbox.
	EventCounts() (received, fresh int64)
	// TaskCounts returns the email tasks by state, or an error.
	TaskCounts(ctx context.Context) (map[string]int64, error)
	// WebhookTaskCounts returns the webhook delivery tasks by state, or an
	// error.
	WebhookTaskCounts(ctx context.Context) (map[string]int64, error)
	// ReminderCounts returns the payment reminder processes by state and
	// the reminders sent since the process started, or an error.
	ReminderCounts(ctx context.Context) (processes map[string]int64, sent int64, err error)
	// WebhookEndpointCounts returns the webhook endpoints by status
	// (endpointStatuses), or an error.
	WebhookEndpointCounts(ctx context.Context) (map[string]int64, error)
	// WebhookAttemptDurations returns the process's webhook attempts by
	// outcome: the buckets' upper bounds in seconds, for each outcome the
	// cumulative count at each bound followed by the count in all, and the
	// total seconds.
	WebhookAttemptDurations() (bounds []float64, counts map[string][]uint64, seconds map[string]float64)
}

var (
	notifyTasksDesc  = prometheus.NewDesc("notification_tasks", "Email tasks by River state (discarded: parked, see `invoicing notify failed`).", []string{"state"}, nil)
	notifyEventsDesc = prometheus.NewDesc("notification_events_received_total", "Events the consumer handled (inbox committed), re-deliveries included.", nil, nil)
	notifyNewDesc    = prometheus.NewDesc("notification_events_new_total", "Events new to the inbox, turned into tasks.", nil, nil)
	remindersDesc    = prometheus.NewDesc("notification_reminder_processes", "Payment reminder processes by state (pending: not overdue; active: reminders to come; exhausted: all sent, unpaid; closed: settled, voided or written off).", []string{"state"}, nil)
	remindSentDesc   = prometheus.NewDesc("notification_reminders_sent_total", "Payment reminders this process sent (accepted by the mail server).", nil, nil)
	webhookTasksDesc = prometheus.NewDesc("notification_webhook_tasks", "Webhook delivery tasks by River state (scheduled: waiting for a retry).", []string{"state"}, nil)
	attemptsDesc     = prometheus.NewDesc("notification_webhook_attempt_duration_seconds", "Time of this process's webhook attempts, from sending the request to the receiver's answer (or the failure), by outcome (succeeded: a 2xx).", []string{"outcome"}, nil)
	endpointsDesc    = prometheus.NewDesc("notification_webhook_endpoints", "Webhook endpoints by status (disabled_by_service: every attempt failed for WEBHOOK_DISABLE_AFTER).", []string{"status"}, nil)
)

// reminderStates are the states the process gauge reports, zeros included.
var reminderStates = []string{"pending", "active", "exhausted", "closed"}

// endpointStatuses are the statuses the endpoint gauge reports, zeros included.
var endpointStatuses = []string{"enabled", "disabled_by_tenant", "disabled_by_service"}

// taskStates are the River states every task gauge reports, zeros included.
var taskStates = []string{"available", "scheduled", "retryable", "running", "completed", "discarded", "cancelled"}

type notificationCollector struct{ src NotificationCounts }

// NewNotificationCollector returns a collector of the notification
// context's measurements: tasks by state (one query per scrape) and the
// events its consumer handled.
func NewNotificationCollector(src NotificationCounts) prometheus.Collector {
	return &notificationCollector{src: src}
}

// Describe sends the descriptors.
func (c *notificationCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- notifyTasksDesc
	ch <- notifyEventsDesc
	ch <- notifyNewDesc
	ch <- webhookTasksDesc
	ch <- remindersDesc
	ch <- remindSentDesc
	ch <- endpointsDesc
	ch <- attemptsDesc
}

// Collect sends the counts; a failed task query leaves the gauge out.
func (c *notificationCollector) Collect(ch chan<- prometheus.Metric) {
	received, fresh := c.src.EventCounts()
	ch <- prometheus.MustNewConstMetric(notifyEventsDesc, prometheus.CounterValue, float64(received))
	ch <- prometheus.MustNewConstMetric(notifyNewDesc, prometheus.CounterValue, float64(fresh))
	bounds, counts, seconds := c.src.WebhookAttemptDurations()
	for outcome, cumulative := range counts {
		buckets := make(map[float64]uint64, len(bounds))
		for i, b := range bounds {
			buckets[b] = cumulative[i]
		}
		ch <- prometheus.MustNewConstHistogram(attemptsDesc, cumulative[len(bounds)], seconds[outcome], buckets, outcome)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if processes, sent, err := c.src.ReminderCounts(ctx); err != nil {
		ch <- prometheus.NewInvalidMetric(remindersDesc, err)
	} else {
		ch <- prometheus.MustNewConstMetric(remindSentDesc, prometheus.CounterValue, float64(sent))
		for _, state := range reminderStates {
			ch <- prometheus.MustNewConstMetric(remindersDesc, prometheus.GaugeValue, float64(processes[state]), state)
		}
	}
	for _, g := range []struct {
		desc  *prometheus.Desc
		count func(context.Context) (map[string]int64, error)
		keys  []string
	}{
		{notifyTasksDesc, c.src.TaskCounts, taskStates},
		{webhookTasksDesc, c.src.WebhookTaskCounts, taskStates},
		{endpointsDesc, c.src.WebhookEndpointCounts, endpointStatuses},
	} {
		counts, err := g.count(ctx)
		if err != nil {
			ch <- prometheus.NewInvalidMetric(g.desc, err)
			continue
		}
		for _, key := range g.keys {
			ch <- prometheus.MustNewConstMetric(g.desc, prometheus.GaugeValue, float64(counts[key]), key)
		}
	}
}
