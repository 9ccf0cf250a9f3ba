package main

import (
	"context"
	"fmt"
	"io"

	"github.com/invoicing-dev/invoicing/internal/invoicing/invoicingsvc"
)

// apikey runs "apikey create --tenant NAME". The key is printed once, alone on
// the last line, so scripts can take it with `tail -n1`.
func apikey(ctx context.Context, cfg config, args []string, stdout io.Writer) error {
	tenant, err := invoicingsvc.ParseAPIKeyCommand(args)
	if err != nil {
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	a, err := invoicingsvc.OpenAdmin(ctx, cfg.Invoicing.DatabaseURL)
	if err != nil {
		return err
	}
	defer a.Close()
	key, id, err := a.CreateAPIKey(ctx, tenant)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(stdout, "tenant %s (%s)\nAPI key (shown once, store it now):\n%s\n", tenant, id, key)
	return err
}
