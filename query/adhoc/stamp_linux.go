package adhoc

import (
	"fmt"
	"os"
	"syscall"
)

// fileStamp identifies a file's content without reading it: its device,
// inode, size, and the modification and change times. Any write to the
// file, and any other file renamed or restored in its place, changes it
// (the change time cannot be set back from user space) — on a file system
// with sub-second times (ext4, XFS, btrfs, tmpfs). Where the times are in
// whole seconds two writes in one second could leave it as it was: there it
// is empty, and every publication copies the file.
func fileStamp(fi os.FileInfo) string {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok || st.Mtim.Nsec == 0 && st.Ctim.Nsec == 0 {
		return ""
	}
	return fmt.Sprintf("%d:%d:%d:%d.%09d:%d.%09d", st.Dev, st.Ino, st.Size, st.Mtim.Sec, st.Mtim.Nsec, st.Ctim.Sec, st.Ctim.Nsec)
}
