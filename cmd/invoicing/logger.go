package main

import (
	"io"
	"log/slog"
)

// newLogger returns the JSON logger every component receives explicitly.
func newLogger(w io.Writer, level slog.Level) *slog.Logger {
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: level}))
}
