package adhoc

import (
	"io"
	"log/slog"
	"os"
	"testing"
	"time"
)

// TestMain cleans up the shared fixtures. The test binary serves as the SQL
// worker when started with WorkerArg: the package's init does that.
func TestMain(m *testing.M) {
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
