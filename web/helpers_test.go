package web

import (
	"fmt"
	"io/fs"
	"log/slog"
	"os"
)

func discard() *slog.Logger { return slog.New(slog.DiscardHandler) }

// readFileMode reads a file after checking its permission bits.
func readFileMode(path string, want fs.FileMode) ([]byte, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if st.Mode().Perm() != want {
		return nil, fmt.Errorf("%s has mode %v, want %v", path, st.Mode().Perm(), want)
	}
	return os.ReadFile(path)
}
