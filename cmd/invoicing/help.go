package main

import (
	"errors"
	"fmt"
	"io"
	"slices"

	"github.com/invoicing-dev/invoicing/internal/devstack"
	"github.com/invoicing-dev/invoicing/internal/envconfig"
	"github.com/invoicing-dev/invoicing/internal/invoicing/invoicingsvc"
	"github.com/invoicing-dev/invoicing/internal/invoicing/tracing"
	"github.com/invoicing-dev/invoicing/internal/notification/notifysvc"
)

// command is one subcommand's help: how it is called, what it does, and the
// environment variables it reads (names in envVars).
type command = envconfig.Command

// commands is every subcommand, in the order the usage lists them: each
// context's own, and the process's.
var commands = []command{
	traced(invoicingsvc.ServeHelp), traced(invoicingsvc.RelayHelp), invoicingsvc.MigrateHelp,
	invoicingsvc.APIKeyHelp, invoicingsvc.OutboxHelp, traced(notifysvc.Help), invoicingsvc.OverdueHelp,
	devstack.Help,
	{Name: "version", Synopsis: []string{"version\tprint the module version and the VCS revision it was built from"},
		About: `Prints what debug.ReadBuildInfo knows: the module and its version, the VCS revision, its time
and whether the tree had uncommitted changes, and the Go version. go run and -buildvcs=false
leave out the revision.`},
	{Name: "help", Synopsis: []string{
		"help [COMMAND]\tthis list, or a command's help (also: invoicing COMMAND -h)",
		"help env\tevery environment variable, its default and meaning"},
		About: `Help reads no configuration: it works whatever the environment holds.`},
}

// helps is the binary's help: its commands and every variable it reads.
var helps = envconfig.Help{Program: "invoicing", Commands: commands, Vars: envconfig.Docs(envVars)}

// traced returns c reading the tracing variables too: the process traces
// what c runs (startTracing).
func traced(c command) command {
	c.Env = slices.Concat(c.Env, envconfig.Names(tracing.Vars))
	return c
}

// help writes the help of `invoicing help topic...` to w; a topic it has
// no help for is a usage error.
func help(w io.Writer, topic []string) error {
	err := helps.Write(w, topic)
	if errors.Is(err, envconfig.ErrNoHelp) {
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	return err
}
