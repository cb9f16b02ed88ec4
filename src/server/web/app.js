// The dashboard's page script: reads the page's JSON (#page-data) and /api/*, and writes every value
// with textContent (never as HTML). One entry per page, chosen by <body data-page>.
'use strict';
(function () {
  const data = JSON.parse(document.getElementById('page-data').textContent);
  const pageName = document.body.dataset.page;

  function el(tag, attrs, ...children) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === undefined || v === null) continue;
      if (k === 'class') e.className = v;
      else if (k === 'href') e.setAttribute('href', v);
      else e.setAttribute(k, String(v));
    }
    for (const c of children) e.append(c instanceof Node ? c : document.createTextNode(c === null || c === undefined ? '' : String(c)));
    return e;
  }
  const num = (v, digits) => (v === null || v === undefined ? '–' : typeof v === 'number' && digits !== undefined ? v.toFixed(digits) : String(v));
  const when = (ms) => (ms ? new Date(ms).toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z') : '–');
  const eta = (s) => (s === null || s === undefined ? '–' : s < 60 ? s.toFixed(0) + 's' : s < 3600 ? (s / 60).toFixed(1) + 'm' : (s / 3600).toFixed(1) + 'h');
  const q = (params) => new URLSearchParams(Object.entries(params).filter(([, v]) => v !== '' && v !== undefined && v !== null)).toString();
  function fill(tbody, rows) {
    tbody.replaceChildren(...rows);
  }
  async function getJson(url) {
    const r = await fetch(url, { headers: { accept: 'application/json' } });
    const body = await r.json();
    if (!r.ok) throw new Error(body.error || r.statusText);
    return body;
  }

  // ---- overview ----
  function renderOverview(o) {
    fill(document.querySelector('#stages tbody'), o.status.map((s) =>
      el('tr', { 'data-stage': s.stage },
        el('td', {}, s.stage),
        el('td', { 'data-field': 'pending' }, s.pending),
        el('td', { 'data-field': 'running' }, s.running),
        el('td', { 'data-field': 'done' }, s.done),
        el('td', { 'data-field': 'failed' }, s.failed),
        el('td', { 'data-field': 'rowsPerSec' }, s.rowsPerSec.toFixed(1)),
        el('td', { 'data-field': 'etaSec' }, eta(s.etaSec)),
        el('td', { 'data-field': 'workers' }, s.workers))));
    document.getElementById('updated').textContent = 'as of ' + when(o.at);
    renderWorkers(o);
    fill(document.querySelector('#control tbody'), o.control.map((c) =>
      el('tr', {}, el('td', {}, c.stage), el('td', {}, typeof c.priority === 'string' ? c.priority : JSON.stringify(c.priority)),
        el('td', {}, Object.entries(o.cutoffs[c.stage] || {}).map(([k, v]) => k + ' = ' + v).join(', ') || '–'))));
    fill(document.querySelector('#events tbody'), o.events.map((e) =>
      el('tr', {}, el('td', {}, when(e.at)), el('td', {}, e.stage || '–'), el('td', {}, e.kind), el('td', {}, JSON.stringify(e.detail)))));
    for (const sel of document.querySelectorAll('.stage-select')) {
      const cur = sel.value;
      sel.replaceChildren(...o.status.map((s) => el('option', {}, s.stage)));
      if (cur) sel.value = cur;
    }
    throughputChart(o);
  }
  // Workers grouped by host (hosts in order of their first worker's start), each host's name once.
  function renderWorkers(o) {
    const table = document.getElementById('workers');
    if (!table) return;
    const byHost = new Map();
    for (const w of o.workers || []) {
      if (!byHost.has(w.host)) byHost.set(w.host, []);
      byHost.get(w.host).push(w);
    }
    const ago = (ms) => {
      const s = Math.max(0, (o.at - ms) / 1000);
      return s < 60 ? s.toFixed(0) + ' s ago' : s < 3600 ? (s / 60).toFixed(1) + ' min ago' : (s / 3600).toFixed(1) + ' h ago';
    };
    const bodies = [...byHost.entries()].map(([host, ws]) => el('tbody', { 'data-host': host }, ...ws.map((w, i) => el('tr', { 'data-worker': w.id, class: w.stale ? 'stale' : '' },
      ...(i === 0 ? [el('th', { rowspan: ws.length, scope: 'rowgroup', 'data-field': 'host' }, host + ' (' + ws.length + ')')] : []),
      el('td', { 'data-field': 'id' }, w.id), el('td', { 'data-field': 'stage' }, w.stage), el('td', { 'data-field': 'threads' }, w.threads), el('td', {}, w.job || '–'),
      el('td', {}, when(w.startedAt)), el('td', { 'data-field': 'heartbeat', title: when(w.heartbeatAt) }, ago(w.heartbeatAt)), el('td', { 'data-field': 'rowsDone' }, w.rowsDone),
      el('td', { 'data-field': 'state' }, w.stale ? 'stale' : 'live')))));
    if (bodies.length === 0) bodies.push(el('tbody', {}, el('tr', {}, el('td', { colspan: 9 }, 'no registered workers (a run in one process registers none; fracflow worker does)'))));
    for (const b of [...table.tBodies]) b.remove();
    table.append(...bodies);
  }
  let tpChart = null;
  function throughputChart(o) {
    const box = document.getElementById('throughput');
    if (!window.uPlot || !box) return;
    const stages = [...new Set(o.throughput.map((p) => p.stage))];
    const times = [...new Set(o.throughput.map((p) => p.at))].sort((a, b) => a - b);
    if (times.length === 0) {
      box.textContent = 'nothing finished in the last 6 hours';
      tpChart = null;
      return;
    }
    const idx = new Map(times.map((t, i) => [t, i]));
    const series = stages.map((s) => {
      const v = times.map(() => 0);
      for (const p of o.throughput) if (p.stage === s) v[idx.get(p.at)] += p.done + p.failed;
      return v;
    });
    const colors = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b'];
    const opts = {
      width: Math.min(900, box.clientWidth || 900), height: 220,
      series: [{}, ...stages.map((s, k) => ({ label: s, stroke: colors[k % colors.length], width: 2 }))],
      axes: [{}, { label: 'rows / 10 s' }],
    };
    const d = [times.map((t) => t / 1000), ...series];
    if (tpChart) tpChart.destroy();
    box.replaceChildren();
    tpChart = new uPlot(opts, d, box);
  }
  function live(onOverview) {
    const dot = document.getElementById('live');
    const es = new EventSource('/api/stream');
    es.addEventListener('overview', (ev) => {
      dot.className = 'live on';
      onOverview(JSON.parse(ev.data));
    });
    es.onerror = () => (dot.className = 'live off');
  }
  function controls() {
    const box = document.getElementById('controls');
    if (!box) return;
    if (document.body.dataset.controls !== 'on') {
      box.querySelector('p').textContent = 'Controls are off: start the dashboard with fracflow serve --allow-control.';
    }
    const tokenInput = document.getElementById('token');
    tokenInput.value = sessionStorage.getItem('fracflow-token') || '';
    tokenInput.addEventListener('change', () => sessionStorage.setItem('fracflow-token', tokenInput.value));
    for (const form of box.querySelectorAll('form[data-control]')) {
      form.addEventListener('submit', async (ev) => {
        ev.preventDefault();
        const body = Object.fromEntries(new FormData(form).entries());
        if (body.workers !== undefined) body.workers = Number(body.workers);
        const out = document.getElementById('control-result');
        try {
          const r = await fetch('/api/control/' + form.dataset.control, {
            method: 'POST', headers: { 'content-type': 'application/json', 'x-fracflow-token': tokenInput.value }, body: JSON.stringify(body),
          });
          const res = await r.json();
          out.textContent = r.ok ? form.dataset.control + ': ' + JSON.stringify(res) : 'refused: ' + res.error;
          out.className = r.ok ? 'ok' : 'error';
        } catch (e) {
          out.textContent = String(e);
          out.className = 'error';
        }
      });
    }
  }

  // ---- errors, row ----
  function renderErrors(groups) {
    fill(document.querySelector('#error-groups tbody'), groups.map((g) =>
      el('tr', {}, el('td', {}, g.stage + (g.dataset ? ' (' + g.dataset + ')' : '')), el('td', {}, g.rows), el('td', {}, g.attempts),
        el('td', { class: 'message' }, el('pre', {}, g.message)),
        el('td', {}, ...g.examples.map((k) => g.stage === 'import_errors' ? el('div', {}, k) : el('div', {}, el('a', { href: '/row?' + q({ stage: g.stage, key: k }) }, k)))))));
    if (groups.length === 0) document.querySelector('#error-groups tbody').append(el('tr', {}, el('td', { colspan: 5 }, 'no failed rows')));
  }
  function renderRow(h) {
    document.getElementById('row-summary').replaceChildren(
      el('dt', {}, 'stage'), el('dd', {}, h.stage), el('dt', {}, 'key'), el('dd', {}, h.key), el('dt', {}, 'state'), el('dd', {}, h.state),
      el('dt', {}, 'attempts'), el('dd', {}, h.attempts), el('dt', {}, 'deaths'), el('dd', {}, h.deaths));
    fill(document.querySelector('#attempts tbody'), h.history.map((a) =>
      el('tr', {}, el('td', {}, a.attempt), el('td', {}, a.outcome), el('td', {}, a.claimedBy || '–'), el('td', {}, when(a.startedAt)), el('td', {}, when(a.finishedAt)), el('td', {}, el('pre', {}, a.error || '')))));
    document.getElementById('last-error').textContent = h.lastError || '–';
    // The store serves the tail: a done calc row's column, or the tail its last error carries.
    document.getElementById('output-tail').textContent = h.outputTail || '–';
  }

  // ---- queues ----
  function renderQueues(qs) {
    document.getElementById('queues').replaceChildren(...qs.map((s) => el('section', { 'data-stage': s.stage },
      el('h2', {}, s.stage), el('p', { class: 'muted' }, 'priority: ' + (typeof s.priority === 'string' ? s.priority : JSON.stringify(s.priority))),
      s.head.length === 0 ? el('p', {}, 'queue empty') : el('table', { class: 'grid' },
        el('thead', {}, el('tr', {}, ...['#', 'key', 'state', 'priority', 'submitted', 'attempts', 'ready at', 'holder'].map((h) => el('th', {}, h)))),
        el('tbody', {}, ...s.head.map((r, i) => el('tr', {}, el('td', {}, i + 1), el('td', {}, r.key), el('td', {}, r.state), el('td', { class: 'num' }, r.priority.toPrecision(8)),
          el('td', {}, r.boost ? 'yes' : ''), el('td', {}, r.attempts), el('td', {}, r.availableAt > Date.now() ? when(r.availableAt) : 'now'), el('td', {}, r.claimedBy || '')))))))); 
  }

  // ---- pathways table ----
  const COLUMNS = [
    ['structure_id', 'structure'], ['formula', 'formula'], ['hop_index', 'hop'], ['length', 'length Å', 3], ['multiplicity', 'mult.'], ['nsites_777', 'nsites_777'],
    ['dimensionality', 'dim'], ['dimensionality_cumlengths', 'dim cum. length'], ['dimensionality_cumbarriers', 'dim cum. barrier'],
    ['ewald_energy', 'ewald_energy', 4], ['ionic_radii_overlap_cations', 'overlap cations Å', 3], ['ionic_radii_overlap_anions', 'overlap anions Å', 3],
    ['state', 'state'], ['images_state', 'images'],
  ];
  function pathwaysPage() {
    const params = new URLSearchParams(location.search);
    const st = { search: params.get('search') || '', state: params.get('state') || '', minDim: params.get('minDim') || '', maxEwald: params.get('maxEwald') || '', sort: params.get('sort') || 'ewald_energy', desc: params.get('desc') || '', offset: Number(params.get('offset') || 0), limit: Number(params.get('limit') || 50) };
    const form = document.getElementById('filters');
    for (const k of ['search', 'state', 'minDim', 'maxEwald']) form.elements[k].value = st[k];
    const head = document.querySelector('#pathways thead tr');
    head.replaceChildren(...COLUMNS.map(([c, label]) => {
      const th = el('th', { 'data-sort': c, class: st.sort === c ? (st.desc ? 'sorted desc' : 'sorted asc') : '' }, label);
      th.addEventListener('click', () => { st.desc = st.sort === c && !st.desc ? '1' : ''; st.sort = c; st.offset = 0; load(); });
      return th;
    }));
    form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      for (const k of ['search', 'state', 'minDim', 'maxEwald']) st[k] = form.elements[k].value;
      st.offset = 0;
      load();
    });
    document.getElementById('prev').addEventListener('click', () => { st.offset = Math.max(0, st.offset - st.limit); load(); });
    document.getElementById('next').addEventListener('click', () => { st.offset += st.limit; load(); });
    async function load() {
      const query = q(st);
      history.replaceState(null, '', '/pathways?' + query);
      const info = document.getElementById('page-info');
      try {
        const t0 = performance.now();
        const p = await getJson('/api/pathways?' + query);
        for (const th of head.children) th.className = th.dataset.sort === st.sort ? (st.desc ? 'sorted desc' : 'sorted asc') : '';
        info.textContent = p.total === 0 ? 'no pathways match' : `rows ${st.offset + 1}–${st.offset + p.rows.length} of ${p.total} (${(performance.now() - t0).toFixed(0)} ms)`;
        document.getElementById('prev').disabled = st.offset === 0;
        document.getElementById('next').disabled = st.offset + p.rows.length >= p.total;
        fill(document.querySelector('#pathways tbody'), p.rows.map((r) => el('tr', { 'data-key': r.key }, ...COLUMNS.map(([c, , digits]) => {
          if (c === 'structure_id') return el('td', {}, el('a', { href: '/structure?' + q({ id: r.structure_id }) }, r.structure_id));
          if (c === 'formula') return el('td', {}, el('a', { href: '/pathway?' + q({ key: r.key }) }, r.formula));
          return el('td', { class: typeof r[c] === 'number' ? 'num' : '' }, num(r[c], digits));
        }))));
      } catch (e) {
        info.textContent = String(e.message || e);
        info.className = 'error';
      }
    }
    load();
  }

  // ---- pathway ----
  const ELEMENT_COLORS = { F: '#90e050', O: '#ff0d0d', Cl: '#1ff01f', Li: '#cc80ff', Na: '#ab5cf2', K: '#8f40d4', Mg: '#8aff00', Ca: '#3dff00', Ba: '#00c900', Sr: '#00ff00', Al: '#bfa6a6', Y: '#94ffff', La: '#70d4ff', Pb: '#575961', Zn: '#7d80b0' };
  async function pathwayPage(d) {
    const s = d.summary;
    const dl = document.getElementById('summary');
    const items = [['key', s.key], ['structure', el('a', { href: '/structure?' + q({ id: s.structure_id }) }, s.structure_id)], ['formula', s.formula], ['hop', s.hop_index],
      ['length (Å)', num(s.length, 4)], ['multiplicity', s.multiplicity], ['dimensionality (alone / cum. length / cum. barrier)', [s.dimensionality, s.dimensionality_cumlengths, s.dimensionality_cumbarriers].map((x) => num(x)).join(' / ')],
      ['ewald_energy', num(s.ewald_energy, 5)], ['overlap change with cations / anions (Å)', num(s.ionic_radii_overlap_cations, 4) + ' / ' + num(s.ionic_radii_overlap_anions, 4)],
      ['IDPP', s.idpp], ['state (descriptors / images)', s.state + ' / ' + (s.images_state || 'not admitted')]];
    dl.replaceChildren(...items.flatMap(([k, v]) => [el('dt', {}, k), el('dd', {}, v)]));
    const dls = document.getElementById('downloads');
    const files = d.files || [];
    const link = (href, label) => el('li', {}, el('a', { href, download: '' }, label));
    const top = files.filter((f) => !f.includes('/'));
    const dirs = [...new Set(files.filter((f) => f.includes('/')).map((f) => f.split('/')[0]))];
    dls.replaceChildren(...top.map((f) => link('/files?' + q({ key: s.key, path: f }), f)), ...dirs.map((dname) => link('/files/tar?' + q({ key: s.key, dir: dname }), dname + '/ (tar)')));
    if (files.length === 0) dls.append(el('li', {}, 'no output folder (the images stage has not written this pathway)'));
    const note = document.getElementById('profile-note');
    note.textContent = 'computing the images…';
    let v;
    try {
      v = await getJson('/api/pathway?' + q({ key: s.key }));
    } catch (e) {
      note.textContent = String(e.message || e);
      note.className = 'error';
      return;
    }
    note.textContent = v.reason ? v.reason : `${v.path.length} images, supercell ${v.scaling ? v.scaling.join('×') : '1×1×1'}; the largest relative Ewald change is the row's ewald_energy`;
    drawViewer(v);
    drawProfiles(v);
  }
  function drawViewer(v) {
    const box = document.getElementById('viewer');
    if (!window.$3Dmol) {
      box.textContent = 'the 3D viewer did not load';
      return;
    }
    const viewer = $3Dmol.createViewer(box, { backgroundColor: 'white', antialias: true });
    const model = viewer.addModel();
    model.addAtoms(v.host.map((a) => ({ elem: a.el, x: a.x, y: a.y, z: a.z })));
    viewer.setStyle({}, { sphere: { scale: 0.3 } });
    const c = v.cell;
    if (c.length === 3) {
      const corner = (i, j, k) => ({ x: i * c[0][0] + j * c[1][0] + k * c[2][0], y: i * c[0][1] + j * c[1][1] + k * c[2][1], z: i * c[0][2] + j * c[1][2] + k * c[2][2] });
      const edges = [];
      for (const [a, b] of [[[0, 0, 0], [1, 0, 0]], [[0, 0, 0], [0, 1, 0]], [[0, 0, 0], [0, 0, 1]], [[1, 0, 0], [1, 1, 0]], [[1, 0, 0], [1, 0, 1]], [[0, 1, 0], [1, 1, 0]], [[0, 1, 0], [0, 1, 1]], [[0, 0, 1], [1, 0, 1]], [[0, 0, 1], [0, 1, 1]], [[1, 1, 0], [1, 1, 1]], [[1, 0, 1], [1, 1, 1]], [[0, 1, 1], [1, 1, 1]]]) edges.push([corner(...a), corner(...b)]);
      for (const [a, b] of edges) viewer.addLine({ start: a, end: b, color: '#444444' });
    }
    const n = v.path.length;
    v.path.forEach((p, i) => {
      const t = n > 1 ? i / (n - 1) : 0;
      const color = `rgb(${Math.round(255 * t)}, ${Math.round(60 + 40 * (1 - t))}, ${Math.round(255 * (1 - t))})`;
      viewer.addSphere({ center: { x: p[0], y: p[1], z: p[2] }, radius: i === 0 || i === n - 1 ? 0.45 : 0.32, color });
      if (i > 0) viewer.addCylinder({ start: { x: v.path[i - 1][0], y: v.path[i - 1][1], z: v.path[i - 1][2] }, end: { x: p[0], y: p[1], z: p[2] }, radius: 0.08, color: '#333333' });
    });
    viewer.zoomTo();
    viewer.zoom(1.3);
    viewer.render();
    window.fracflowViewer = viewer;
    box.dataset.ready = '1';
  }
  function drawProfiles(v) {
    if (!window.uPlot) return;
    const x = v.path.map((_, i) => i);
    const plot = (id, title, yLabel, series) => {
      const box = document.getElementById(id);
      box.replaceChildren();
      if (series.every((s) => !s.values)) {
        box.textContent = title + ': not computable';
        return;
      }
      const opts = {
        title, width: Math.min(520, box.clientWidth || 520), height: 240,
        scales: { x: { time: false } },
        series: [{ label: 'image' }, ...series.map((s) => ({ label: s.label, stroke: s.color, width: 2, points: { show: true, size: 6 } }))],
        axes: [{ label: 'image index' }, { label: yLabel }],
      };
      new uPlot(opts, [x, ...series.map((s) => (s.values || []).map((y) => (y === null ? null : y)))], box);
      box.dataset.ready = '1';
    };
    plot('plot-ewald', 'Ewald site energy of ' + v.ion, '(E_k − E_0)/|E_0|', [{ label: 'relative change', color: '#1f77b4', values: v.ewaldRelative }]);
    plot('plot-overlap', 'Radii overlap of ' + v.ion, 'largest overlap (Å)', [{ label: 'with cations', color: '#d62728', values: v.overlapCationsAng }, { label: 'with anions', color: '#2ca02c', values: v.overlapAnionsAng }]);
  }

  // ---- structure ----
  function renderStructure(s) {
    document.getElementById('structure-summary').replaceChildren(
      el('dt', {}, 'structure'), el('dd', {}, s.structure_id), el('dt', {}, 'formula'), el('dd', {}, s.formula),
      el('dt', {}, 'space group'), el('dd', {}, s.space_group || '–'), el('dt', {}, 'sites'), el('dd', {}, s.nsites));
    fill(document.querySelector('#percolation tbody'), [['1-D', s.percolation.d1], ['2-D', s.percolation.d2], ['3-D', s.percolation.d3]].map(([k, v]) => el('tr', {}, el('td', {}, k), el('td', {}, v === null ? 'does not percolate within the cutoff' : v.toFixed(4)))));
    fill(document.querySelector('#hops tbody'), s.hops.map((h) => el('tr', { 'data-hop': h.hop_index },
      el('td', {}, el('a', { href: '/pathway?' + q({ key: h.key }) }, h.hop_index)), el('td', { class: 'num' }, h.length.toFixed(4)), el('td', {}, h.multiplicity), el('td', {}, h.idpp || '–'), el('td', {}, h.state || 'not computed'),
      el('td', {}, num(h.dimensionality)), el('td', {}, num(h.dimensionality_cumlengths)), el('td', {}, num(h.dimensionality_cumbarriers)), el('td', { class: 'num' }, num(h.ewald_energy, 5)))));
  }

  const pages = {
    overview: () => { renderOverview(data); controls(); live(renderOverview); },
    errors: () => renderErrors(data.groups),
    row: () => renderRow(data),
    queues: () => renderQueues(data),
    pathways: () => pathwaysPage(),
    pathway: () => pathwayPage(data),
    structure: () => renderStructure(data),
  };
  (pages[pageName] || (() => {}))();
})();
