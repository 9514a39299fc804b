package adhoc

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"sync"

	_ "github.com/duckdb/duckdb-go/v2" // the parser: DuckDB's own, through json_serialize_sql
)

// MaxSQLBytes bounds the text Check accepts.
const MaxSQLBytes = 256 << 10

// The parser is a throwaway in-memory DuckDB used only for
// json_serialize_sql, with the SQL bound as a parameter (data, never run).
// Its settings are locked so that nothing it parses can change it.
var parser struct {
	once sync.Once
	db   *sql.DB
	err  error
}

func parserDB() (*sql.DB, error) {
	parser.once.Do(func() {
		db, err := sql.Open("duckdb", "")
		if err != nil {
			parser.err = err
			return
		}
		db.SetMaxOpenConns(4)
		for _, s := range []string{
			"SET enable_external_access = false",
			"SET autoload_known_extensions = false",
			"SET autoinstall_known_extensions = false",
			"SET lock_configuration = true",
		} {
			if _, err := db.Exec(s); err != nil {
				parser.err = fmt.Errorf("adhoc parser: %s: %w", s, err)
				db.Close()
				return
			}
		}
		parser.db = db
	})
	return parser.db, parser.err
}

// parsed is json_serialize_sql's answer.
type parsed struct {
	Error      bool              `json:"error"`
	ErrorType  string            `json:"error_type"`
	ErrorMsg   string            `json:"error_message"`
	Position   string            `json:"position"`
	Statements []json.RawMessage `json:"statements"`
}

// parse runs DuckDB's parser on text and returns its statements as JSON trees
// (numbers kept as json.Number). A parser error becomes a Syntax *Error.
func parse(ctx context.Context, text string) ([]map[string]any, error) {
	db, err := parserDB()
	if err != nil {
		return nil, &Error{Class: Internal, Message: genericMessage[Internal], Position: -1, Raw: err.Error()}
	}
	var out string
	if err := db.QueryRowContext(ctx,
		"SELECT CAST(json_serialize_sql(CAST($1 AS VARCHAR), skip_null := true, skip_empty := true) AS VARCHAR)", text).Scan(&out); err != nil {
		return nil, &Error{Class: Internal, Message: genericMessage[Internal], Position: -1, Raw: err.Error()}
	}
	var p parsed
	if err := json.Unmarshal([]byte(out), &p); err != nil {
		return nil, &Error{Class: Internal, Message: genericMessage[Internal], Position: -1, Raw: "json_serialize_sql: " + err.Error()}
	}
	if p.Error {
		pos := -1
		if n, err := strconv.Atoi(p.Position); err == nil {
			pos = n
		}
		if p.ErrorType == "parser" {
			return nil, &Error{Class: Syntax, Message: p.ErrorMsg, Position: pos, Raw: p.ErrorMsg}
		}
		// "Only SELECT statements can be serialized to json!": some statement
		// in the text is not a query. Say which, from the text (for the
		// message only: the refusal does not depend on it).
		return nil, notAQuery(text)
	}
	trees := make([]map[string]any, 0, len(p.Statements))
	for _, raw := range p.Statements {
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.UseNumber()
		var m map[string]any
		if err := dec.Decode(&m); err != nil {
			return nil, refused(-1, "the query is nested too deeply to be checked")
		}
		trees = append(trees, m)
	}
	return trees, nil
}

// notAQuery explains a text DuckDB would not serialize: a statement that is
// not a SELECT (or a PIVOT without an IN list, which DuckDB runs as several
// statements).
func notAQuery(text string) *Error {
	stmts := splitStatements(text)
	if len(stmts) > 1 {
		return refused(-1, "only one statement is allowed (found %d; remove the semicolons between them)", len(stmts))
	}
	kw := ""
	if len(stmts) == 1 {
		kw = strings.ToUpper(firstWord(stmts[0]))
	}
	switch kw {
	case "PIVOT", "PIVOT_WIDER", "UNPIVOT", "PIVOT_LONGER":
		return refused(-1, "%s needs an explicit IN list here (PIVOT t ON col IN ('a', 'b') USING sum(x))", kw)
	case "":
		return refused(-1, "only read-only queries are allowed (SELECT, WITH, VALUES, FROM …)")
	}
	return refused(-1, "statement %s is not allowed: only read-only queries are (SELECT, WITH, VALUES, FROM …)", kw)
}

// The lexer below finds statement ends, leading keywords and identifier
// tokens in SQL text. Nothing depends on it for safety: what runs is checked
// on DuckDB's parse tree, and text it produces is parsed again and compared.

