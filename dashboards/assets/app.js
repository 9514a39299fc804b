// Triscope dashboards: loads each chart's data (JSON) and draws it with ECharts.
// Rules: data is only ever inserted as text (textContent) or escaped with
// echarts.format.encodeHTML; no JavaScript is built from data; formatting
// functions are ours, chosen by the "format" the server sends.
(function () {
  'use strict';

  var cfgEl = document.getElementById('ts-config');
  if (!cfgEl) return;
  var cfg = JSON.parse(cfgEl.textContent);
  var M = cfg.messages || {};
  var zh = cfg.lang === 'zh-CN';
  var FONT = getComputedStyle(document.body).fontFamily;
  var SYMBOLS = { CNY: '¥', JPY: '¥', USD: '$', EUR: '€', GBP: '£', HKD: 'HK$' };
  var sym = SYMBOLS[cfg.currency] || (cfg.currency + ' ');

  // For tests and the screenshot command: chart instances and their data.
  var registry = window.triscope = { charts: {}, data: {}, pending: 0, errors: [] };

  function msg(key) {
    var s = M[key] || key;
    for (var i = 1; i < arguments.length; i++) s = s.split('{' + (i - 1) + '}').join(String(arguments[i]));
    return s;
  }
  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = text;
    return e;
  }
  function esc(s) { return echarts.format.encodeHTML(String(s == null ? '' : s)); }

  // ---- number formatting (zh-CN: 万 / 亿; en: K / M / B) ----
  function trim(s) { return s.indexOf('.') >= 0 ? s.replace(/0+$/, '').replace(/\.$/, '') : s; }
  function group(n) { return Math.round(n).toString().replace(/\B(?=(\d{3})+(?!\d))/g, ','); }
  function compact(v) {
    var a = Math.abs(v), s;
    if (zh) {
      if (a >= 1e8) s = trim((a / 1e8).toFixed(2)) + '亿';
      else if (a >= 1e4) s = trim((a / 1e4).toFixed(1)) + '万';
      else s = group(a);
    } else {
      if (a >= 1e9) s = trim((a / 1e9).toFixed(2)) + 'B';
      else if (a >= 1e6) s = trim((a / 1e6).toFixed(2)) + 'M';
      else if (a >= 1e4) s = trim((a / 1e3).toFixed(1)) + 'K';
      else s = group(a);
    }
    return (v < 0 ? '-' : '') + s;
  }
  function fmt(v, format) {
    if (v === null || v === undefined || v === '' || (typeof v === 'number' && !isFinite(v))) return '–';
    if (typeof v !== 'number') return String(v);
    switch (format) {
      case 'percent': return (v * 100).toFixed(1) + '%';
      case 'delta': return (v > 0 ? '+' : '') + (v * 100).toFixed(1) + '%';
      case 'pts': return (v > 0 ? '+' : '') + (v * 100).toFixed(1) + (zh ? ' 个百分点' : ' pts');
      case 'count': return group(v);
      case 'ratio': return v.toFixed(1) + '×';
      case 'days': return group(v) + (zh ? ' 天' : ' d');
      case 'money': return (v < 0 ? '-' : '') + sym + compact(Math.abs(v));
      default: return Math.abs(v) >= 1e4 ? compact(v) : String(Math.round(v * 100) / 100);
    }
  }
  function fmtAxis(v, format) {
    if (format === 'percent') return Math.round(v * 100) + '%';
    if (format === 'money') return compact(v);
    return compact(v);
  }
  function fmtFull(v, type) {
    if (v === null || v === undefined) return '';
    if (typeof v === 'number') {
      if (type === 'money') return v.toLocaleString(cfg.lang, { minimumFractionDigits: 2, maximumFractionDigits: 2 });
      if (type === 'percent') return v.toLocaleString(cfg.lang, { maximumFractionDigits: 4 });
      return v.toLocaleString(cfg.lang, { maximumFractionDigits: 2 });
    }
    if (typeof v === 'boolean') return v ? '✓' : '';
    return String(v);
  }

  // A code value (status, stage, channel, …) in the user's language, when known.
  function codeLabel(col, v) {
    if (typeof v !== 'string' || v === '') return fmtFull(v, 'text');
    var kinds = col === 'status' ? [col, 'stage', 'method'] : (col === 'previous_segment' ? ['segment'] : [col]);
    for (var i = 0; i < kinds.length; i++) {
      var k = 'val.' + kinds[i] + '.' + v;
      if (Object.prototype.hasOwnProperty.call(M, k)) return M[k];
    }
    return v;
  }

  // ---- URL helpers: the page's filters are the query string ----
  // Chart API calls also carry the page's path parameters (cfg.params: the id
  // of /customers/{id}, /reps/{id}, /deals/{id}); page links do not.
  function query(extra, forPage) {
    var q = new URLSearchParams(location.search);
    q.delete('lang');
    if (!forPage && cfg.params) Object.keys(cfg.params).forEach(function (k) { q.set(k, cfg.params[k]); });
    if (extra) Object.keys(extra).forEach(function (k) {
      if (extra[k] === null || extra[k] === undefined || extra[k] === '') q.delete(k); else q.set(k, extra[k]);
    });
    return q.toString();
  }
  function navigate(extra) { location.search = query(extra, true); }
  // A point's link opens one of our pages (local paths only).
  function localLink(link) { return typeof link === 'string' && /^\/[^\/\\]/.test(link) ? link : ''; }

  function getJSON(url) {
    return fetch(url, { credentials: 'same-origin', headers: { Accept: 'application/json' } }).then(function (r) {
      if (r.status === 401) { location.href = '/login?next=' + encodeURIComponent(location.pathname + location.search); throw new Error('401'); }
      if (!r.ok) throw new Error('HTTP ' + r.status);
      return r.json();
    });
  }

  // ---- filters ----
  var form = document.getElementById('filters');
  if (form) {
    var custom = form.querySelector('.custom');
    var setCustom = function (on) {
      if (!custom) return;
      custom.classList.toggle('hidden', !on);
      custom.querySelectorAll('input').forEach(function (i) { i.disabled = !on; });
    };
    var period = form.querySelector('select[name=period]');
    setCustom(period && period.value === 'custom');
    form.querySelectorAll('select').forEach(function (s) {
      s.addEventListener('change', function () {
        if (s.name === 'period' && s.value === 'custom') { setCustom(true); return; }
        if (s.name === 'period') setCustom(false);
        submitFilters();
      });
    });
    form.querySelectorAll('input[type=date]').forEach(function (i) { i.addEventListener('change', submitFilters); });
    form.addEventListener('submit', function (ev) { ev.preventDefault(); submitFilters(); });
    form.querySelectorAll('.picker').forEach(picker);
  }
  function submitFilters() {
    var q = new URLSearchParams();
    new FormData(form).forEach(function (v, k) { if (v !== '') q.append(k, v); });
    location.search = q.toString();
  }

  // A multi-select picker (org units as a searchable tree, product lines):
  // checkboxes in a pop-over, applied together with the Apply button.
  function picker(p) {
    var btn = p.querySelector('.picker-button'), pop = p.querySelector('.picker-pop');
    var search = p.querySelector('.picker-search');
    p.classList.add('js');
    function open(on) {
      p.classList.toggle('open', on);
      btn.setAttribute('aria-expanded', on ? 'true' : 'false');
      if (on && search) search.focus();
    }
    btn.addEventListener('click', function () { open(!p.classList.contains('open')); });
    p.addEventListener('keydown', function (ev) { if (ev.key === 'Escape') { open(false); btn.focus(); } });
    document.addEventListener('click', function (ev) { if (!p.contains(ev.target)) open(false); });
    p.querySelector('.picker-clear').addEventListener('click', function () {
      pop.querySelectorAll('input[type=checkbox]').forEach(function (c) { c.checked = false; });
      submitFilters();
    });
    if (!search) return;
    // A search shows the matching units with the units above them (the tree
    // stays readable); an empty search shows every unit.
    var items = Array.prototype.slice.call(pop.querySelectorAll('li'));
    search.addEventListener('input', function () {
      var term = search.value.trim().toLowerCase();
      var show = items.map(function () { return !term; });
      if (term) {
        items.forEach(function (li, i) {
          if (li.textContent.toLowerCase().indexOf(term) < 0 && li.querySelector('input').value.toLowerCase() !== term) return;
          show[i] = true;
          var depth = parseInt(li.getAttribute('data-depth'), 10);
          for (var j = i - 1; j >= 0 && depth > 0; j--) {
            var d = parseInt(items[j].getAttribute('data-depth'), 10);
            if (d < depth) { show[j] = true; depth = d; }
          }
        });
      }
      items.forEach(function (li, i) { li.hidden = !show[i]; });
    });
    search.addEventListener('keydown', function (ev) {
      if (ev.key === 'Enter') { ev.preventDefault(); submitFilters(); }
    });
  }
  document.querySelectorAll('[data-org]').forEach(function (a) {
    a.addEventListener('click', function (ev) { ev.preventDefault(); navigate({ org: a.getAttribute('data-org') }); });
  });

  // ---- charts ----
  function setState(card, state, text) {
    card.setAttribute('data-state', state);
    var st = card.querySelector('.state');
    var ch = card.querySelector('.chart');
    if (state === 'ok') { st.className = 'state hidden'; ch.classList.remove('hidden'); return; }
    st.className = 'state ' + state.replace('_', '-');
    st.textContent = text || '';
    if (card.getAttribute('data-height')) st.style.minHeight = Math.round(parseInt(card.getAttribute('data-height'), 10) * 0.6) + 'px';
    ch.classList.add('hidden');
  }

  function freshness(card, f) {
    var parts = [];
    if (f.loaded_at) parts.push(msg('js.fresh', f.loaded_at));
    if (f.computed_at) parts.push(msg('js.fresh_models', f.computed_at));
    if (f.as_of) parts.push(msg('js.as_of', f.as_of));
    card.querySelector('.fresh').textContent = parts.join(' · ');
  }

  function tooltipFormatter(data) {
    return function (params) {
      var ps = Array.isArray(params) ? params : [params];
      if (!ps.length) return '';
      if (ps[0].seriesType === 'radar') return radarTooltip(data, ps[0]);
      var head = ps[0].name !== undefined && ps[0].name !== '' ? ps[0].name : (ps[0].axisValueLabel || '');
      var html = '<div class="tt-head">' + esc(head) + '</div>';
      ps.forEach(function (p) {
        var v = p.value;
        if (Array.isArray(v)) v = v[v.length - 1];
        if (v === undefined || v === null || v === '-') return;
        html += '<div>' + p.marker + esc(p.seriesName) + ': <b>' + esc(fmt(v, data.format)) + '</b></div>';
      });
      var pt = data.points && data.points[pointIndex(data, ps[0])];
      if (pt && localLink(pt.link)) html += '<div class="tt-hint">' + esc(msg('js.click_open')) + '</div>';
      else if (pt && pt.zoom) html += '<div class="tt-hint">' + esc(msg('js.click_zoom')) + '</div>';
      else if (pt && pt.filter) html += '<div class="tt-hint">' + esc(msg('js.click_filter')) + '</div>';
      else if (pt && pt.key && data.drill) html += '<div class="tt-hint">' + esc(msg('js.click_rows')) + '</div>';
      return html;
    };
  }

  // A radar point: its name, then each indicator with its value.
  function radarTooltip(data, p) {
    var ind = (data.option && data.option.radar && (data.option.radar.indicator || (data.option.radar[0] || {}).indicator)) || [];
    var html = '<div class="tt-head">' + p.marker + esc(p.name) + '</div>';
    (p.value || []).forEach(function (v, i) {
      if (v === null || v === undefined) return;
      html += '<div>' + esc(ind[i] ? ind[i].name : '') + ': <b>' + esc(Math.round(v)) + '</b></div>';
    });
    return html;
  }

  // The point (category) index of an ECharts event: treemap cells by name.
  function pointIndex(data, p) {
    if (p.seriesType === 'treemap') return (data.labels || []).indexOf(p.name);
    return p.dataIndex;
  }

  function asArray(x) { return x === undefined || x === null ? [] : (Array.isArray(x) ? x : [x]); }

  // prepare applies our formatting to an option built on the server.
  function prepare(option, data) {
    option.textStyle = { fontFamily: FONT };
    option.animationDuration = 400;
    option.tooltip = Object.assign({ trigger: 'axis' }, option.tooltip || {}, {
      confine: true, formatter: tooltipFormatter(data), axisPointer: { type: 'shadow' }
    });
    if (option.legend) option.legend = Object.assign({ type: 'scroll', itemGap: 14, textStyle: { color: '#4a5a6b' } }, option.legend);
    asArray(option.grid).forEach(function (g) { delete g.containLabel; });
    var valueAxes = data.horizontal ? asArray(option.xAxis) : asArray(option.yAxis);
    var catAxes = data.horizontal ? asArray(option.yAxis) : asArray(option.xAxis);
    valueAxes.forEach(function (a) {
      if (a.type === 'category') return; // a heat map: categories on both axes
      a.axisLabel = Object.assign({}, a.axisLabel, { color: '#7b8a9a', formatter: function (v) { return fmtAxis(v, data.format); } });
      a.splitLine = { lineStyle: { color: '#eef1f5' } };
    });
    catAxes.forEach(function (a) {
      a.triggerEvent = true;
      a.axisTick = { show: false };
      a.axisLine = { lineStyle: { color: '#cfd6df' } };
      a.axisLabel = Object.assign({ color: '#4a5a6b', hideOverlap: true }, a.axisLabel);
      if (data.horizontal) Object.assign(a.axisLabel, { width: 130, overflow: 'truncate' });
    });
    asArray(option.series).forEach(function (s) {
      if (s.label && s.label.show) s.label.formatter = function (p) {
        var v = Array.isArray(p.value) ? p.value[p.value.length - 1] : p.value;
        return s.type === 'funnel' ? p.name + '  ' + fmt(v, data.format) : fmt(v, data.format);
      };
      if (s.markLine) {
        s.markLine.label = { show: false };
        s.markLine.silent = true;
      }
      if (s.type === 'line') { s.symbolSize = s.symbol === 'diamond' ? 11 : 6; }
      if (s.type === 'treemap') {
        s.nodeClick = false;
        s.breadcrumb = { show: false };
        s.roam = false;
        s.itemStyle = { borderColor: '#fff', borderWidth: 2, gapWidth: 2 };
        s.label = { show: true, overflow: 'truncate', formatter: function (p) { return p.name + '\n' + fmt(p.value, data.format); } };
      }
    });
    return option;
  }

  function renderKPIs(card, data) {
    var body = card.querySelector('.chart');
    body.textContent = '';
    body.style.height = 'auto';
    var wrap = el('div', 'kpis');
    (data.kpis || []).forEach(function (k) {
      var b = el('button', 'kpi');
      b.type = 'button';
      b.setAttribute('data-point', k.point || '');
      var lab = el('span', 'kpi-label', k.label);
      if (k.info) {
        // The glossary's definition of the figure (one definition per KPI).
        var info = el('span', 'info', 'ⓘ');
        info.title = k.info;
        info.setAttribute('aria-label', k.info);
        lab.appendChild(info);
      }
      b.appendChild(lab);
      b.appendChild(el('span', 'kpi-value', fmt(k.value, k.format)));
      if (k.progress !== undefined && k.progress !== null) {
        var bar = el('div', 'kpi-bar'), i = el('i', k.progress >= 1 ? '' : (k.progress >= 0.8 ? 'warn' : 'bad'));
        i.style.width = Math.max(2, Math.min(100, k.progress * 100)) + '%';
        bar.appendChild(i);
        b.appendChild(bar);
      }
      if (k.compare !== undefined && k.compare !== null && k.value !== null && k.compare !== 0) {
        var d = k.format === 'percent' ? (k.value - k.compare) : (k.value / k.compare - 1);
        var txt = k.format === 'percent'
          ? (d >= 0 ? '▲ +' : '▼ ') + (d * 100).toFixed(1) + (zh ? ' 个百分点' : ' pts')
          : (d >= 0 ? '▲ +' : '▼ ') + (d * 100).toFixed(1) + '%';
        b.appendChild(el('span', 'kpi-delta ' + (d > 0.0005 ? 'up' : (d < -0.0005 ? 'down' : 'flat')), msg('js.vs_compare', txt)));
      }
      if (k.sub) b.appendChild(el('span', 'kpi-sub', k.sub));
      if (k.when) b.appendChild(el('span', 'kpi-when', k.when));
      if (k.point && data.drill) b.addEventListener('click', function () { openDrill(card, k.point, k.label); });
      wrap.appendChild(b);
    });
    body.appendChild(wrap);
  }

  function renderTable(card, table, data) {
    var wrap = card.querySelector('.table-wrap');
    wrap.textContent = '';
    if (!table || !table.rows || !table.rows.length) return;
    var t = el('table', 'mini'), thead = el('thead'), tr = el('tr');
    table.columns.forEach(function (c) { tr.appendChild(el('th', c.format === 'text' ? '' : 'num', c.label)); });
    thead.appendChild(tr);
    t.appendChild(thead);
    var tb = el('tbody');
    table.rows.forEach(function (r, ri) {
      var row = el('tr');
      var pt = data && data.points && data.points[ri];
      if (pt && (pt.zoom || localLink(pt.link) || (pt.key && data.drill))) {
        row.className = 'clickable';
        row.addEventListener('click', function () { clickPoint(card, data, data.option || {}, ri); });
      }
      r.forEach(function (v, i) {
        var f = table.columns[i].format;
        var td = el('td', f === 'text' ? '' : 'num', f === 'text' ? v : fmt(v, f));
        if ((f === 'delta' || f === 'pts') && typeof v === 'number') td.classList.add(v >= 0 ? 'up' : 'down');
        row.appendChild(td);
      });
      tb.appendChild(row);
    });
    t.appendChild(tb);
    wrap.appendChild(t);
  }

  function pointLabel(option, data, i) {
    if (data.labels && data.labels[i] !== undefined) return data.labels[i];
    var axes = asArray(data.horizontal ? option.yAxis : option.xAxis);
    var cats = axes.length && axes[0].data ? axes[0].data : [];
    return cats[i] !== undefined ? cats[i] : '';
  }

  function clickPoint(card, data, option, i) {
    var pt = data.points && i >= 0 && data.points[i];
    if (!pt) return;
    if (localLink(pt.link)) { location.href = localLink(pt.link); return; }
    if (pt.zoom) { navigate({ org: pt.zoom }); return; }
    // A cross-filter: the page filtered by the point (shown as a chip).
    if (pt.filter) { navigate(pt.filter); return; }
    if (pt.key && data.drill) openDrill(card, pt.key, pointLabel(option, data, i));
  }

  function renderEChart(card, data) {
    var node = card.querySelector('.chart');
    node.style.height = (parseInt(card.getAttribute('data-height'), 10) || 320) + 'px';
    // Dark mode follows the system setting (the page's CSS does the same).
    var dark = window.matchMedia && window.matchMedia('(prefers-color-scheme: dark)').matches;
    var chart = echarts.getInstanceByDom(node) || echarts.init(node, dark ? 'dark' : null, { renderer: 'canvas' });
    if (dark) option.backgroundColor = 'transparent';
    var option = prepare(data.option || {}, data);
    chart.setOption(option, true);
    chart.off('click');
    chart.on('click', function (p) {
      if (p.componentType === 'series') { clickPoint(card, data, option, pointIndex(data, p)); return; }
      // An axis label is a category of bars; a heat map's cells are not indexed by one axis.
      var heat = asArray(option.series).some(function (s) { return s.type === 'heatmap'; });
      if ((p.componentType === 'xAxis' || p.componentType === 'yAxis') && p.value !== undefined && !heat) {
        var axes = asArray(data.horizontal ? option.yAxis : option.xAxis);
        var idx = axes.length && axes[0].data ? axes[0].data.indexOf(p.value) : -1;
        if (idx >= 0) clickPoint(card, data, option, idx);
      }
    });
    registry.charts[data.id] = chart;
  }

  function renderCrumbs(card, crumbs) {
    var c = card.querySelector('.chart-crumbs');
    c.textContent = '';
    (crumbs || []).forEach(function (cr, i) {
      if (i) c.appendChild(el('span', 'sep', '›'));
      if (cr.key) {
        var a = el('a', '', cr.label);
        a.href = '#';
        a.addEventListener('click', function (ev) { ev.preventDefault(); navigate({ org: cr.key }); });
        c.appendChild(a);
      } else c.appendChild(el('span', '', cr.label));
    });
  }

  function loadChart(card) {
    var id = card.getAttribute('data-chart');
    registry.pending++;
    card.setAttribute('data-state', 'loading');
    // A card may carry its own query (a report's print page, one query per part).
    var own = card.getAttribute('data-query');
    return getJSON('/api/charts/' + encodeURIComponent(id) + '?' + (own !== null ? own : query())).then(function (data) {
      registry.data[id] = data;
      freshness(card, data.freshness || {});
      var note = card.querySelector('.note');
      note.textContent = data.note || '';
      renderCrumbs(card, data.crumbs);
      if (data.state === 'not_computed' || data.state === 'error' || data.state === 'empty') {
        setState(card, data.state, data.message);
        if (data.state === 'empty' && data.kind === 'echarts' && data.option) { /* keep the message only */ }
        return;
      }
      setState(card, 'ok');
      if (data.kind === 'kpi') renderKPIs(card, data);
      else if (data.kind === 'table') card.querySelector('.chart').classList.add('hidden');
      else renderEChart(card, data);
      renderTable(card, data.table, data);
      card.setAttribute('data-points', String((data.points || []).length));
    }).catch(function (err) {
      registry.errors.push(id + ': ' + err.message);
      setState(card, 'error', msg('js.error'));
    }).finally(function () {
      registry.pending--;
      if (registry.pending === 0) document.body.setAttribute('data-loaded', 'true');
    });
  }

  // ---- drill-through ----
  var drill = { dlg: document.getElementById('drill') };
  function openDrill(card, point, label) {
    var title = card.querySelector('h3').textContent;
    drill.card = card;
    drill.id = card.getAttribute('data-chart');
    drill.point = point || '';
    drill.sort = 0;
    drill.desc = false;
    drill.page = 1;
    drill.dlg.querySelector('.dlg-title').textContent = label ? msg('js.rows_point', title, label) : msg('js.rows_title', title);
    if (!drill.dlg.open) drill.dlg.showModal();
    loadRows();
  }
  function rowsQuery(extra) {
    var e = { point: drill.point, sort: drill.sort || '', desc: drill.desc ? '1' : '' };
    Object.keys(extra || {}).forEach(function (k) { e[k] = extra[k]; });
    return query(e);
  }
  function loadRows() {
    var d = drill.dlg;
    var tbody = d.querySelector('tbody'), thead = d.querySelector('thead');
    d.querySelector('.count').textContent = msg('js.loading');
    d.querySelector('.export-csv').href = '/api/charts/' + encodeURIComponent(drill.id) + '/export?' + rowsQuery({ format: 'csv' });
    d.querySelector('.export-xlsx').href = '/api/charts/' + encodeURIComponent(drill.id) + '/export?' + rowsQuery({ format: 'xlsx' });
    getJSON('/api/charts/' + encodeURIComponent(drill.id) + '/rows?' + rowsQuery({ page: drill.page })).then(function (r) {
      thead.textContent = '';
      tbody.textContent = '';
      var tr = el('tr');
      // An id whose name is shown links from the name instead (the export keeps both).
      var names = r.columns.map(function (c) { return c.name; });
      var shown = function (i) {
        var n = names[i];
        return !((n === 'customer_id' && names.indexOf('customer_name') >= 0) || (n === 'rep_id' && names.indexOf('rep_name') >= 0));
      };
      r.columns.forEach(function (c, i) {
        if (!shown(i)) return;
        var numeric = c.type === 'money' || c.type === 'number' || c.type === 'percent';
        var th = el('th', numeric ? 'num' : '');
        var b = el('button', '', r.labels[i]);
        b.type = 'button';
        b.addEventListener('click', function () {
          if (drill.sort === i + 1) drill.desc = !drill.desc; else { drill.sort = i + 1; drill.desc = numeric; }
          drill.page = 1;
          loadRows();
        });
        th.appendChild(b);
        if (drill.sort === i + 1) th.appendChild(el('span', 'dir', drill.desc ? '▼' : '▲'));
        tr.appendChild(th);
      });
      thead.appendChild(tr);
      var link = rowLinks(r.columns);
      r.rows.forEach(function (row) {
        var tr2 = el('tr');
        row.forEach(function (v, i) {
          if (!shown(i)) return;
          var c = r.columns[i];
          var numeric = c.type === 'money' || c.type === 'number' || c.type === 'percent';
          var text = c.type === 'text' ? codeLabel(c.name, v) : fmtFull(v, c.type);
          var td = el('td', numeric ? 'num' : '');
          var href = link(row, i);
          if (href && text) {
            var a = el('a', '', text);
            a.href = href;
            td.appendChild(a);
          } else td.textContent = text;
          if (c.type === 'text' && typeof v === 'string' && v.length > 30) td.title = v;
          tr2.appendChild(td);
        });
        tbody.appendChild(tr2);
      });
      if (!r.rows.length) {
        var empty = el('tr'), td = el('td', 'muted', msg('js.no_rows'));
        td.colSpan = Math.max(1, r.columns.length);
        empty.appendChild(td);
        tbody.appendChild(empty);
      }
      var pages = Math.max(1, Math.ceil(r.total / r.page_size));
      d.querySelector('.count').textContent = msg('js.rows_total', group(r.total)) + (r.shortened ? ' · ' + msg('js.shortened') : '');
      d.querySelector('.pageno').textContent = msg('js.page', r.page, pages);
      d.querySelector('.prev').disabled = r.page <= 1;
      d.querySelector('.next').disabled = r.page >= pages;
      d.setAttribute('data-total', String(r.total));
      d.setAttribute('data-loaded', 'true');
    }).catch(function () {
      d.querySelector('.count').textContent = msg('js.error');
    });
  }
  if (drill.dlg) {
    drill.dlg.querySelector('.prev').addEventListener('click', function () { drill.page--; loadRows(); });
    drill.dlg.querySelector('.next').addEventListener('click', function () { drill.page++; loadRows(); });
    drill.dlg.addEventListener('close', function () { drill.dlg.removeAttribute('data-loaded'); });
  }

  // rowLinks says which cells of a rows page link to a page of ours: a
  // customer's id or name (/customers/{id}), a deal's id (/deals/{id}), a
  // rep's id or name (/reps/{id}), and the record of a mixed list whose
  // entity is a deal. The pages check the scope again.
  function rowLinks(cols) {
    var at = {};
    cols.forEach(function (c, i) { at[c.name] = i; });
    var to = function (prefix, v) { return v === null || v === undefined || v === '' ? '' : prefix + encodeURIComponent(String(v)); };
    return function (row, i) {
      switch (cols[i].name) {
        case 'customer_id': return to('/customers/', row[i]);
        case 'customer_name': return at.customer_id !== undefined ? to('/customers/', row[at.customer_id]) : '';
        case 'opportunity_id': return to('/deals/', row[i]);
        case 'rep_id': case 'owner_rep_id': return to('/reps/', row[i]);
        case 'rep_name': return at.rep_id !== undefined ? to('/reps/', row[at.rep_id]) : (at.owner_rep_id !== undefined ? to('/reps/', row[at.owner_rep_id]) : '');
        case 'record_id': return at.entity !== undefined && row[at.entity] === 'opportunities' ? to('/deals/', row[i]) : '';
      }
      return '';
    };
  }

  // ---- SQL ----
  var sqlDlg = document.getElementById('sql');
  function showSQL(card) {
    var id = card.getAttribute('data-chart');
    var body = sqlDlg.querySelector('.sql-body');
    body.textContent = msg('js.loading');
    sqlDlg.querySelector('.dlg-title').textContent = 'SQL — ' + card.querySelector('h3').textContent;
    if (!sqlDlg.open) sqlDlg.showModal();
    getJSON('/api/charts/' + encodeURIComponent(id) + '/sql?' + query()).then(function (info) {
      body.textContent = '';
      body.appendChild(el('h4', '', msg('js.sql_chart', info.file)));
      body.appendChild(el('pre', 'sql', info.sql));
      body.appendChild(el('h4', '', msg('js.sql_params')));
      body.appendChild(paramsTable(info.params));
      if (info.drill_sql) {
        var det = el('details');
        det.appendChild(el('summary', '', msg('js.sql_drill', info.drill_file)));
        det.appendChild(el('pre', 'sql', info.drill_sql));
        det.appendChild(paramsTable(info.drill_params));
        body.appendChild(det);
      }
      var defs = el('details');
      defs.appendChild(el('summary', '', msg('js.sql_defs')));
      defs.appendChild(el('pre', 'sql', info.definitions));
      body.appendChild(defs);
      sqlDlg.setAttribute('data-loaded', 'true');
    }).catch(function () { body.textContent = msg('js.error'); });
  }
  function paramsTable(params) {
    var t = el('table'), thead = el('thead'), tr = el('tr');
    tr.appendChild(el('th', '', msg('js.param')));
    tr.appendChild(el('th', '', msg('js.value')));
    thead.appendChild(tr);
    t.appendChild(thead);
    var tb = el('tbody');
    (params || []).forEach(function (p) {
      var r = el('tr');
      r.appendChild(el('td', 'param', '$' + p.name));
      r.appendChild(el('td', 'val', p.value === null ? msg('js.null') : (typeof p.value === 'string' ? "'" + p.value + "'" : String(p.value))));
      tb.appendChild(r);
    });
    t.appendChild(tb);
    return t;
  }
  if (sqlDlg) sqlDlg.addEventListener('close', function () { sqlDlg.removeAttribute('data-loaded'); });

  // ---- start ----
  var cards = document.querySelectorAll('[data-chart]');
  if (!cards.length) document.body.setAttribute('data-loaded', 'true');
  cards.forEach(function (card) {
    var sb = card.querySelector('.btn-sql');
    if (sb) sb.addEventListener('click', function () { showSQL(card); });
    var rb = card.querySelector('.btn-rows');
    if (rb) rb.addEventListener('click', function () { openDrill(card, '', ''); });
    loadChart(card);
  });
  var resizeTimer;
  window.addEventListener('resize', function () {
    clearTimeout(resizeTimer);
    resizeTimer = setTimeout(function () {
      Object.keys(registry.charts).forEach(function (k) { registry.charts[k].resize(); });
    }, 120);
  });
})();
