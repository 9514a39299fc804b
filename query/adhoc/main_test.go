package adhoc

import (
	"io"
	"log/slog"
	"os"
	"testing"
)

// TestMain lets the test binary serve as the SQL worker (the server starts
// `triscope sql-worker`; tests start themselves with workerEnv set).
func TestMain(m *testing.M) {
	if os.Getenv(workerEnv) == "1" {
		os.Exit(WorkerMain())
	}
	os.Exit(m.Run())
}

type slogLogger = slog.Logger

func newDiscardLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }
