//go:build !unix

package deliver

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// writePrivate writes r to root/dirs.../name through an os.Root, which
// refuses any path that leaves root (links inside root are followed: this
// fallback is weaker than the O_NOFOLLOW walk of Unix systems). What an
// earlier, killed write left at the temporary name tmp is removed first.
func writePrivate(root string, dirs []string, name, tmp string, r io.Reader) error {
	rt, err := os.OpenRoot(root)
	if err != nil {
		return err
	}
	defer rt.Close()
	dir := filepath.Join(dirs...)
	if err := rt.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	tmp = filepath.Join(dir, tmp)
	if err := rt.Remove(tmp); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	f, err := rt.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, r); err != nil {
		f.Close()
		rt.Remove(tmp)
		return err
	}
	if err := f.Close(); err != nil {
		rt.Remove(tmp)
		return err
	}
	return rt.Rename(tmp, filepath.Join(dir, name))
}
