//go:build !(linux || darwin || freebsd)

package record

import "errors"

// FreeBytes returns the space available on the file system holding path; it
// is not implemented on this platform and returns -1 (unknown).
func FreeBytes(path string) (int64, error) {
	return -1, errors.New("record: free space unknown on this platform")
}
