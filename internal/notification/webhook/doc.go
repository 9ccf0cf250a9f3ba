// Package webhook is the webhook part of the notification context: the
// endpoints a tenant registers, the deliveries of its events to them, signed
// per Standard Webhooks 1.0 (standardwebhooks.com), and the address checks
// that keep the service from being used against its own network (SSRF).
//
// Like the rest of the context it knows invoicing only through the
// published events. One stored task per (event, endpoint) delivers the
// CloudEvent exactly as published, retried on its own schedule: a failing
// endpoint never repeats or delays another's deliveries.
package webhook
