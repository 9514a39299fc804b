// The chrome every page shares (dashboards and the other faces): the menu
// button of a phone-width screen, and the search box of the nav bar —
// customers, deals, contracts and reps of the user's scope, by name or
// number (GET /api/search). Arrow keys move through the results, Enter opens
// one, Escape closes the list. Every text is set as text (never HTML).
(function () {
  'use strict';
  var menu = document.querySelector('.topbar .menu');
  if (menu) menu.addEventListener('click', function () {
    var open = document.body.classList.toggle('nav-open');
    menu.setAttribute('aria-expanded', open ? 'true' : 'false');
  });
})();
(function () {
  'use strict';
  var box = document.getElementById('search');
  if (!box) return;
  var input = box.querySelector('input');
  var list = box.querySelector('ul');
  var timer = null, seq = 0, items = [], active = -1;

  function close() { list.hidden = true; active = -1; input.setAttribute('aria-expanded', 'false'); }
  function mark(i) {
    active = i;
    Array.prototype.forEach.call(list.children, function (li, j) {
      li.classList.toggle('active', j === i);
      li.setAttribute('aria-selected', j === i ? 'true' : 'false');
    });
  }
  function show(hits) {
    items = hits;
    list.textContent = '';
    if (!hits.length) {
      var none = document.createElement('li');
      none.className = 'none';
      none.textContent = box.getAttribute('data-none');
      list.appendChild(none);
    }
    hits.forEach(function (h, i) {
      var li = document.createElement('li');
      li.setAttribute('role', 'option');
      var a = document.createElement('a');
      a.href = h.link;
      var kind = document.createElement('span');
      kind.className = 'kind';
      kind.textContent = h.type;
      var label = document.createElement('span');
      label.className = 'label';
      label.textContent = h.label + (h.kind === 'customer' || h.kind === 'rep' ? '' : ' · ' + h.id);
      var sub = document.createElement('span');
      sub.className = 'sub';
      sub.textContent = h.kind === 'customer' || h.kind === 'rep' ? h.id + (h.sub ? ' · ' + h.sub : '') : (h.sub || '');
      a.appendChild(kind); a.appendChild(label); a.appendChild(sub);
      li.appendChild(a);
      li.addEventListener('mouseenter', function () { mark(i); });
      list.appendChild(li);
    });
    list.hidden = false;
    input.setAttribute('aria-expanded', 'true');
  }
  function search() {
    var q = input.value.trim();
    if (!q) { close(); return; }
    var mine = ++seq;
    fetch('/api/search?q=' + encodeURIComponent(q), { credentials: 'same-origin' })
      .then(function (r) { return r.ok ? r.json() : []; })
      .then(function (hits) { if (mine === seq) show(hits || []); })
      .catch(function () {});
  }
  input.addEventListener('input', function () { clearTimeout(timer); timer = setTimeout(search, 180); });
  input.addEventListener('keydown', function (ev) {
    if (ev.key === 'ArrowDown' && items.length) { ev.preventDefault(); mark(Math.min(items.length - 1, active + 1)); }
    else if (ev.key === 'ArrowUp' && items.length) { ev.preventDefault(); mark(Math.max(0, active - 1)); }
    else if (ev.key === 'Enter') {
      ev.preventDefault();
      var h = items[active >= 0 ? active : 0];
      if (h) location.href = h.link;
    } else if (ev.key === 'Escape') { close(); input.blur(); }
  });
  document.addEventListener('click', function (ev) { if (!box.contains(ev.target)) close(); });
  // "/" focuses the search box, as in most products.
  document.addEventListener('keydown', function (ev) {
    if (ev.key === '/' && document.activeElement === document.body) { ev.preventDefault(); input.focus(); }
  });
})();
