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
}

var (
	notifyTasksDesc  = prometheus.NewDesc("notification_tasks", "Email tasks by River state (discarded: parked, see `invoicing notify failed`).", []string{"state"}, nil)
	notifyEventsDesc = prometheus.NewDesc("notification_events_received_total", "Events the consumer handled (inbox committed), re-deliveries included.", nil, nil)
	notifyNewDesc    = prometheus.NewDesc("notification_events_new_total", "Events new to the inbox, turned into tasks.", nil, nil)
	remindersDesc    = prometheus.NewDesc("notification_reminder_processes", "Payment reminder processes by state (pending: not overdue; active: reminders to come; exhausted: all sent, unpaid; closed: settled, voided or written off).", []string{"state"}, nil)
	remindSentDesc   = prometheus.NewDesc("notification_reminders_sent_total", "Payment reminders this process sent (accepted by the mail server).", nil, nil)
	webhookTasksDesc = prometheus.NewDesc("notification_webhook_tasks", "Webhook delivery tasks by River state (scheduled: waiting for a retry).", []string{"state"}, nil)
)

// reminderStates are the states the process gauge reports, zeros included.
var reminderStates = []string{"pending", "active", "exhausted", "closed"}

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
}

// Collect sends the counts; a failed task query leaves the gauge out.
func (c *notificationCollector) Collect(ch chan<- prometheus.Metric) {
	received, fresh := c.src.EventCounts()
	ch <- prometheus.MustNewConstMetric(notifyEventsDesc, prometheus.CounterValue, float64(received))
	ch <- prometheus.MustNewConstMetric(notifyNewDesc, prometheus.CounterValue, float64(fresh))
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
	for desc, count := range map[*prometheus.Desc]func(context.Context) (map[string]int64, error){
		notifyTasksDesc: c.src.TaskCounts, webhookTasksDesc: c.src.WebhookTaskCounts,
	} {
		counts, err := count(ctx)
		if err != nil {
			ch <- prometheus.NewInvalidMetric(desc, err)
			continue
		}
		for _, state := range taskStates {
			ch <- prometheus.MustNewConstMetric(desc, prometheus.GaugeValue, float64(counts[state]), state)
		}
	}
}
