package main

import (
	"fmt"
	"io"
	"runtime/debug"
	"strings"
)

// printVersion writes `invoicing version`'s report of info (from
// debug.ReadBuildInfo; nil if the binary carries none): the module and its
// version, the VCS revision, its commit time and whether the tree was
// modified, and the Go version. It returns the writer's error.
func printVersion(w io.Writer, info *debug.BuildInfo) error {
	if info == nil {
		_, err := fmt.Fprintln(w, "invoicing: no build information in this binary")
		return err
	}
	settings := map[string]string{}
	for _, s := range info.Settings {
		settings[s.Key] = s.Value
	}
	var b strings.Builder
	fmt.Fprintf(&b, "invoicing %s\n", orUnknown(info.Main.Version))
	fmt.Fprintf(&b, "  module    %s\n", orUnknown(info.Main.Path))
	if rev, ok := settings["vcs.revision"]; ok {
		fmt.Fprintf(&b, "  revision  %s\n", rev)
		fmt.Fprintf(&b, "  time      %s\n", orUnknown(settings["vcs.time"]))
		fmt.Fprintf(&b, "  modified  %s\n", orUnknown(settings["vcs.modified"]))
	} else {
		b.WriteString("  revision  unknown (built without VCS information: go run, go test or -buildvcs=false)\n")
	}
	fmt.Fprintf(&b, "  go        %s\n", info.GoVersion)
	_, err := io.WriteString(w, b.String())
	return err
}

func orUnknown(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}
