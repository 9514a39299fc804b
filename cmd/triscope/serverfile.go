package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/triscope/triscope/dashboards"
	"github.com/triscope/triscope/etl"
)

// The server file tells `triscope load` that a server owns the warehouse and
// how to reach it: written beside the warehouse (mode 0600, so only the user
// running the server can read the token) when the server listens, removed when
// it stops.
type serverFile struct {
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

func newLoadToken() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return hex.EncodeToString(b), nil
}

func writeServerFile(db string, sf serverFile) (remove func(), err error) {
	path := serverFilePath(db)
	b, _ := json.Marshal(sf)
	if err := os.WriteFile(path, b, 0o600); err != nil {
		return nil, fmt.Errorf("writing %s (how 'triscope load' finds this server): %w", path, err)
	}
	return func() { os.Remove(path) }, nil
}

// runningServer returns the server that owns db, if one answers.
func runningServer(ctx context.Context, db string) (*serverFile, bool) {
	b, err := os.ReadFile(serverFilePath(db))
	if err != nil {
		return nil, false
	}
	var sf serverFile
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

// loadThroughServer asks the running server to load the files: it owns the
// warehouse, runs the load on its write lane and keeps serving readers.
func loadThroughServer(ctx context.Context, sf *serverFile, paths []string, cfg *Config, f loadFlags) (*etl.Report, error) {
	abs := make([]string, len(paths))
	for i, p := range paths {
		a, err := filepath.Abs(p)
		if err != nil {
			return nil, err
		}
		abs[i] = a
	}
	req := dashboards.LoadRequest{Paths: abs, Entity: f.entity, Encoding: f.encoding, Source: f.source,
		Snapshot: f.snapshot, Force: f.force, DryRun: f.dryRun, MaxRejectShare: cfg.MaxReject}
	if f.mapping != "" {
		m, err := filepath.Abs(f.mapping)
		if err != nil {
			return nil, err
		}
		req.Mapping = m
	}
	body, _ := json.Marshal(req)
	hr, err := http.NewRequestWithContext(ctx, http.MethodPost, sf.URL+"/api/load", bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	hr.Header.Set("Content-Type", "application/json")
	hr.Header.Set("Authorization", "Bearer "+sf.Token)
	resp, err := http.DefaultClient.Do(hr)
	if err != nil {
		return nil, fmt.Errorf("loading through the server at %s: %w", sf.URL, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		return nil, fmt.Errorf("the server at %s refused the load (%s): %s", sf.URL, resp.Status, bytes.TrimSpace(msg))
	}
	var out dashboards.LoadResponse
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		return nil, fmt.Errorf("reading the server's answer: %w", err)
	}
	if out.Error != "" {
		return out.Report, fmt.Errorf("%s", out.Error)
	}
	return out.Report, nil
}
