package warehouse

import (
	"slices"
	"testing"
)

func TestSplitStatements(t *testing.T) {
	tests := []struct {
		name   string
		script string
		want   []string
	}{
		{"two statements", "SELECT 1;\nSELECT 2;\n", []string{"SELECT 1", "SELECT 2"}},
		{"comment lines dropped", "-- about the file;\nSELECT 1;\n-- between;\nSELECT 2;\n", []string{"SELECT 1", "SELECT 2"}},
		{"a comment line inside a statement ending with a semicolon", "WITH a AS (\n    -- the same as x <= y;\n    SELECT 1 AS x\n)\nSELECT x FROM a;\n",
			[]string{"WITH a AS (\n    SELECT 1 AS x\n)\nSELECT x FROM a"}},
		{"a semicolon inside a line is kept", "SELECT ';' AS s;\n", []string{"SELECT ';' AS s"}},
		{"last statement without a newline", "SELECT 1;\nSELECT 2;", []string{"SELECT 1", "SELECT 2"}},
		{"only comments", "-- nothing;\n\n", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := SplitStatements(tt.script); !slices.Equal(got, tt.want) {
				t.Errorf("SplitStatements(%q) = %q, want %q", tt.script, got, tt.want)
			}
		})
	}
}
