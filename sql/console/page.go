package console

import (
	"bytes"
	"html/template"
	"io"

	"github.com/triscope/triscope/access"
	"github.com/triscope/triscope/query/i18n"
)

var errEOF = io.EOF

var rolesList = access.Roles

// pageTemplate is the console's markup; console.js brings it to life (no
// inline script: the CSP allows scripts from /assets only).
var pageTemplate = template.Must(template.New("console").Parse(`
<div class="sqlc" id="sqlc">
  <aside class="sqlc-side">
    <section>
      <h2>{{.T "sql.schema"}}</h2>
      <input type="search" id="sqlc-filter" placeholder="{{.T "sql.filter"}}" aria-label="{{.T "sql.filter"}}">
      <ul id="sqlc-schema" class="sqlc-list"><li class="muted">{{.T "sql.loading"}}</li></ul>
    </section>
    <section>
      <h2>{{.T "sql.saved"}}</h2>
      <ul id="sqlc-saved" class="sqlc-list"></ul>
    </section>
    <section>
      <h2>{{.T "sql.history"}}</h2>
      <ul id="sqlc-history" class="sqlc-list"></ul>
    </section>
  </aside>
  <div class="sqlc-main">
    {{if not .Enabled}}<p class="sqlc-error">{{.T "sql.disabled"}}</p>{{end}}
    <div id="sqlc-current" class="sqlc-current" hidden></div>
    <div id="sqlc-editor" class="sqlc-editor" aria-label="{{.T "sql.editor"}}"></div>
    <div id="sqlc-params" class="sqlc-params"></div>
    <div class="sqlc-toolbar">
      <button type="button" id="sqlc-run" class="primary">{{.T "sql.run"}}</button>
      <span class="muted">Ctrl+Enter</span>
      <button type="button" id="sqlc-save">{{.T "sql.save"}}</button>
      <span class="sqlc-spacer"></span>
      <span class="muted">{{.T "sql.export"}}</span>
      <button type="button" data-export="csv">CSV</button>
      <button type="button" data-export="xlsx">XLSX</button>
      <button type="button" data-export="parquet">Parquet</button>
    </div>
    <form id="sqlc-saveform" class="sqlc-saveform" hidden>
      <label>{{.T "sql.name"}} <input name="name" required maxlength="100"></label>
      <label>{{.T "sql.description"}} <input name="description" maxlength="2000"></label>
      <label>{{.T "sql.share"}} <select name="shared_role"><option value="">{{.T "sql.private"}}</option>{{range .Roles}}<option value="{{.}}">{{$.T (print "role." .)}}</option>{{end}}</select></label>
      <label><input type="checkbox" name="as_new"> {{.T "sql.as_new"}}</label>
      <button type="submit" class="primary">{{.T "sql.save"}}</button>
      <button type="button" id="sqlc-savecancel">{{.T "sql.cancel"}}</button>
    </form>
    <div id="sqlc-status" class="sqlc-status" role="status"></div>
    <div id="sqlc-error" class="sqlc-error" role="alert" hidden></div>
    <div class="sqlc-tabs" role="tablist">
      <button type="button" role="tab" data-tab="grid" class="active">{{.T "sql.results"}}</button>
      <button type="button" role="tab" data-tab="chart">{{.T "sql.chart"}}</button>
    </div>
    <div id="sqlc-gridbox">
      <div id="sqlc-grid" class="sqlc-grid"></div>
      <div id="sqlc-pager" class="sqlc-pager"></div>
    </div>
    <div id="sqlc-chartbox" hidden>
      <div class="sqlc-chartctl">
        <label>{{.T "sql.chart_type"}} <select id="sqlc-ctype"><option value="bar">{{.T "sql.bar"}}</option><option value="line">{{.T "sql.line"}}</option><option value="pie">{{.T "sql.pie"}}</option></select></label>
        <label>{{.T "sql.category"}} <select id="sqlc-cx"></select></label>
        <label>{{.T "sql.value"}} <select id="sqlc-cy"></select></label>
      </div>
      <div id="sqlc-chart" class="sqlc-chart"></div>
    </div>
    <section class="sqlc-tokens">
      <h2>{{.T "sql.tokens"}}</h2>
      <p class="muted">{{.T "sql.tokens_help"}}</p>
      <form id="sqlc-tokenform"><input name="name" maxlength="100" required placeholder="{{.T "sql.token_name"}}" aria-label="{{.T "sql.token_name"}}"> <button type="submit">{{.T "sql.token_create"}}</button></form>
      <div id="sqlc-newtoken" class="sqlc-newtoken" hidden></div>
      <ul id="sqlc-tokens" class="sqlc-list"></ul>
    </section>
  </div>
</div>`))

type pageData struct {
	Lang    string
	Enabled bool
	Roles   []string
}

func (d pageData) T(key string) string { return i18n.T(d.Lang, key) }

func pageBody(lang string, enabled bool) (template.HTML, error) {
	var b bytes.Buffer
	if err := pageTemplate.Execute(&b, pageData{Lang: lang, Enabled: enabled, Roles: rolesList}); err != nil {
		return "", err
	}
	return template.HTML(b.String()), nil
}
