//go:build !unix

package deliver

import (
	"io"
	"os"
	"path/filepath"
)

// writePrivate writes r to root/dirs.../name through an os.Root, which
// refuses any path that leaves root (links inside root are followed: this
// fallback is weaker than the O_NOFOLLOW walk of Unix systems).
func writePrivate(root string, dirs []string, name string, r io.Reader) error {
	rt, err := os.OpenRoot(root)
	if err != nil {
		return err
	}
	defer rt.Close()
	dir := filepath.Join(dirs...)
	if err := rt.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	tmp := filepath.Join(dir, tempName(name))
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
