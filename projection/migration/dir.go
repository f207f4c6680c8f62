package migration

import "io/fs"

// Dir is a directory of migrations as a program applies them, with
// golang-migrate or goose: the runner main's -migrate, from the list a
// generated registry returns.
type Dir struct {
	// Path is the directory, relative to the module root; it names the
	// directory in messages.
	Path string
	// Files holds the directory's migration files at its root, embedded
	// in the program.
	Files fs.FS
	// VersionTable is the table the tool records the applied versions
	// in. Each directory numbers its migrations from 1, so each needs a
	// table of its own.
	VersionTable string
}
