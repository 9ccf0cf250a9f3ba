package main

import (
	"context"
	"flag"
	"fmt"
	"io"

	"github.com/invoicing-dev/invoicing/internal/invoicing/invoicingsvc"
)

// apikey runs "apikey create --tenant NAME". The key is printed once, alone on
// the last line, so scripts can take it with `tail -n1`.
func apikey(ctx context.Context, cfg config, args []string, stdout io.Writer) error {
	if len(args) == 0 || args[0] != "create" {
		return fmt.Errorf("%w: apikey takes: create --tenant NAME", errUsage)
	}
	fs := flag.NewFlagSet("apikey create", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	tenant := fs.String("tenant", "", "tenant name")
	if err := fs.Parse(args[1:]); err != nil || fs.NArg() != 0 || *tenant == "" {
		return fmt.Errorf("%w: apikey create needs --tenant NAME", errUsage)
	}
	a, err := invoicingsvc.OpenAdmin(ctx, cfg.Invoicing.DatabaseURL)
	if err != nil {
		return err
	}
	defer a.Close()
	key, id, err := a.CreateAPIKey(ctx, *tenant)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(stdout, "tenant %s (%s)\nAPI key (shown once, store it now):\n%s\n", *tenant, id, key)
	return err
}
