package deliver

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestFolder(t *testing.T) {
	root := filepath.Join(t.TempDir(), "archive")
	clock := newFakeClock()
	ch, err := NewFolder("archive", FolderConfig{Root: root}, WithClock(clock))
	if err != nil {
		t.Fatal(err)
	}
	// 2026-03-01 17:30 UTC is 2026-03-02 in Shanghai.
	date := time.Date(2026, 3, 1, 17, 30, 0, 0, time.UTC)
	msg := Message{Report: "weekly-pack", Key: "k", Date: date, Recipient: Recipient{ID: "east"},
		Attachments: []Attachment{BytesAttachment("华东周报.pdf", "", []byte("%PDF-1.7 v1"))}}
	rc, err := ch.Send(context.Background(), msg)
	if err != nil {
		t.Fatal(err)
	}
	if rc.ID != "weekly-pack/2026-03-02/east" {
		t.Errorf("receipt id %q", rc.ID)
	}
	path := filepath.Join(root, "weekly-pack", "2026-03-02", "east", "华东周报.pdf")
	if b, err := os.ReadFile(path); err != nil || string(b) != "%PDF-1.7 v1" {
		t.Fatalf("%s: %q %v", path, b, err)
	}
	for _, p := range []string{root, filepath.Dir(filepath.Dir(filepath.Dir(path))), filepath.Dir(filepath.Dir(path)), filepath.Dir(path), path} {
		st, err := os.Lstat(p)
		if err != nil {
			t.Fatal(err)
		}
		if st.Mode().Perm()&0o077 != 0 {
			t.Errorf("%s has mode %v: group or others can read it", p, st.Mode().Perm())
		}
	}
	// A resend replaces the file whole and leaves no temporary file.
	msg.Attachments = []Attachment{BytesAttachment("华东周报.pdf", "", []byte("%PDF-1.7 v2"))}
	if _, err := ch.Send(context.Background(), msg); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(path); string(b) != "%PDF-1.7 v2" {
		t.Errorf("after resend: %q", b)
	}
	entries, _ := os.ReadDir(filepath.Dir(path))
	if len(entries) != 1 {
		t.Errorf("folder holds %v", entries)
	}
}

func TestFolderTraversalAndLinks(t *testing.T) {
	base := t.TempDir()
	root := filepath.Join(base, "archive")
	outside := filepath.Join(base, "outside")
	if err := os.MkdirAll(outside, 0o700); err != nil {
		t.Fatal(err)
	}
	ch, err := NewFolder("archive", FolderConfig{Root: root, TimeZone: "UTC"}, WithClock(newFakeClock()))
	if err != nil {
		t.Fatal(err)
	}
	date := time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)

	// Names that try to climb out stay inside, cleaned.
	msg := Message{Report: "../../outside", Key: "k", Date: date, Recipient: Recipient{ID: "../.."},
		Attachments: []Attachment{BytesAttachment("../../../outside/x.csv", "", []byte("x"))}}
	rc, err := ch.Send(context.Background(), msg)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range strings.Split(rc.ID, "/") {
		if c == ".." || c == "." || c == "" {
			t.Errorf("receipt %q", rc.ID)
		}
	}
	if entries, _ := os.ReadDir(outside); len(entries) != 0 {
		t.Fatalf("wrote outside the root: %v", entries)
	}
	var files []string
	filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			rel, _ := filepath.Rel(root, p)
			files = append(files, rel)
		}
		return nil
	})
	if len(files) != 1 || files[0] != filepath.Join("_.._outside", "2026-03-02", "_", "_.._.._outside_x.csv") {
		t.Errorf("files %q", files)
	}

	// A symbolic link planted where the day folder goes is refused, and
	// nothing reaches its target.
	if err := os.MkdirAll(filepath.Join(root, "pack"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, filepath.Join(root, "pack", "2026-03-02")); err != nil {
		t.Fatal(err)
	}
	msg = Message{Report: "pack", Key: "k", Date: date, Recipient: Recipient{ID: "ceo"}, Attachments: []Attachment{BytesAttachment("a.pdf", "", []byte("x"))}}
	_, err = ch.Send(context.Background(), msg)
	if !IsPermanent(err) || !strings.Contains(err.Error(), "symbolic link") {
		t.Errorf("planted folder link: %v", err)
	}
	// A link planted at the file's name is replaced, not followed.
	if err := os.MkdirAll(filepath.Join(root, "pack2", "2026-03-02", "ceo"), 0o700); err != nil {
		t.Fatal(err)
	}
	target := filepath.Join(outside, "victim")
	os.WriteFile(target, []byte("keep"), 0o600)
	if err := os.Symlink(target, filepath.Join(root, "pack2", "2026-03-02", "ceo", "a.pdf")); err != nil {
		t.Fatal(err)
	}
	msg.Report = "pack2"
	if _, err := ch.Send(context.Background(), msg); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(target); string(b) != "keep" {
		t.Errorf("wrote through a planted link: %q", b)
	}
	if st, _ := os.Lstat(filepath.Join(root, "pack2", "2026-03-02", "ceo", "a.pdf")); st.Mode()&os.ModeSymlink != 0 {
		t.Error("the planted link is still there")
	}
	if entries, _ := os.ReadDir(outside); len(entries) != 1 {
		t.Errorf("outside holds %v", entries)
	}
}

