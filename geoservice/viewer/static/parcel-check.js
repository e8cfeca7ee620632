// "Check a parcel" on the public map: paste a block list (or codes), ask POST /api/parcels/check,
// draw the parcel and what it overlaps (refusals red, warnings amber) and list the reasons. The
// panel's own words are here in kk/ru/en; the reasons come from the service in the page's language,
// and are asked again when the language changes (viewer.js sends 'geoservice:lang').
// "Pick on the map" makes the panel a block picker: a click on a block of the grid toggles it, a
// Shift+drag box adds every block it touches; the list text follows and the check reruns by
// itself (debounced); "File an application" opens the cabinet's form with the blocks.

const UI = {
  kk: {
    title: 'Учаскені тексеру', placeholder: 'Блоктар тізімі: L-43-63-(10а-5б-14,15)', check: 'Тексеру',
    clear: 'Тазалау', area: 'Ауданы: {a} км²', blocks: 'Блоктар: {n}', contiguous: 'Тұтас',
    parts: 'Тұтас емес: {n} бөлік', ok: 'Бас тарту себептері жоқ', notOk: 'Өтінім берілмейді:', failed: 'Тексеру сәтсіз аяқталды',
    checking: 'Тексерілуде…',
    pick: 'Картадан таңдау', picking: 'Таңдау: блокты басыңыз, аумақ үшін Shift басып тартыңыз',
    zoomIn: 'Блоктарды таңдау үшін картаны үлкейтіңіз', file: 'Өтінім беру', picked: 'Таңдалды: {n}',
  },
  ru: {
    title: 'Проверить участок', placeholder: 'Список блоков: L-43-63-(10а-5б-14,15)', check: 'Проверить',
    clear: 'Очистить', area: 'Площадь: {a} км²', blocks: 'Блоков: {n}', contiguous: 'Сплошной',
    parts: 'Не сплошной: частей {n}', ok: 'Причин для отказа нет', notOk: 'Заявка невозможна:', failed: 'Проверка не удалась',
    checking: 'Проверка…',
    pick: 'Выбрать на карте', picking: 'Выбор: щёлкните блок, для рамки тяните с нажатой Shift',
    zoomIn: 'Приблизьте карту, чтобы выбирать блоки', file: 'Подать заявление', picked: 'Выбрано: {n}',
  },
  en: {
    title: 'Check a parcel', placeholder: 'Block list: L-43-63-(10а-5б-14,15)', check: 'Check',
    clear: 'Clear', area: 'Area: {a} km²', blocks: 'Blocks: {n}', contiguous: 'Contiguous',
    parts: 'Not contiguous: {n} parts', ok: 'No reason to refuse', notOk: 'An application is not possible:',
    failed: 'The check failed', checking: 'Checking…',
    pick: 'Pick on the map', picking: 'Picking: click a block, Shift+drag for a box',
    zoomIn: 'Zoom in to pick blocks', file: 'File an application', picked: 'Picked: {n}',
  },
};
const COLOURS = { refusal: '#d7191c', warning: '#f5a623' };
const PARCEL_COLOUR = '#1a73e8';
const PICKED_COLOUR = '#8e24aa';
// The grid as the style draws it (styles/mapbox.py): only features of level `block` are blocks;
// below zoom 10 the same layer holds generalised cells, which are not pickable.
const BLOCKS_LAYER = 'blocks-fill';
const BLOCK_ZOOM = 10;   // tiles/levels.py BLOCK_ZOOM: single blocks from this zoom on
const DEBOUNCE_MS = 400;
const EMPTY = { type: 'FeatureCollection', features: [] };

const el = (tag, attrs = {}, ...children) => {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === 'class') node.className = v; else if (k.startsWith('on')) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v);
  }
  for (const child of children) node.append(child);
  return node;
};

