package notifypg

import (
	"strings"
	"unicode/utf8"
)

// printableError is an error whose text, which a receiver or a mail server
// may have chosen, holds a NUL or bytes that are not UTF-8; Error returns
// it with those replaced by U+FFFD. Is and As see the error it wraps.
type printableError struct{ err error }

func (e printableError) Error() string {
	return strings.ReplaceAll(strings.ToValidUTF8(e.err.Error(), "\uFFFD"), "\x00", "\uFFFD")
}

func (e printableError) Unwrap() error { return e.err }

// printable returns err, wrapped in a printableError if its text needs it.
// What a worker returns becomes River's record of the task, a JSON column
// that refuses a NUL: River would then fail to settle the task, and every
// other task settled in the same batch, and leave them running.
func printable(err error) error {
	if err == nil {
		return nil
	}
	if s := err.Error(); utf8.ValidString(s) && !strings.ContainsRune(s, 0) {
		return err
	}
	return printableError{err}
}