func TestSafeName(t *testing.T) {
	for in, want := range map[string]string{
		"华东周报.pdf":     "华东周报.pdf",
		"..":           "f",
		".":            "f",
		"":             "f",
		".hidden":      "hidden",
		"a/b\\c:d*?.x": "a_b_c_d__.x",
		"tab\there":    "tab_here",
		"nul\x00x":     "nul_x",
		"trailing. . ": "trailing",
		"bad\xffutf8":  "bad_utf8",
	} {
		if got := SafeName(in, "f"); got != want {
			t.Errorf("SafeName(%q) = %q, want %q", in, got, want)
		}
	}
	long := strings.Repeat("销", 100) + ".xlsx"
	got := SafeName(long, "f")
	if len(got) > 200 || !strings.HasSuffix(got, ".xlsx") || !strings.HasPrefix(got, "销销") {
		t.Errorf("long name → %q (%d bytes)", got, len(got))
	}
}

// A process killed while writing a delivery's file leaves its temporary
// file; the resend of that delivery after the restart (same key) removes
// it. chaos report found them left for good, under a random name.
func TestFolderResendRemovesWhatAKilledWriteLeft(t *testing.T) {
	root := filepath.Join(t.TempDir(), "archive")
	ch, err := NewFolder("archive", FolderConfig{Root: root}, WithClock(newFakeClock()))
	if err != nil {
		t.Fatal(err)
	}
	date := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	dir := filepath.Join(root, "daily", "2026-03-02", "east")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	// The killed write: half of the file, under the delivery's temporary name.
	left := filepath.Join(dir, tempName("daily.xlsx", "key-1"))
	if err := os.WriteFile(left, []byte("PK\x03\x04 half"), 0o600); err != nil {
		t.Fatal(err)
	}
	msg := Message{Report: "daily", Key: "key-1", Date: date, Recipient: Recipient{ID: "east"},
		Attachments: []Attachment{BytesAttachment("daily.xlsx", "", []byte("whole"))}}
	if _, err := ch.Send(context.Background(), msg); err != nil {
		t.Fatal(err)
	}
	entries, _ := os.ReadDir(dir)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if strings.Join(names, ",") != "daily.xlsx" {
		t.Errorf("the folder holds %v, want only daily.xlsx", names)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "daily.xlsx")); string(b) != "whole" {
		t.Errorf("daily.xlsx: %q", b)
	}
	// Another delivery's temporary name differs: a write of it in progress is not touched.
	if tempName("daily.xlsx", "key-1") == tempName("daily.xlsx", "key-2") || tempName("a", "") == tempName("a", "") {
		t.Error("temporary names collide")
	}
}