async function start() {
  // viewer.js sets window.geoservice once the map exists (both are modules; order is not promised).
  while (!window.geoservice) await new Promise((resolve) => { setTimeout(resolve, 50); });
  const gs = window.geoservice;
  await gs.ready;
  const map = window.map;
  let lang = gs.lang();
  let last = null;   // { query, body } of the last check: redrawn, or asked again in a new language
  const t = (key, vars = {}) => UI[lang][key].replace(/\{(\w+)\}/g, (_, k) => String(vars[k]));

  // Sources named gs-… survive the style swap of a language change (viewer.js, transformStyle).
  map.addSource('gs-parcel', { type: 'geojson', data: EMPTY });
  map.addSource('gs-parcel-overlaps', { type: 'geojson', data: EMPTY });
  map.addLayer({ id: 'gs-parcel-fill', type: 'fill', source: 'gs-parcel',
    paint: { 'fill-color': PARCEL_COLOUR, 'fill-opacity': 0.15 } });
  map.addLayer({ id: 'gs-parcel-line', type: 'line', source: 'gs-parcel',
    paint: { 'line-color': PARCEL_COLOUR, 'line-width': 2.5 } });
  const bySeverity = ['match', ['get', 'severity'], 'refusal', COLOURS.refusal, COLOURS.warning];
  map.addLayer({ id: 'gs-parcel-overlaps-fill', type: 'fill', source: 'gs-parcel-overlaps',
    paint: { 'fill-color': bySeverity, 'fill-opacity': 0.45 } });
  map.addLayer({ id: 'gs-parcel-overlaps-line', type: 'line', source: 'gs-parcel-overlaps',
    paint: { 'line-color': bySeverity, 'line-width': 2 } });
  // Picked blocks: the grid's own tile features filtered by code, so a block cut by tile edges is
  // drawn whole at once, before any check answers.
  const pickedFilter = (codes) => ['all', ['==', ['get', 'level'], 'block'], ['in', ['get', 'code'], ['literal', codes]]];
  const gridSource = map.getStyle().layers.find((l) => l.id === BLOCKS_LAYER);
  if (gridSource) {
    const common = { source: gridSource.source, 'source-layer': gridSource['source-layer'], filter: pickedFilter([]) };
    map.addLayer({ id: 'gs-picked-fill', type: 'fill', ...common,
      paint: { 'fill-color': PICKED_COLOUR, 'fill-opacity': 0.35 } });
    map.addLayer({ id: 'gs-picked-line', type: 'line', ...common,
      paint: { 'line-color': PICKED_COLOUR, 'line-width': 1.5 } });
  }

  const input = el('textarea', { id: 'parcel-input', rows: '3', spellcheck: 'false' });
  const button = el('button', { id: 'parcel-check-button', type: 'submit' });
  const clear = el('button', { id: 'parcel-clear', type: 'button', onclick: () => { input.value = ''; reset(); } });
  const pick = el('button', { id: 'parcel-pick', type: 'button', 'aria-pressed': 'false',
    onclick: () => setPicking(!picking) });
  const hint = el('p', { id: 'parcel-pick-hint', class: 'hint', hidden: '' });
  const fileLink = el('a', { id: 'parcel-file', class: 'file-link', hidden: '' });
  const heading = el('h2', { id: 'parcel-title' });
  const result = el('div', { id: 'parcel-result', 'aria-live': 'polite' });
  const form = el('form', { id: 'parcel-form', autocomplete: 'off' }, input,
    el('div', { class: 'buttons' }, button, pick, clear), hint, fileLink);
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const query = input.value.trim();
    if (query) check(query);
  });
  input.addEventListener('input', () => { updateLink(); if (picking) schedule(); });
  const box = document.getElementById('parcel-check') || document.getElementById('panel').appendChild(
    el('section', { id: 'parcel-check' }));
  box.replaceChildren(heading, form, result);

  // --- Picking blocks on the map: a click toggles a block, Shift+drag adds a box of them ------
  let picking = false;
  let picked = new Set();   // block codes, in the order picked
  let timer = null;
  let seq = 0;              // the newest check asked: older answers arriving late are dropped

  function blocksQuery() {
    const query = input.value.trim();
    return query && !/^\s*[{]/.test(query) ? query : '';
  }

  function updateLink() {
    const query = blocksQuery();
    fileLink.hidden = !query;
    // The cabinet's filing form reads ?blocks= (cabinet-applications.js).
    fileLink.href = `/cabinet?${new URLSearchParams({ blocks: query, lang })}#applications`;
  }

  function showPicked() {
    if (map.getLayer('gs-picked-fill')) {
      for (const id of ['gs-picked-fill', 'gs-picked-line']) map.setFilter(id, pickedFilter([...picked]));
    }
  }

  function schedule() {
    clearTimeout(timer);
    timer = setTimeout(() => {
      const query = input.value.trim();
      if (query) check(query, { move: false }); else reset();
    }, DEBOUNCE_MS);
  }

  function setPicked(codes) {
    picked = new Set(codes);
    input.value = [...picked].join('; ');
    showPicked();
    updateLink();
    schedule();
  }

  function blocksAt(where) {
    if (!map.getLayer(BLOCKS_LAYER)) return [];
    const codes = map.queryRenderedFeatures(where, { layers: [BLOCKS_LAYER] })
      .filter((f) => f.properties.level === 'block' && f.properties.code).map((f) => f.properties.code);
    return [...new Set(codes)];
  }

  function tooFar() {
    const far = map.getZoom() < BLOCK_ZOOM;
    hint.textContent = far ? t('zoomIn') : t('picking');
    return far;
  }

  function setPicking(on) {
    picking = on;
    gs.picking = on;   // viewer.js: no popups while picking
    pick.setAttribute('aria-pressed', String(on));
    pick.classList.toggle('active', on);
    hint.hidden = !on;
    // Shift+drag is MapLibre's box zoom; while picking it draws the pick box instead.
    if (on) { map.boxZoom.disable(); gs.closePopup?.(); tooFar(); } else map.boxZoom.enable();
    // Blocks are picked from the drawn grid: a switched-off grid is switched on (the panel's own toggle).
    const toggle = document.querySelector('[data-layer-toggle="blocks"]');
    if (on && toggle && !toggle.checked) toggle.click();
    if (on) {
      // Start from the parcel in the box: a pasted list is picked on as well.
      const known = last?.body?.blocks;
      if (known && known.codes.length === known.count && last.query === input.value.trim()) picked = new Set(known.codes);
      showPicked();
    }
  }

  map.on('zoomend', () => { if (picking) tooFar(); });
  map.on('click', (e) => {
    if (!picking) return;
    if (tooFar()) return;
    const [code] = blocksAt(e.point);
    if (!code) return;
    const next = new Set(picked);
    if (next.has(code)) next.delete(code); else next.add(code);
    setPicked(next);
  });

  const canvas = map.getCanvasContainer();
  let start = null;
  let frame = null;
  const mousePos = (e) => {
    const rect = canvas.getBoundingClientRect();
    return { x: e.clientX - rect.left - canvas.clientLeft, y: e.clientY - rect.top - canvas.clientTop };
  };
  function onMove(e) {
    const now = mousePos(e);
    if (!frame) {
      frame = el('div', { class: 'gs-pick-box' });
      canvas.append(frame);
    }
    const [x0, x1] = [Math.min(start.x, now.x), Math.max(start.x, now.x)];
    const [y0, y1] = [Math.min(start.y, now.y), Math.max(start.y, now.y)];
    Object.assign(frame.style, { transform: `translate(${x0}px, ${y0}px)`, width: `${x1 - x0}px`, height: `${y1 - y0}px` });
  }
  function onUp(e) {
    document.removeEventListener('mousemove', onMove);
    document.removeEventListener('mouseup', onUp);
    map.dragPan.enable();
    frame?.remove();
    frame = null;
    const end = mousePos(e);
    const from = start;
    start = null;
    if (Math.abs(end.x - from.x) < 3 && Math.abs(end.y - from.y) < 3) return;
    if (tooFar()) return;
    const codes = blocksAt([[Math.min(from.x, end.x), Math.min(from.y, end.y)], [Math.max(from.x, end.x), Math.max(from.y, end.y)]]);
    if (codes.length) setPicked([...picked, ...codes]);
  }
  canvas.addEventListener('mousedown', (e) => {
    if (!picking || !e.shiftKey || e.button !== 0) return;
    e.preventDefault();
    e.stopPropagation();
    map.dragPan.disable();
    start = mousePos(e);
    document.addEventListener('mousemove', onMove);
    document.addEventListener('mouseup', onUp);
  }, true);

  function texts() {
    heading.textContent = t('title');
    input.placeholder = t('placeholder');
    button.textContent = t('check');
    clear.textContent = t('clear');
    pick.textContent = t('pick');
    fileLink.textContent = t('file');
    if (picking) tooFar();
    updateLink();
  }

  function reset() {
    last = null;
    seq += 1;
    clearTimeout(timer);
    picked = new Set();
    showPicked();
    updateLink();
    map.getSource('gs-parcel')?.setData(EMPTY);
    map.getSource('gs-parcel-overlaps')?.setData(EMPTY);
    result.replaceChildren();
  }

  function show(body) {
    const list = el('ul', { class: 'overlaps' }, ...body.overlaps.map((o) => el('li',
      { class: `overlap ${o.severity}`, 'data-kind': o.kind, 'data-code': o.code }, o.message)));
    const shown = body.blocks.codes.slice(0, 20).join(', ') + (body.blocks.count > 20 ? ', …' : '');
    result.replaceChildren(
      el('p', { class: body.ok ? 'verdict ok' : 'verdict refused' }, body.ok ? t('ok') : t('notOk')),
      el('p', {}, t('area', { a: body.area_km2.toFixed(3) }), el('br'), t('blocks', { n: body.blocks.count }), el('br'),
        body.contiguous ? t('contiguous') : t('parts', { n: body.components })),
      list,
      el('p', { class: 'codes' }, shown));
    result.scrollIntoView({ block: 'nearest' });   // the panel scrolls: the reasons in sight
  }

  function draw(body) {
    map.getSource('gs-parcel').setData({ type: 'FeatureCollection',
      features: body.geometry ? [{ type: 'Feature', properties: {}, geometry: body.geometry }] : [] });
    map.getSource('gs-parcel-overlaps').setData({ type: 'FeatureCollection',
      features: body.overlaps.filter((o) => o.geometry).map((o) => ({
        type: 'Feature', geometry: o.geometry, properties: { severity: o.severity, kind: o.kind, id: o.id ?? '' } })) });
  }

  async function check(query, { move = true } = {}) {
    const parcel = /^\s*[{]/.test(query) ? { geometry: JSON.parse(query) } : { blocks: query };
    const mine = ++seq;
    result.replaceChildren(el('p', { class: 'checking' }, t('checking')));
    let response;
    let body;
    try {
      response = await fetch('/api/parcels/check', { method: 'POST',
        headers: { 'Content-Type': 'application/json', 'Accept-Language': lang },
        body: JSON.stringify({ parcel }) });
      body = await response.json();
    } catch (err) {
      if (mine !== seq) return null;
      result.replaceChildren(el('p', { class: 'error', role: 'alert' }, t('failed')));
      return null;
    }
    if (mine !== seq) return null;   // a newer check was asked meanwhile
    if (!response.ok) {
      last = { query, error: true };
      const reasons = (body.errors || []).map((e) => e.message).filter((m) => m && m !== body.detail);
      result.replaceChildren(el('p', { class: 'error', role: 'alert' }, [body.detail || t('failed'), ...reasons].join(' ')));
      map.getSource('gs-parcel').setData(EMPTY);
      map.getSource('gs-parcel-overlaps').setData(EMPTY);
      return body;
    }
    last = { query, body };
    // The picked set follows the parcel checked (a pasted list too), when the answer lists it whole.
    if (parcel.blocks && body.blocks.codes.length === body.blocks.count) {
      picked = new Set(body.blocks.codes);
      showPicked();
    }
    result.dataset.query = query;
    show(body);
    draw(body);
    if (move && body.bbox) {
      const [w, s, e, n] = body.bbox;
      map.fitBounds([[w, s], [e, n]], { padding: 80, maxZoom: 13, duration: 500 });
    }
    return body;
  }

  document.addEventListener('geoservice:lang', (e) => {
    lang = e.detail;
    texts();
    if (last) check(last.query, { move: false });   // the reasons in the new language
  });
  texts();
  gs.parcels = { check, reset, setPicking, picked: () => [...picked] };
}

start();