// skipSpaceAndComments returns the offset of the next token at or after i.
func skipSpaceAndComments(s string, i int) int {
	for i < len(s) {
		switch {
		case s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r' || s[i] == '\f' || s[i] == '\v':
			i++
		case strings.HasPrefix(s[i:], "--"):
			j := strings.IndexByte(s[i:], '\n')
			if j < 0 {
				return len(s)
			}
			i += j + 1
		case strings.HasPrefix(s[i:], "/*"):
			// DuckDB's block comments nest.
			depth, j := 0, i
			for j < len(s) {
				if strings.HasPrefix(s[j:], "/*") {
					depth++
					j += 2
				} else if strings.HasPrefix(s[j:], "*/") {
					depth--
					j += 2
					if depth == 0 {
						break
					}
				} else {
					j++
				}
			}
			i = j
		default:
			return i
		}
	}
	return i
}

// tokenEnd returns the end of the token starting at i (a quoted string or
// identifier, a dollar-quoted string, a word, or one other character).
func tokenEnd(s string, i int) int {
	if i >= len(s) {
		return i
	}
	c := s[i]
	switch {
	case c == '\'' || c == '"':
		j := i + 1
		for j < len(s) {
			if s[j] == c {
				if j+1 < len(s) && s[j+1] == c { // doubled quote
					j += 2
					continue
				}
				return j + 1
			}
			j++
		}
		return len(s)
	case c == '$':
		// $tag$ … $tag$ (tag may be empty); otherwise a parameter $name.
		j := i + 1
		for j < len(s) && isIdentByte(s[j]) {
			j++
		}
		if j < len(s) && s[j] == '$' {
			tag := s[i : j+1]
			if k := strings.Index(s[j+1:], tag); k >= 0 {
				return j + 1 + k + len(tag)
			}
			return len(s)
		}
		return j
	case (c == 'E' || c == 'e') && i+1 < len(s) && s[i+1] == '\'':
		// E'…' escape string: a backslash escapes the next character.
		j := i + 2
		for j < len(s) {
			switch s[j] {
			case '\\':
				j += 2
				continue
			case '\'':
				if j+1 < len(s) && s[j+1] == '\'' {
					j += 2
					continue
				}
				return j + 1
			}
			j++
		}
		return len(s)
	case isIdentByte(c):
		j := i
		for j < len(s) && isIdentByte(s[j]) {
			j++
		}
		return j
	}
	return i + 1
}

func isIdentByte(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c >= 0x80
}

// splitStatements splits text at top-level semicolons, dropping empty
// statements (only comments and space).
func splitStatements(s string) []string {
	var out []string
	start, i := 0, 0
	flush := func(end int) {
		if skipSpaceAndComments(s[start:end], 0) < end-start {
			out = append(out, s[start:end])
		}
	}
	for {
		i = skipSpaceAndComments(s, i)
		if i >= len(s) {
			break
		}
		if s[i] == ';' {
			flush(i)
			start = i + 1
			i++
			continue
		}
		i = tokenEnd(s, i)
	}
	flush(len(s))
	return out
}

// firstWord is the first token of a statement, past comments and opening
// parentheses.
func firstWord(s string) string {
	i := skipSpaceAndComments(s, 0)
	for i < len(s) && s[i] == '(' {
		i = skipSpaceAndComments(s, i+1)
	}
	return s[i:tokenEnd(s, i)]
}

// trimStatement drops what follows the last token of the one statement in s
// (space, comments, semicolons), so that the text can be nested in a
// subquery.
func trimStatement(s string) string {
	last, i := 0, 0
	for {
		i = skipSpaceAndComments(s, i)
		if i >= len(s) {
			break
		}
		if s[i] == ';' {
			i++
			continue
		}
		i = tokenEnd(s, i)
		last = i
	}
	return s[:last]
}

// identAt reads the identifier token at offset i: its text and its name
// (unquoted, as DuckDB resolves it). ok is false when there is none.
func identAt(s string, i int) (end int, name string, ok bool) {
	if i < 0 || i >= len(s) {
		return 0, "", false
	}
	end = tokenEnd(s, i)
	tok := s[i:end]
	if tok == "" {
		return 0, "", false
	}
	if tok[0] == '"' {
		if len(tok) < 2 || tok[len(tok)-1] != '"' {
			return 0, "", false
		}
		return end, strings.ReplaceAll(tok[1:len(tok)-1], `""`, `"`), true
	}
	if !isIdentByte(tok[0]) || tok[0] >= '0' && tok[0] <= '9' {
		return 0, "", false
	}
	return end, tok, true
}
