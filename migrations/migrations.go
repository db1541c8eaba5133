// Package migrations holds the database schema as numbered SQL files embedded into the binary.
//
// Each file is named NNNN_description.sql (for example 0001_init.sql); the number is the schema
// version and files are applied in numeric order, each exactly once. As in gitea, a migration is
// frozen once released: never edit or renumber a released file, add a new one instead, because
// databases in the field have already run the old text and will never run it again.
package migrations

import "embed"

// FS holds every migration file of this binary, at the root of the file system.
//
//go:embed *.sql
var FS embed.FS
