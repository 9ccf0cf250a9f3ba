package invoicingsvc

import "testing"

// TestConfigDefaults: a process without the API runs the relay, which then
// needs a NATS URL; the batch size and shutdown deadline have defaults.
func TestConfigDefaults(t *testing.T) {
	var c Config
	c.setDefaults()
	if !c.Relay || c.OverdueBatchSize != 100 || c.ShutdownTimeout == 0 {
		t.Errorf("defaults %+v: want the relay on, 100 invoices a batch, a shutdown deadline", c)
	}
	if err := c.Validate(); err == nil {
		t.Error("Validate accepts a relay without NATSURL")
	}
	c.NATSURL = "nats://127.0.0.1:4222"
	if err := c.Validate(); err != nil {
		t.Errorf("Validate: %v", err)
	}
}
