package main

import (
	"flag"
	"fmt"
	"os"
	"strings"
	"testing"
)

var updateREADME = flag.Bool("update-readme", false, "rewrite the README's configuration table from envVars")

// The README's configuration table sits between these markers.
const (
	configBegin = "<!-- config table: generated from cmd/invoicing/config.go by `go test ./cmd/invoicing -run TestREADMEConfigTable -update-readme` -->\n"
	configEnd   = "<!-- end of config table -->\n"
)

// configTable renders envVars as the README's Markdown table.
func configTable() string {
	var b strings.Builder
	b.WriteString("| Variable | Default | Meaning |\n|---|---|---|\n")
	for _, v := range envVars {
		def := "(empty)"
		if v.Default != "" {
			def = "`" + v.Default + "`"
		}
		fmt.Fprintf(&b, "| `%s` | %s | %s |\n", v.Name, def, strings.ReplaceAll(v.Usage, "|", `\|`))
	}
	return b.String()
}

// TestREADMEConfigTable keeps the README's one table of settings equal to
// envVars, the variables the binary reads, with their defaults: neither can
// change without the other.
func TestREADMEConfigTable(t *testing.T) {
	const path = "../../README.md"
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	readme := string(b)
	before, rest, ok := strings.Cut(readme, configBegin)
	table, after, ok2 := strings.Cut(rest, configEnd)
	if !ok || !ok2 {
		t.Fatalf("README.md lacks the markers of the configuration table:\n%s%s", configBegin, configEnd)
	}
	want := configTable()
	if table == want {
		return
	}
	if *updateREADME {
		if err := os.WriteFile(path, []byte(before+configBegin+want+configEnd+after), 0o644); err != nil {
			t.Fatal(err)
		}
		t.Log("README.md configuration table rewritten")
		return
	}
	t.Errorf("README.md's configuration table differs from envVars (cmd/invoicing/config.go); "+
		"run `go test ./cmd/invoicing -run TestREADMEConfigTable -update-readme`. Want:\n%s", want)
}
