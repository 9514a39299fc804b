package warehouse

import "strings"

// SplitStatements splits a SQL script into its statements: on semicolons
// that end a line, after dropping the comment lines (a comment line inside a
// statement may end with a semicolon too). The models' and the dashboards'
// embedded .sql files are written this way: one statement may span lines,
// and a statement ends with ";" at the end of its last line.
func SplitStatements(script string) []string {
	var b strings.Builder
	for _, line := range strings.Split(script, "\n") {
		if strings.HasPrefix(strings.TrimSpace(line), "--") {
			continue
		}
		b.WriteString(line)
		b.WriteByte('\n')
	}
	var out []string
	for _, part := range strings.Split(b.String(), ";\n") {
		if s := strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(part), ";")); s != "" {
			out = append(out, s)
		}
	}
	return out
}
