// Package migrations holds the database schema as golang-migrate SQL files,
// embedded so the binary can migrate without files on disk.
package migrations

import "embed"

// FS holds the *.sql migration files.
//
//go:embed *.sql
var FS embed.FS
