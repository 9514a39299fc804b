package app

import (
	"os"
	"path/filepath"
	"testing"
)

// The server file holds the admin token (issue 18, finding 8): whatever was
// at its path before — a world-readable file, a link planted towards
// another file — it ends up a regular file readable by its owner only, and
// nothing is written through the link.
func TestServerFileIsPrivateWhateverWasThere(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "wh.duckdb")
	path := serverFilePath(db)

	// A pre-existing file with a looser mode.
	if err := os.WriteFile(path, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	os.Chmod(path, 0o644)
	remove, err := writeServerFile(db, ServerFile{URL: "http://127.0.0.1:1", PID: 1, Token: "secret-1"})
	if err != nil {
		t.Fatal(err)
	}
	if st, err := os.Lstat(path); err != nil || !st.Mode().IsRegular() || st.Mode().Perm() != 0o600 {
		t.Fatalf("over a 0644 file: %v %v", st.Mode(), err)
	}
	remove()
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Fatalf("the server file outlived its server: %v", err)
	}

	// A link planted at the path, towards a file the attacker wants written.
	victim := filepath.Join(dir, "victim")
	os.WriteFile(victim, []byte("keep"), 0o600)
	if err := os.Symlink(victim, path); err != nil {
		t.Fatal(err)
	}
	if _, err := writeServerFile(db, ServerFile{URL: "http://127.0.0.1:1", PID: 1, Token: "secret-2"}); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(victim); string(b) != "keep" {
		t.Fatalf("the token was written through a planted link: %q", b)
	}
	if st, err := os.Lstat(path); err != nil || !st.Mode().IsRegular() || st.Mode().Perm() != 0o600 {
		t.Fatalf("over a planted link: %v %v", st.Mode(), err)
	}
	// No temporary file is left beside it.
	entries, _ := os.ReadDir(dir)
	if len(entries) != 2 {
		t.Fatalf("files left in the directory: %v", entries)
	}
}
