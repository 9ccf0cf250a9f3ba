// Package migrations embeds the notification context's golang-migrate SQL
// files, applied by notifypg.Migrate.
package migrations

import "embed"

// FS holds the migrations, named NNNNNN_name.{up,down}.sql.
//
//go:embed *.sql
var FS embed.FS
