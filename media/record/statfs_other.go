//go:build !(linux || darwin || freebsd)

package record

import "errors"

// FreeBytes returns the space available on the file system holding path; it
// is not implemented on this platform and returns -1 (unknown).
func FreeBytes(path string) (int64, error) {
	return -1, errors.New("record: free space unknown on this platform")
}

// DiskBytes returns the free and total space of the file system holding
// path; it is not implemented on this platform and returns -1 (unknown).
func DiskBytes(path string) (free, total int64, err error) {
	return -1, -1, errors.New("record: disk space unknown on this platform")
}
