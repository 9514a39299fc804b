package render

import (
	"bytes"
	"os"
	"os/exec"
	"testing"
)

// The independent readers are Debian's: python3-openpyxl for XLSX,
// poppler-utils for PDF (installed by .ci/run). Without them a test skips,
// unless TRISCOPE_RENDER_TESTS=require (CI), when it fails.
func need(t *testing.T, what string, ok bool) {
	t.Helper()
	if ok {
		return
	}
	if os.Getenv("TRISCOPE_RENDER_TESTS") == "require" {
		t.Fatalf("%s is missing (Debian: apt-get install python3-openpyxl poppler-utils)", what)
	}
	t.Skipf("%s is missing (Debian: apt-get install python3-openpyxl poppler-utils)", what)
}

// debianPython is Debian's interpreter, the one python3-openpyxl installs for
// (a python3 earlier on PATH, e.g. pyenv's, may not have it).
const debianPython = "/usr/bin/python3"

func needOpenpyxl(t *testing.T) {
	t.Helper()
	err := exec.Command(debianPython, "-c", "import openpyxl").Run()
	need(t, "python3-openpyxl", err == nil)
}

// python runs a script with Debian's python3 and returns its standard output.
func python(t *testing.T, script string, args ...string) []byte {
	t.Helper()
	cmd := exec.Command(debianPython, append([]string{"-c", script}, args...)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("python: %v\n%s", err, stderr.String())
	}
	return out
}
