package envconfig

import (
	"fmt"
	"io"
	"strings"
)

// Command is one subcommand's help: how it is called, what it does, and the
// environment variables it reads, by name. A context keeps the help of its
// own commands beside their code; a program lists them all.
type Command struct {
	Name     string
	Synopsis []string // call forms, each with its one-line summary after a tab
	About    string   // what it does, in a few lines
	Env      []string
}

// Doc is what a help says of one variable: its name, default and meaning.
type Doc struct{ Name, Default, Usage string }

// Names returns the names of vars, in their order.
func Names[C any](vars []Var[C]) []string {
	names := make([]string, len(vars))
	for i, v := range vars {
		names[i] = v.Name
	}
	return names
}

// WriteSynopsis writes c's call forms with their summaries, aligned.
func WriteSynopsis(w io.Writer, c Command) {
	for _, s := range c.Synopsis {
		form, summary, _ := strings.Cut(s, "\t")
		fmt.Fprintf(w, "  %-30s %s\n", form, summary)
	}
}

// WriteHelp writes the help of c, a command of program: its call forms,
// what it does, the forms' summaries, and the variables it reads as vars
// describe them (with their defaults), or that it reads none.
func WriteHelp(w io.Writer, program string, c Command, vars []Doc) error {
	var b strings.Builder
	fmt.Fprintf(&b, "usage:\n")
	for _, s := range c.Synopsis {
		form, _, _ := strings.Cut(s, "\t")
		fmt.Fprintf(&b, "  %s %s\n", program, form)
	}
	fmt.Fprintf(&b, "\n%s\n\n", c.About)
	WriteSynopsis(&b, c)
	if len(c.Env) > 0 {
		fmt.Fprintf(&b, "\nenvironment (defaults in parentheses; every variable: %s help env, or README.md's Configuration table):\n", program)
		for _, name := range c.Env {
			for _, v := range vars {
				if v.Name == name {
					WriteDoc(&b, v)
				}
			}
		}
	} else {
		b.WriteString("\nenvironment: none\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// WriteDoc writes one variable, its default and its meaning.
func WriteDoc(w io.Writer, v Doc) {
	def := v.Default
	if def == "" {
		def = "empty"
	}
	fmt.Fprintf(w, "  %s (%s)\n      %s\n", v.Name, def, strings.ReplaceAll(v.Usage, "`", ""))
}
