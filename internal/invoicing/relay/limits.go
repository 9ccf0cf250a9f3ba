package relay

// MaxEventBytes bounds what the relay publishes for one event of any invoice
// the domain's limits allow: its CloudEvent and its message headers. The
// broker's max_payload must be at least this (the NATS publisher checks it at
// start).
//
// The largest event is an invoice.created or invoice.issued of
// invoice.MaxEventLines lines of invoice.MaxDescription characters: 300,000
// bytes if every character took 6 (the longest any character encodes to in
// JSON: \u2028, or \u003c where HTML is escaped), about 355,000 with the rest
// of the event, the largest metadata (invoice.MaxMetadataBytes), the longest
// customer, and the longest trace extensions and headers. The relay writes
// every string in its shortest form (no HTML escaping, U+2028 raw), so in
// practice a 4-byte character is the worst, about 253,000 bytes.
// TestLargestEventsFitMaxEventBytes measures both.
const MaxEventBytes = 384 << 10
