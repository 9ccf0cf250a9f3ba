package envconfig

import (
	"errors"
	"fmt"
	"io"
	"slices"
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

// Docs returns vars as a help describes them.
func Docs[C any](vars []Var[C]) []Doc {
	docs := make([]Doc, len(vars))
	for i, v := range vars {
		docs[i] = Doc{Name: v.Name, Default: v.Default, Usage: v.Usage}
	}
	return docs
}

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

// Help is a program's help: its name, its commands in the order its usage
// lists them, and every variable it reads.
type Help struct {
	Program  string
	Commands []Command
	Vars     []Doc
}

// ErrNoHelp is Write's error for a topic that is neither a command nor env.
var ErrNoHelp = errors.New("no help")

// Find returns the command called name, or false.
func (h Help) Find(name string) (Command, bool) {
	i := slices.IndexFunc(h.Commands, func(c Command) bool { return c.Name == name })
	if i < 0 {
		return Command{}, false
	}
	return h.Commands[i], true
}

// Usage returns the list of commands, printed by `PROGRAM help` and after
// a command line that names no command.
func (h Help) Usage() string {
	var b strings.Builder
	fmt.Fprintf(&b, "usage: %s <command> [arguments]\n\ncommands:\n", h.Program)
	for _, c := range h.Commands {
		WriteSynopsis(&b, c)
	}
	fmt.Fprintf(&b, `
Run '%[1]s help COMMAND' (or '%[1]s COMMAND -h') for a command's details and the
environment variables it reads. Configuration comes from the environment only:
'%[1]s help env' lists every variable, as does the Configuration table of README.md.
`, h.Program)
	return b.String()
}

// Write writes the help of `PROGRAM help topic...` to w: the usage for no
// topic, every variable for env, or a command's help. It returns an error
// wrapping ErrNoHelp for any other topic, else w's error.
func (h Help) Write(w io.Writer, topic []string) error {
	switch {
	case len(topic) == 0:
		_, err := io.WriteString(w, h.Usage())
		return err
	case len(topic) == 1 && topic[0] == "env":
		var b strings.Builder
		b.WriteString("Environment variables (all optional; README.md's Configuration table says the same):\n\n")
		for _, v := range h.Vars {
			WriteDoc(&b, v)
		}
		_, err := io.WriteString(w, b.String())
		return err
	}
	c, ok := h.Find(topic[0])
	if len(topic) != 1 || !ok {
		names := make([]string, len(h.Commands))
		for i, c := range h.Commands {
			names[i] = c.Name
		}
		return fmt.Errorf("%w for %q; commands: %s, env", ErrNoHelp, strings.Join(topic, " "), strings.Join(names, ", "))
	}
	return WriteHelp(w, h.Program, c, h.Vars)
}

// WriteMisuse writes to w, after the command line args that could not be
// understood, the forms of the command args[0] names, or the usage if it
// names none (or help).
func (h Help) WriteMisuse(w io.Writer, args []string) {
	c, ok := h.Find(strings.Join(args[:min(len(args), 1)], ""))
	if !ok || c.Name == "help" {
		io.WriteString(w, h.Usage())
		return
	}
	fmt.Fprint(w, "usage:\n")
	WriteSynopsis(w, c)
	fmt.Fprintf(w, "(%s help %s says more)\n", h.Program, c.Name)
}

// WantsHelp reports whether args (a command's arguments) ask for its help.
func WantsHelp(args []string) bool {
	return slices.ContainsFunc(args, func(a string) bool { return a == "-h" || a == "--help" || a == "-help" })
}
