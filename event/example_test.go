package event_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/invoicing-dev/invoicing/event"
)

// A message body read as its CloudEvent, then its data as the struct of
// its type.
func ExampleParse() {
	body := []byte(`{"specversion":"1.0","id":"01937a4e-8a2b-7c3d-9e4f-0a1b2c3d4e5f","source":"/invoicing",
		"type":"invoicing.invoice.paid","subject":"01937a4e-0000-7000-8000-000000000001","time":"2026-12-01T10:00:00Z",
		"datacontenttype":"application/json","tenantid":"01937a4e-0000-7000-8000-0000000000aa","sequence":"1042","invoiceversion":4,
		"data":{"invoice_id":"01937a4e-0000-7000-8000-000000000001","number":"INV-2026-000042",
		"customer":{"name":"Ada Lovelace","email":"ada@example.com"},"currency":"EUR","total":15000,
		"amount_paid":15000,"pre_payment_credit":0,"paid_at":"2026-12-01T10:00:00Z"}}`)
	ce, err := event.Parse(body)
	if err != nil {
		fmt.Println(err)
		return
	}
	data, err := ce.Decode()
	if err != nil {
		fmt.Println(err)
		return
	}
	switch d := data.(type) {
	case *event.InvoicePaid:
		fmt.Printf("%s paid %d %s (version %d)\n", d.Number, d.AmountPaid, d.Currency, ce.InvoiceVersion)
	}
	// Output: INV-2026-000042 paid 15000 EUR (version 4)
}

// A subscriber: a durable JetStream consumer of the paid invoices on the
// stream INVOICING, acknowledging each event once handled and skipping the
// types it does not know. Deduplicate on ce.ID: delivery is at least once.
func Example_subscriber() {
	nc, err := nats.Connect("nats://127.0.0.1:4222")
	if err != nil {
		log.Fatal(err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		log.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cons, err := js.CreateOrUpdateConsumer(ctx, "INVOICING", jetstream.ConsumerConfig{
		Durable: "erp-payments", FilterSubject: event.TypeInvoicePaid, AckPolicy: jetstream.AckExplicitPolicy,
	})
	if err != nil {
		log.Fatal(err)
	}
	cc, err := cons.Consume(func(msg jetstream.Msg) {
		ce, err := event.Parse(msg.Data())
		if err != nil {
			_ = msg.Term() // not an event of this service: never redeliver
			return
		}
		data, err := ce.Decode()
		if errors.Is(err, event.ErrUnknownType) {
			_ = msg.Ack()
			return
		}
		if paid, ok := data.(*event.InvoicePaid); ok {
			fmt.Println("paid:", paid.Number, ce.ID)
		}
		_ = msg.Ack()
	})
	if err != nil {
		log.Fatal(err)
	}
	defer cc.Stop()
	<-ctx.Done()
}
