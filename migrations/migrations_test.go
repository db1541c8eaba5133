package migrations

import (
	"io/fs"
	"regexp"
	"strconv"
	"testing"
)

// TestFileNames keeps the embedded set in the shape the runner in storage expects: every file
// named NNNN_description.sql, numbered 1, 2, 3… without gaps or duplicates, so a mistake made
// while merging two branches fails here rather than on a user's database.
func TestFileNames(t *testing.T) {
	entries, err := fs.ReadDir(FS, ".")
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) == 0 {
		t.Fatal("no migrations embedded")
	}
	name := regexp.MustCompile(`^(\d{4})_[a-z0-9_]+\.sql$`)
	for i, e := range entries {
		m := name.FindStringSubmatch(e.Name())
		if m == nil {
			t.Errorf("%s: want NNNN_description.sql", e.Name())
			continue
		}
		v, _ := strconv.Atoi(m[1])
		if want := i + 1; v != want {
			t.Errorf("%s: version %d, want %d (versions are contiguous from 1)", e.Name(), v, want)
		}
		body, err := fs.ReadFile(FS, e.Name())
		if err != nil {
			t.Fatal(err)
		}
		if len(body) == 0 {
			t.Errorf("%s is empty", e.Name())
		}
	}
}
