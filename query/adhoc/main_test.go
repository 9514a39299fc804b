package adhoc

import (
	"io"
	"log/slog"
	"os"
	"testing"
	"time"
)

// TestMain lets the test binary serve as the SQL worker (the server starts
// `triscope sql-worker`; tests start themselves with workerEnv set).
func TestMain(m *testing.M) {
	if os.Getenv(workerEnv) == "1" {
		os.Exit(WorkerMain())
	}
	code := m.Run()
	if fixtureOnce.dir != "" {
		os.RemoveAll(fixtureOnce.dir)
	}
	if fuzzEnv.sb != nil {
		fuzzEnv.sb.Close()
		time.Sleep(100 * time.Millisecond) // the workers exit and drop their spill directories
		os.RemoveAll(fuzzEnv.dir)
	}
	os.Exit(code)
}

type slogLogger = slog.Logger

func newDiscardLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }
