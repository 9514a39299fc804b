package app

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"time"
)

// ServerFile is the server file. It tells the command line that a server owns the warehouse
// and how to reach it: <db>.server.json beside the warehouse, written when
// the server listens and removed when it stops. It holds the admin token, so
// it is readable by the user running the server only.
type ServerFile struct {
	URL   string `json:"url"`
	PID   int    `json:"pid"`
	Token string `json:"token"`
}

func serverFilePath(db string) string {
	if abs, err := filepath.Abs(db); err == nil {
		db = abs
	}
	return db + ".server.json"
}

func newToken() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return hex.EncodeToString(b), nil
}

// writePrivateFile writes b to path so that only the owner can read it,
// whatever was there before: a new file of a random name created with
// O_EXCL (it cannot be a file or link someone planted), synced, then renamed
// over path (a rename replaces a symlink at path instead of following it,
// and a pre-existing file's looser mode goes with it).
func writePrivateFile(path string, b []byte) error {
	dir := filepath.Dir(path)
	suffix, err := newToken()
	if err != nil {
		return err
	}
	tmp := filepath.Join(dir, "."+filepath.Base(path)+"."+suffix[:12]+".tmp")
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	_, werr := f.Write(b)
	serr := f.Sync()
	cerr := f.Close()
	if werr != nil || serr != nil || cerr != nil {
		os.Remove(tmp)
		return fmt.Errorf("writing %s: %v %v %v", tmp, werr, serr, cerr)
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return err
	}
	return nil
}

func writeServerFile(db string, sf ServerFile) (remove func(), err error) {
	path := serverFilePath(db)
	b, _ := json.Marshal(sf)
	if err := writePrivateFile(path, b); err != nil {
		return nil, fmt.Errorf("writing %s (how the command line finds this server): %w", path, err)
	}
	return func() {
		// Remove it only if it is still ours (another server may have taken
		// over the file since).
		if cur, err := os.ReadFile(path); err == nil && bytes.Equal(cur, b) {
			os.Remove(path)
		}
	}, nil
}

// RunningServer returns the server that owns db, if one answers.
func RunningServer(ctx context.Context, db string) (*ServerFile, bool) {
	b, err := os.ReadFile(serverFilePath(db))
	if err != nil {
		return nil, false
	}
	var sf ServerFile
	if json.Unmarshal(b, &sf) != nil || sf.URL == "" {
		return nil, false
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, sf.URL+"/healthz", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, false // a stale file from a server that was killed
	}
	resp.Body.Close()
	return &sf, resp.StatusCode == http.StatusOK
}
