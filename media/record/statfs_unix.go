//go:build linux || darwin || freebsd

package record

import "syscall"

// FreeBytes returns the space available to unprivileged users on the file
// system holding path, for Usage.FreeBytes.
func FreeBytes(path string) (int64, error) {
	var st syscall.Statfs_t
	if err := syscall.Statfs(path, &st); err != nil {
		return -1, err
	}
	return int64(st.Bavail) * int64(st.Bsize), nil
}

// DiskBytes returns the space available to unprivileged users and the size
// of the file system holding path.
func DiskBytes(path string) (free, total int64, err error) {
	var st syscall.Statfs_t
	if err := syscall.Statfs(path, &st); err != nil {
		return -1, -1, err
	}
	return int64(st.Bavail) * int64(st.Bsize), int64(st.Blocks) * int64(st.Bsize), nil
}
