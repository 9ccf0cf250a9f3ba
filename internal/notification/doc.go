// Package notification is the notifications bounded context: it consumes the
// invoicing service's published events, exactly as another team's service
// would, and sends the customer the emails an invoicing service is expected
// to send (the invoice when issued, a receipt when paid, a notice when
// voided).
//
// It knows invoicing only through the published contract (api/asyncapi.yaml):
// it decodes the CloudEvents into its own types and imports nothing of the
// invoicing packages (internal/arch_test.go enforces it). The pipeline, whose
// adapters live in the sub-packages:
//
//  1. a durable JetStream consumer (package notifynats) hands each event to
//  2. the inbox (package notifypg), which in one transaction records the
//     event id (a re-delivery stops here) and stores one task per Reaction;
//  3. the tasks run after the commit (River workers in package notifypg),
//     each retried on its own, and send an Email through a Mailer (package
//     notifysmtp). Sending may happen twice; the Message-ID derived from the event
//     id and the reaction makes the duplicate recognisable.
package notification
