package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/triscope/triscope/app"
	"github.com/triscope/triscope/query/adhoc"
	"github.com/triscope/triscope/render"
)

func newSQLCmd(cfg *app.Config) *cobra.Command {
	var username, format, command, output string
	var timeout time.Duration
	var maxRows int
	cmd := &cobra.Command{
		Use:   "sql [-c SQL | FILE]",
		Short: "Run ad hoc SQL on the warehouse: read-only, sandboxed, audited",
		Long: `Run one read-only query (SELECT, WITH … SELECT, VALUES, FROM-first) over the
relations analysts read: customers, opportunities, opportunity_stages, contracts,
payments, payment_schedule, contract_lines, expenses, activities, targets, the
reference tables (org_units, reps, products, partners, campaigns, stages, fx_rates)
and the mart_* tables. Nothing else exists for the query: no base schema, no system
catalog, no files, no settings.

With --user NAME the query runs as that user, with their data scope and their role's
limits (what they would see in the console); without it, every row is visible and
the query is audited as you (the operating-system user). Either way the query runs
in a sandboxed worker process, bounded in time, rows and memory.

The SQL comes from -c, from FILE ('-' for standard input), or from standard input
when it is not a terminal. On a terminal without either, an interactive prompt
starts: statements end with ';', \d lists the relations, \d NAME its columns,
\timing shows each query's time, \q quits; arrow keys recall earlier lines.

While 'triscope serve' runs, the query goes through the server (it owns the file);
otherwise the file is read directly. Exit status 0 on success; otherwise 1, with one
line on standard error saying why (refused, syntax, data, timeout, memory, busy).`,
		Example: `  triscope sql -c "SELECT industry, count(*) FROM customers GROUP BY ALL"
  triscope sql --user east --format csv -c "FROM contracts" > east-contracts.csv
  triscope sql --format parquet -o deals.parquet query.sql
  triscope sql                      # interactive prompt`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			switch format {
			case "table", "csv", "json", "parquet":
			default:
				return fmt.Errorf("--format %q: use table, csv, json or parquet", format)
			}
			ctx := cmd.Context()
			var text string
			interactive := false
			switch {
			case command != "" && len(args) > 0:
				return errors.New("give the SQL with -c or as a FILE, not both")
			case command != "":
				text = command
			case len(args) == 1 && args[0] == "-":
				b, err := io.ReadAll(io.LimitReader(cmd.InOrStdin(), adhoc.MaxSQLBytes+1))
				if err != nil {
					return err
				}
				text = string(b)
			case len(args) == 1:
				b, err := os.ReadFile(args[0])
				if err != nil {
					return err
				}
				text = string(b)
			case isTerminal(cmd.InOrStdin()):
				interactive = true
			default:
				b, err := io.ReadAll(io.LimitReader(cmd.InOrStdin(), adhoc.MaxSQLBytes+1))
				if err != nil {
					return err
				}
				text = string(b)
			}
			out := cmd.OutOrStdout()
			if output != "" {
				f, err := os.OpenFile(output, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
				if err != nil {
					return err
				}
				defer f.Close()
				out = f
			} else if format == "parquet" && isTerminal(out) {
				return errors.New("--format parquet writes a binary file: give -o FILE or redirect the output")
			}
			client, err := app.ConnectSQL(ctx, cfg)
			if err != nil {
				return err
			}
			defer client.Close()
			loc, _ := time.LoadLocation(cfg.TimeZone)
			s := &sqlSession{client: client, user: username, by: app.OSUser(), format: format, timeout: timeout, maxRows: maxRows,
				out: out, errOut: cmd.ErrOrStderr(), loc: loc}
			if interactive {
				return s.prompt(ctx, cmd.InOrStdin(), cmd.OutOrStdout())
			}
			if strings.TrimSpace(text) == "" {
				return errors.New("no SQL given: use -c SQL, a FILE, or standard input")
			}
			if err := s.run(ctx, text); err != nil {
				fmt.Fprintln(cmd.ErrOrStderr(), "error:", oneLine(err))
				return exitError{1}
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&username, "user", "", "run as this user, with their data scope (default: you, seeing every row)")
	cmd.Flags().StringVar(&format, "format", "table", "output: table, csv (with a header), json (an array of objects) or parquet")
	cmd.Flags().StringVarP(&command, "command", "c", "", "the SQL to run")
	cmd.Flags().StringVarP(&output, "output", "o", "", "write the result to this file (default: standard output)")
	cmd.Flags().DurationVar(&timeout, "timeout", 30*time.Second, "time limit of the query (a user's role may set a lower one)")
	cmd.Flags().IntVar(&maxRows, "max-rows", 0, "row cap (default: the configured sql.max_rows, 10000; a role may set a lower one)")
	return cmd
}

func isTerminal(f any) bool {
	if fd, ok := f.(interface{ Fd() uintptr }); ok {
		return term.IsTerminal(int(fd.Fd()))
	}
	return false
}

// oneLine is an error on one line; a query's error as its user may read it
// (DuckDB's own text only reaches admins and the OS user).
func oneLine(err error) string {
	msg := err.Error()
	var e *adhoc.Error
	if errors.As(err, &e) {
		msg = e.For(true)
	}
	return strings.Join(strings.Fields(msg), " ")
}

// sqlSession runs queries and writes their results.
type sqlSession struct {
	client  app.SQLClient
	user    string
	by      string
	format  string
	timeout time.Duration
	maxRows int
	out     io.Writer
	errOut  io.Writer
	loc     *time.Location
	timing  bool
}

func (s *sqlSession) run(ctx context.Context, text string) error {
	start := time.Now()
	w := newResultWriter(s.format, s.out, s.loc)
	sum, err := s.client.Run(ctx, app.SQLRequest{User: s.user, By: s.by, SQL: text, Timeout: s.timeout, MaxRows: s.maxRows}, w)
	if err != nil {
		w.abort()
		return err
	}
	if err := w.finish(); err != nil {
		return err
	}
	if sum.Truncated {
		fmt.Fprintf(s.errOut, "note: the result was truncated at %d rows (--max-rows, or your role's cap)\n", sum.Rows)
	}
	if s.timing {
		fmt.Fprintf(s.errOut, "Time: %.1f ms (query %.1f ms)\n", float64(time.Since(start).Microseconds())/1000, float64(sum.Elapsed.Microseconds())/1000)
	}
	return nil
}

// prompt is the interactive loop on a terminal: line editing and history
// from x/term, statements ending with ';', backslash commands.
func (s *sqlSession) prompt(ctx context.Context, in io.Reader, out io.Writer) error {
	fd := int(in.(interface{ Fd() uintptr }).Fd())
	old, err := term.MakeRaw(fd)
	if err != nil {
		return err
	}
	defer term.Restore(fd, old)
	t := term.NewTerminal(struct {
		io.Reader
		io.Writer
	}{in, out}, "triscope=> ")
	if w, h, err := term.GetSize(fd); err == nil {
		t.SetSize(w, h)
	}
	s.out, s.errOut = t, t
	if s.format == "parquet" {
		s.format = "table"
	}
	fmt.Fprintf(t, "Triscope ad hoc SQL, %s. \\? for help, \\q to quit.\n", s.client.Where())
	var buf strings.Builder
	for ctx.Err() == nil {
		if buf.Len() == 0 {
			t.SetPrompt("triscope=> ")
		} else {
			t.SetPrompt("triscope-> ")
		}
		line, err := t.ReadLine()
		if errors.Is(err, io.EOF) {
			fmt.Fprintln(t)
			return nil
		}
		if err != nil {
			return err
		}
		trimmed := strings.TrimSpace(line)
		if buf.Len() == 0 && strings.HasPrefix(trimmed, `\`) {
			if quit := s.backslash(ctx, t, trimmed); quit {
				return nil
			}
			continue
		}
		if buf.Len() > 0 {
			buf.WriteByte('\n')
		}
		buf.WriteString(line)
		if !strings.HasSuffix(trimmed, ";") {
			continue
		}
		text := buf.String()
		buf.Reset()
		if err := s.run(ctx, text); err != nil {
			fmt.Fprintln(t, "error:", oneLine(err))
		}
	}
	return nil
}

func (s *sqlSession) backslash(ctx context.Context, t io.Writer, cmd string) (quit bool) {
	fields := strings.Fields(cmd)
	switch fields[0] {
	case `\q`, `\quit`:
		return true
	case `\timing`:
		s.timing = !s.timing
		fmt.Fprintf(t, "Timing is %s.\n", map[bool]string{true: "on", false: "off"}[s.timing])
	case `\d`, `\dt`:
		rels, err := s.client.Describe(ctx, s.user, s.by)
		if err != nil {
			fmt.Fprintln(t, "error:", oneLine(err))
			return false
		}
		if len(fields) == 1 {
			tw := newResultWriter("table", t, s.loc)
			tw.Columns([]adhoc.Column{{Name: "relation", Type: "VARCHAR"}, {Name: "columns", Type: "BIGINT"}, {Name: "comment", Type: "VARCHAR"}})
			for _, r := range rels {
				tw.Rows([][]any{{r.Name, int64(len(r.Columns)), r.Comment}})
			}
			tw.finish()
			return false
		}
		for _, r := range rels {
			if strings.EqualFold(r.Name, fields[1]) {
				if r.Comment != "" {
					fmt.Fprintln(t, r.Name+": "+r.Comment)
				}
				tw := newResultWriter("table", t, s.loc)
				tw.Columns([]adhoc.Column{{Name: "column", Type: "VARCHAR"}, {Name: "type", Type: "VARCHAR"}, {Name: "comment", Type: "VARCHAR"}})
				for _, c := range r.Columns {
					tw.Rows([][]any{{c.Name, c.Type, c.Comment}})
				}
				tw.finish()
				return false
			}
		}
		fmt.Fprintf(t, "no relation %s (\\d lists them)\n", fields[1])
	case `\?`, `\h`, `\help`:
		fmt.Fprint(t, `\d          list the relations you may read
\d NAME     the columns of a relation
\timing     show each query's time (toggle)
\q          quit (or Ctrl-D)
A statement ends with ';' and may span lines.
`)
	default:
		fmt.Fprintf(t, "unknown command %s (\\? for help)\n", fields[0])
	}
	return false
}

// resultWriter writes a streamed result in one format.
type resultWriter struct {
	format string
	out    io.Writer
	loc    *time.Location
	cols   []adhoc.Column

	// table: buffered (column widths need every row)
	rows [][]any
	// csv, json, parquet: rows handed to the writer's goroutine
	ch   chan [][]any
	done chan error
	n    int64
}

func newResultWriter(format string, out io.Writer, loc *time.Location) *resultWriter {
	if loc == nil {
		loc = time.UTC
	}
	return &resultWriter{format: format, out: out, loc: loc}
}

func (w *resultWriter) Columns(cols []adhoc.Column) error {
	w.cols = cols
	if w.format == "table" {
		return nil
	}
	w.ch = make(chan [][]any, 4)
	w.done = make(chan error, 1)
	go func() { w.done <- w.stream() }()
	return nil
}

func (w *resultWriter) Rows(rows [][]any) error {
	if w.format == "table" {
		w.rows = append(w.rows, rows...)
		return nil
	}
	select {
	case w.ch <- rows:
		return nil
	case err := <-w.done:
		w.done <- err
		if err == nil {
			err = errors.New("the writer stopped")
		}
		return err
	}
}

// pull turns the pushed batches into render's row iterator.
func (w *resultWriter) pull() render.Rows {
	var batch [][]any
	i := 0
	return render.RowsFunc(func() ([]any, error) {
		for i >= len(batch) {
			b, ok := <-w.ch
			if !ok {
				return nil, io.EOF
			}
			batch, i = b, 0
		}
		row := batch[i]
		i++
		out := make([]any, len(row))
		for j, v := range row {
			out[j] = adhoc.ExportValue(v)
		}
		return out, nil
	}).Rows()
}

func (w *resultWriter) table() *render.Table {
	t := &render.Table{Name: "result", Rows: w.pull()}
	for _, c := range w.cols {
		t.Columns = append(t.Columns, render.Column{Name: c.Name, Kind: render.Kind(c.Kind())})
	}
	return t
}

func (w *resultWriter) stream() error {
	var err error
	switch w.format {
	case "csv":
		_, err = render.WriteCSV(w.out, w.table(), render.Options{Location: w.loc})
	case "parquet":
		_, err = render.WriteParquet(w.out, w.table(), render.Options{Location: w.loc})
	case "json":
		err = w.writeJSON()
	}
	for range w.ch { // drain after an error
	}
	return err
}

// writeJSON writes an array of objects, keys in column order.
func (w *resultWriter) writeJSON() error {
	bw := bufio.NewWriterSize(w.out, 64<<10)
	keys := make([][]byte, len(w.cols))
	for i, c := range w.cols {
		keys[i], _ = json.Marshal(c.Name)
	}
	bw.WriteString("[")
	first := true
	for batch := range w.ch {
		for _, row := range batch {
			if !first {
				bw.WriteString(",")
			}
			first = false
			bw.WriteString("\n{")
			for i, v := range row {
				if i > 0 {
					bw.WriteString(",")
				}
				bw.Write(keys[i])
				bw.WriteString(":")
				b, err := json.Marshal(v)
				if err != nil {
					return err
				}
				bw.Write(b)
			}
			bw.WriteString("}")
		}
	}
	bw.WriteString("\n]\n")
	return bw.Flush()
}

func (w *resultWriter) abort() {
	if w.ch != nil {
		close(w.ch)
		<-w.done
		w.ch = nil
	}
}

func (w *resultWriter) finish() error {
	if w.format != "table" {
		if w.ch == nil { // no columns: nothing ran
			return nil
		}
		close(w.ch)
		err := <-w.done
		w.ch = nil
		return err
	}
	return w.writeTable()
}

// writeTable writes aligned columns, numbers to the right, and the count.
func (w *resultWriter) writeTable() error {
	bw := bufio.NewWriter(w.out)
	cells := make([][]string, len(w.rows))
	widths := make([]int, len(w.cols))
	for i, c := range w.cols {
		widths[i] = displayWidth(c.Name)
	}
	for r, row := range w.rows {
		cells[r] = make([]string, len(row))
		for i, v := range row {
			s := cellText(v)
			cells[r][i] = s
			widths[i] = max(widths[i], min(displayWidth(s), 60))
		}
	}
	numeric := make([]bool, len(w.cols))
	for i, c := range w.cols {
		k := c.Kind()
		numeric[i] = k == "number" || k == "integer"
	}
	line := func(vals []string, header bool) {
		for i, v := range vals {
			if i > 0 {
				bw.WriteString(" | ")
			}
			v = clip(v, 60)
			pad := strings.Repeat(" ", max(widths[i]-displayWidth(v), 0))
			if numeric[i] && !header {
				bw.WriteString(pad + v)
			} else if i < len(vals)-1 {
				bw.WriteString(v + pad)
			} else {
				bw.WriteString(v)
			}
		}
		bw.WriteString("\n")
	}
	names := make([]string, len(w.cols))
	seps := make([]string, len(w.cols))
	for i, c := range w.cols {
		names[i] = c.Name
		seps[i] = strings.Repeat("-", widths[i])
	}
	line(names, true)
	bw.WriteString(strings.Join(seps, "-+-") + "\n")
	for _, row := range cells {
		line(row, false)
	}
	fmt.Fprintf(bw, "(%d row%s)\n", len(w.rows), map[bool]string{true: "", false: "s"}[len(w.rows) == 1])
	return bw.Flush()
}

func cellText(v any) string {
	switch x := v.(type) {
	case nil:
		return "NULL"
	case string:
		return strings.Map(func(r rune) rune {
			if r == '\n' || r == '\r' || r == '\t' {
				return ' '
			}
			if unicode.IsControl(r) {
				return '?'
			}
			return r
		}, x)
	case json.Number:
		return string(x)
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64)
	case []any, map[string]any:
		b, _ := json.Marshal(x)
		return string(b)
	}
	return fmt.Sprint(v)
}

// displayWidth counts East Asian wide characters as two columns.
func displayWidth(s string) int {
	n := 0
	for _, r := range s {
		if r >= 0x1100 && (unicode.Is(unicode.Han, r) || unicode.Is(unicode.Hangul, r) || unicode.Is(unicode.Katakana, r) ||
			unicode.Is(unicode.Hiragana, r) || (r >= 0xFF00 && r <= 0xFF60) || (r >= 0x3000 && r <= 0x303F)) {
			n += 2
		} else {
			n++
		}
	}
	return n
}

func clip(s string, width int) string {
	if displayWidth(s) <= width {
		return s
	}
	var b strings.Builder
	w := 0
	for _, r := range s {
		rw := displayWidth(string(r))
		if w+rw > width-1 {
			break
		}
		b.WriteRune(r)
		w += rw
	}
	return b.String() + "…"
}
