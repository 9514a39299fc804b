// The ad hoc SQL console (/sql). Everything shown comes from the server as
// JSON and is put into the page with textContent (never innerHTML of data);
// ECharts gets plain data and no formatter built from data.
(function () {
  "use strict";
  const cfg = JSON.parse(document.getElementById("ts-config").textContent || "{}");
  const M = cfg.messages || {};
  const t = (k, ...args) => {
    let s = M[k] || k;
    for (const a of args) s = s.replace(/%[ds]/, String(a));
    return s;
  };
  const $ = (id) => document.getElementById(id);
  const el = (tag, attrs, ...children) => {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k === "class") e.className = v;
      else if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
      else e.setAttribute(k, v);
    }
    for (const c of children) if (c != null) e.append(c instanceof Node ? c : String(c));
    return e;
  };

  const PAGE = 100;
  const state = {result: null, page: 0, saved: null, savedList: [], params: {}, sql: ""};

  async function api(method, url, body) {
    const opts = {method, headers: {"X-CSRF-Token": cfg.csrf}, credentials: "same-origin"};
    if (body !== undefined) {
      opts.headers["Content-Type"] = "application/json";
      opts.body = JSON.stringify(body);
    }
    const r = await fetch(url, opts);
    return r;
  }
  async function json(method, url, body) {
    const r = await api(method, url, body);
    if (r.status === 204) return {};
    let j = {};
    try { j = await r.json(); } catch (e) { j = {error: r.statusText}; }
    if (!r.ok) throw Object.assign(new Error(j.error || r.statusText), {data: j, status: r.status});
    return j;
  }

  // --- editor --------------------------------------------------------------
  let editor = null;
  function makeEditor(schema) {
    const box = $("sqlc-editor");
    box.textContent = "";
    const initial = sessionStorage.getItem("sqlc.sql") || "SELECT *\nFROM customers\nLIMIT 100;";
    editor = window.TriscopeEditor(box, initial, schema, run);
    editor.view.dom.addEventListener("keyup", () => { sessionStorage.setItem("sqlc.sql", editor.get()); renderParams(); });
    renderParams();
  }

  // Parameters: $name in the SQL (outside quotes) get an input each.
  function paramNames(sql) {
    const names = [];
    const re = /'(?:[^']|'')*'|"(?:[^"]|"")*"|--[^\n]*|\/\*[\s\S]*?\*\/|\$([A-Za-z_][A-Za-z0-9_]*)/g;
    let m;
    while ((m = re.exec(sql))) if (m[1] && !names.includes(m[1])) names.push(m[1]);
    return names;
  }
  function renderParams() {
    const box = $("sqlc-params");
    const names = paramNames(editor ? editor.get() : "");
    for (const n of Object.keys(state.params)) if (!names.includes(n)) delete state.params[n];
    box.textContent = "";
    for (const n of names) {
      const p = state.params[n] || (state.params[n] = {type: "text", value: ""});
      const input = el("input", {"data-param": n, value: p.value, size: "12", "aria-label": "$" + n});
      input.addEventListener("input", () => { p.value = input.value; });
      const type = el("select", {"aria-label": t("param_type")},
        ...["text", "number", "date"].map((x) => { const o = el("option", {value: x}, x); if (x === p.type) o.selected = true; return o; }));
      type.addEventListener("change", () => { p.type = type.value; });
      box.append(el("label", {}, "$" + n, input, type));
    }
  }
  function paramValues() {
    const out = {};
    for (const [n, p] of Object.entries(state.params)) out[n] = p.value;
    return out;
  }

  // --- running -------------------------------------------------------------
  function showError(msg) {
    const box = $("sqlc-error");
    box.hidden = !msg;
    box.textContent = msg ? t("error") + ": " + msg : "";
  }
  async function run() {
    if (!editor) return;
    const sql = editor.get();
    showError("");
    $("sqlc-status").textContent = t("running");
    $("sqlc-run").disabled = true;
    try {
      const res = await json("POST", "/api/sql", {sql, params: paramValues()});
      state.result = res;
      state.sql = sql;
      state.page = 0;
      renderStatus();
      renderGrid();
      setupChart();
    } catch (e) {
      $("sqlc-status").textContent = "";
      showError(e.message);
    } finally {
      $("sqlc-run").disabled = false;
      loadHistory();
    }
  }
  function renderStatus() {
    const r = state.result;
    const box = $("sqlc-status");
    box.textContent = "";
    box.append(r.row_count === 1 ? t("row") : t("rows", r.row_count), " · ", t("elapsed", r.elapsed.toFixed(1)));
    if (r.truncated) box.append(" · ", el("span", {class: "warn", id: "sqlc-truncated"}, t("truncated", r.row_count)));
  }
  function isNumType(ty) {
    return /^(TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT|UTINYINT|USMALLINT|UINTEGER|UBIGINT|UHUGEINT|FLOAT|DOUBLE|REAL|DECIMAL.*)$/.test(ty || "");
  }
  function cellText(v) {
    if (v === null || v === undefined) return "NULL";
    if (typeof v === "object") return JSON.stringify(v);
    return String(v);
  }
  function renderGrid() {
    const r = state.result;
    const grid = $("sqlc-grid");
    grid.textContent = "";
    if (!r) return;
    if (r.rows.length === 0) {
      grid.append(el("p", {class: "muted"}, t("empty")));
    }
    const table = el("table", {id: "sqlc-table"});
    const head = el("tr", {});
    for (const c of r.columns) head.append(el("th", {title: c.type}, c.name, el("small", {}, c.type)));
    table.append(el("thead", {}, head));
    const body = el("tbody", {});
    const start = state.page * PAGE;
    for (const row of r.rows.slice(start, start + PAGE)) {
      const tr = el("tr", {});
      row.forEach((v, i) => {
        const cls = (v === null ? "null " : "") + (isNumType(r.columns[i].type) ? "num" : "");
        tr.append(el("td", {class: cls, title: cellText(v).slice(0, 500)}, cellText(v)));
      });
      body.append(tr);
    }
    table.append(body);
    if (r.columns.length) grid.append(table);
    const pages = Math.max(1, Math.ceil(r.rows.length / PAGE));
    const pager = $("sqlc-pager");
    pager.textContent = "";
    if (pages > 1) {
      const prev = el("button", {type: "button"}, t("prev"));
      const next = el("button", {type: "button"}, t("next"));
      prev.disabled = state.page === 0;
      next.disabled = state.page >= pages - 1;
      prev.addEventListener("click", () => { state.page--; renderGrid(); });
      next.addEventListener("click", () => { state.page++; renderGrid(); });
      pager.append(prev, el("span", {}, t("page", state.page + 1, pages)), next);
    }
  }

  // --- export --------------------------------------------------------------
  async function exportAs(format) {
    if (!editor) return;
    showError("");
    const r = await api("POST", "/api/sql/export", {sql: editor.get(), params: paramValues(), format});
    if (!r.ok) {
      let j = {};
      try { j = await r.json(); } catch (e) { /* not JSON */ }
      showError(j.error || r.statusText);
      return;
    }
    const blob = await r.blob();
    const cd = r.headers.get("Content-Disposition") || "";
    const m = /filename="([^"]+)"/.exec(cd);
    const a = el("a", {href: URL.createObjectURL(blob), download: m ? m[1] : "query." + format});
    document.body.append(a);
    a.click();
    setTimeout(() => { URL.revokeObjectURL(a.href); a.remove(); }, 1000);
    $("sqlc-status").setAttribute("data-exported", format);
  }

  // --- quick chart ---------------------------------------------------------
  let chart = null;
  function setupChart() {
    const r = state.result;
    const cx = $("sqlc-cx"), cy = $("sqlc-cy");
    cx.textContent = ""; cy.textContent = "";
    if (!r) return;
    r.columns.forEach((c, i) => {
      cx.append(el("option", {value: String(i)}, c.name));
      cy.append(el("option", {value: String(i)}, c.name));
    });
    const firstNum = r.columns.findIndex((c) => isNumType(c.type));
    const firstCat = r.columns.findIndex((c) => !isNumType(c.type));
    cx.value = String(firstCat >= 0 ? firstCat : 0);
    cy.value = String(firstNum >= 0 ? firstNum : Math.min(1, r.columns.length - 1));
    if (!$("sqlc-chartbox").hidden) drawChart();
  }
  function drawChart() {
    const r = state.result;
    const box = $("sqlc-chart");
    if (!r || r.columns.length < 2) {
      if (chart) { chart.dispose(); chart = null; }
      box.textContent = t("need_two");
      return;
    }
    if (!window.echarts) return;
    if (!chart) { box.textContent = ""; chart = window.echarts.init(box); }
    const xi = Number($("sqlc-cx").value), yi = Number($("sqlc-cy").value), type = $("sqlc-ctype").value;
    const rows = r.rows.slice(0, 2000);
    const cats = rows.map((row) => cellText(row[xi]));
    const vals = rows.map((row) => { const n = Number(row[yi]); return Number.isFinite(n) ? n : null; });
    let option;
    if (type === "pie") {
      option = {tooltip: {trigger: "item", renderMode: "richText"},
        series: [{type: "pie", radius: "65%", data: cats.map((c, i) => ({name: c, value: vals[i]}))}]};
    } else {
      option = {tooltip: {trigger: "axis", renderMode: "richText"}, grid: {left: 60, right: 20, top: 20, bottom: 60},
        xAxis: {type: "category", data: cats, axisLabel: {rotate: cats.length > 12 ? 45 : 0}},
        yAxis: {type: "value", name: r.columns[yi].name},
        series: [{type, data: vals, name: r.columns[yi].name}]};
    }
    chart.setOption(option, true);
    chart.resize();
  }

  // --- schema --------------------------------------------------------------
  let relations = [];
  async function loadSchema() {
    try {
      const j = await json("GET", "/api/sql/schema");
      relations = j.relations || [];
    } catch (e) {
      relations = [];
      showError(e.message);
    }
    const schema = {};
    for (const r of relations) schema[r.name] = r.columns.map((c) => c.name);
    makeEditor(schema);
    renderSchema();
    document.body.setAttribute("data-loaded", "true");
  }
  function renderSchema() {
    const q = ($("sqlc-filter").value || "").toLowerCase();
    const ul = $("sqlc-schema");
    ul.textContent = "";
    for (const r of relations) {
      const cols = r.columns.filter((c) => !q || r.name.includes(q) || c.name.toLowerCase().includes(q));
      if (q && !r.name.includes(q) && cols.length === 0) continue;
      const name = el("button", {type: "button", class: "link", title: r.comment || ""}, r.name);
      name.addEventListener("click", (ev) => { ev.preventDefault(); insert(r.name); });
      const list = el("ul", {class: "cols"});
      for (const c of cols) {
        const b = el("button", {type: "button", class: "link", title: c.comment || ""}, c.name);
        b.addEventListener("click", () => insert(c.name));
        list.append(el("li", {}, b, " ", el("span", {class: "muted"}, c.type), c.comment ? el("div", {class: "muted"}, c.comment) : null));
      }
      const det = el("details", {}, el("summary", {}, name, " ", el("span", {class: "muted"}, String(r.columns.length))),
        r.comment ? el("div", {class: "muted"}, r.comment) : null, list);
      if (q) det.open = true;
      ul.append(el("li", {"data-relation": r.name}, det));
    }
  }
  function insert(text) {
    if (!editor) return;
    const v = editor.view;
    const sel = v.state.selection.main;
    v.dispatch({changes: {from: sel.from, to: sel.to, insert: text}, selection: {anchor: sel.from + text.length}});
    v.focus();
  }

  // --- saved queries -------------------------------------------------------
  async function loadSaved() {
    let j;
    try { j = await json("GET", "/api/sql/saved"); } catch (e) { return; }
    state.savedList = j.saved || [];
    const ul = $("sqlc-saved");
    ul.textContent = "";
    if (!state.savedList.length) ul.append(el("li", {class: "muted"}, t("nothing")));
    for (const q of state.savedList) {
      const open = el("button", {type: "button", class: "link", title: q.description || ""}, q.name);
      open.addEventListener("click", () => openSaved(q));
      const li = el("li", {"data-saved": q.id}, open);
      if (q.owner !== cfg.user) li.append(" ", el("span", {class: "muted"}, t("shared_by", q.owner)));
      else {
        const del = el("button", {type: "button", class: "link muted", title: t("delete")}, "×");
        del.addEventListener("click", async () => {
          if (!confirm(t("confirm_delete"))) return;
          await json("DELETE", "/api/sql/saved/" + encodeURIComponent(q.id));
          if (state.saved && state.saved.id === q.id) setCurrent(null);
          loadSaved();
        });
        li.append(" ", del);
      }
      ul.append(li);
    }
  }
  function setCurrent(q) {
    state.saved = q;
    const box = $("sqlc-current");
    box.hidden = !q;
    box.textContent = q ? q.name + (q.description ? " — " + q.description : "") : "";
  }
  function openSaved(q) {
    setCurrent(q);
    editor.set(q.sql);
    sessionStorage.setItem("sqlc.sql", q.sql);
    state.params = {};
    for (const p of q.params || []) state.params[p.name] = {type: p.type || "text", value: p.default || ""};
    renderParams();
    const f = $("sqlc-saveform");
    f.elements.name.value = q.name;
    f.elements.description.value = q.description || "";
    f.elements.shared_role.value = q.shared_role || "";
  }
  async function saveQuery(ev) {
    ev.preventDefault();
    const f = $("sqlc-saveform");
    const asNew = f.elements.as_new.checked || !state.saved || state.saved.owner !== cfg.user;
    const body = {
      id: asNew ? "" : state.saved.id,
      name: f.elements.name.value,
      description: f.elements.description.value,
      shared_role: f.elements.shared_role.value,
      sql: editor.get(),
      params: Object.entries(state.params).map(([name, p]) => ({name, type: p.type, default: p.value})),
    };
    showError("");
    try {
      const q = await json("POST", "/api/sql/saved", body);
      setCurrent(q);
      f.hidden = true;
      f.elements.as_new.checked = false;
      $("sqlc-status").textContent = t("saved_ok");
      loadSaved();
    } catch (e) {
      showError(e.message);
    }
  }

  // --- history -------------------------------------------------------------
  async function loadHistory() {
    let j;
    try { j = await json("GET", "/api/sql/history"); } catch (e) { return; }
    const ul = $("sqlc-history");
    ul.textContent = "";
    const items = (j.history || []).slice(0, 50);
    if (!items.length) ul.append(el("li", {class: "muted"}, t("nothing")));
    for (const h of items) {
      const b = el("button", {type: "button", class: "link", title: h.sql}, h.sql.replace(/\s+/g, " ").slice(0, 80));
      b.addEventListener("click", () => { editor.set(h.sql); setCurrent(null); renderParams(); });
      ul.append(el("li", {}, b, el("div", {class: "muted"},
        new Date(h.at).toLocaleString() + " · " + h.entry + " · " + h.outcome + " · " + h.rows)));
    }
  }

  // --- API tokens ----------------------------------------------------------
  async function loadTokens() {
    let j;
    try { j = await json("GET", "/api/sql/tokens"); } catch (e) { return; }
    const ul = $("sqlc-tokens");
    ul.textContent = "";
    for (const tk of j.tokens || []) {
      const li = el("li", {"data-token": tk.id}, el("strong", {}, tk.name), " ",
        el("span", {class: "muted"}, new Date(tk.created_at).toLocaleDateString() + " · " +
          (tk.revoked_at ? t("revoked") : tk.last_used_at ? t("last_used") + " " + new Date(tk.last_used_at).toLocaleString() : t("never_used"))));
      if (!tk.revoked_at) {
        const b = el("button", {type: "button", class: "link"}, t("revoke"));
        b.addEventListener("click", async () => {
          if (!confirm(t("confirm_revoke"))) return;
          await json("DELETE", "/api/sql/tokens/" + encodeURIComponent(tk.id));
          loadTokens();
        });
        li.append(" ", b);
      }
      ul.append(li);
    }
  }
  async function createToken(ev) {
    ev.preventDefault();
    const f = $("sqlc-tokenform");
    try {
      const j = await json("POST", "/api/sql/tokens", {name: f.elements.name.value});
      const box = $("sqlc-newtoken");
      box.hidden = false;
      box.textContent = "";
      box.append(t("token_secret"), " ", el("code", {id: "sqlc-secret"}, j.secret));
      f.reset();
      loadTokens();
    } catch (e) {
      showError(e.message);
    }
  }

  // --- wiring --------------------------------------------------------------
  document.addEventListener("DOMContentLoaded", () => {
    if (!window.TriscopeEditor) return;
    $("sqlc-run").addEventListener("click", run);
    $("sqlc-save").addEventListener("click", () => {
      const f = $("sqlc-saveform");
      f.hidden = !f.hidden;
      if (!f.hidden) f.elements.name.focus();
    });
    $("sqlc-savecancel").addEventListener("click", () => { $("sqlc-saveform").hidden = true; });
    $("sqlc-saveform").addEventListener("submit", saveQuery);
    for (const b of document.querySelectorAll("[data-export]")) b.addEventListener("click", () => exportAs(b.getAttribute("data-export")));
    for (const b of document.querySelectorAll(".sqlc-tabs [data-tab]")) {
      b.addEventListener("click", () => {
        for (const o of document.querySelectorAll(".sqlc-tabs [data-tab]")) o.classList.toggle("active", o === b);
        const chartTab = b.getAttribute("data-tab") === "chart";
        $("sqlc-gridbox").hidden = chartTab;
        $("sqlc-chartbox").hidden = !chartTab;
        if (chartTab) drawChart();
      });
    }
    for (const id of ["sqlc-ctype", "sqlc-cx", "sqlc-cy"]) $(id).addEventListener("change", drawChart);
    $("sqlc-filter").addEventListener("input", renderSchema);
    $("sqlc-tokenform").addEventListener("submit", createToken);
    window.addEventListener("resize", () => { if (chart) chart.resize(); });
    loadSchema();
    loadSaved();
    loadHistory();
    loadTokens();
  });
})();
