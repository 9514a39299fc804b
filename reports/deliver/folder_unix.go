//go:build unix

package deliver

import (
	"errors"
	"fmt"
	"io"
	"os"

	"golang.org/x/sys/unix"
)

// writePrivate writes r to root/dirs.../name: each folder is created 0700
// if missing and opened with O_NOFOLLOW relative to its parent (a symbolic
// link anywhere below root fails), the file is written 0600 under the
// temporary name tmp (what an earlier, killed write left there removed
// first), synced, and renamed over name.
func writePrivate(root string, dirs []string, name, tmp string, r io.Reader) (err error) {
	fd, err := unix.Open(root, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return &os.PathError{Op: "open", Path: root, Err: err}
	}
	defer func() { unix.Close(fd) }()
	at := root
	for _, d := range dirs {
		at += "/" + d
		if err := unix.Mkdirat(fd, d, 0o700); err != nil && !errors.Is(err, unix.EEXIST) {
			return &os.PathError{Op: "mkdir", Path: at, Err: err}
		}
		next, err := unix.Openat(fd, d, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
		if err != nil {
			if errors.Is(err, unix.ELOOP) || errors.Is(err, unix.ENOTDIR) {
				return fmt.Errorf("%s is a symbolic link or not a folder: refusing to follow it", at)
			}
			return &os.PathError{Op: "open", Path: at, Err: err}
		}
		unix.Close(fd)
		fd = next
	}
	if err := unix.Unlinkat(fd, tmp, 0); err != nil && !errors.Is(err, unix.ENOENT) {
		return &os.PathError{Op: "remove", Path: at + "/" + tmp, Err: err}
	}
	ffd, err := unix.Openat(fd, tmp, unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o600)
	if err != nil {
		return &os.PathError{Op: "create", Path: at + "/" + tmp, Err: err}
	}
	f := os.NewFile(uintptr(ffd), at+"/"+tmp)
	defer func() {
		if err != nil {
			_ = unix.Unlinkat(fd, tmp, 0)
		}
	}()
	if _, err = io.Copy(f, r); err != nil {
		f.Close()
		return err
	}
	if err = f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err = f.Close(); err != nil {
		return err
	}
	// renameat replaces name itself, never what a link at name points to.
	if err = unix.Renameat(fd, tmp, fd, name); err != nil {
		return &os.PathError{Op: "rename", Path: at + "/" + name, Err: err}
	}
	return unix.Fsync(fd)
}
