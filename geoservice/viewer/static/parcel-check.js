// "Check a parcel" on the public map: paste a block list (or codes), ask POST /api/parcels/check,
// draw the parcel and what it overlaps (refusals red, warnings amber) and list the reasons. The
// panel's own words are here in kk/ru/en; the reasons come from the service in the page's language,
// and are asked again when the language changes (viewer.js sends 'geoservice:lang').

const UI = {
  kk: {
    title: 'Учаскені тексеру', placeholder: 'Блоктар тізімі: L-43-63-(10а-5б-14,15)', check: 'Тексеру',
    clear: 'Тазалау', area: 'Ауданы: {a} км²', blocks: 'Блоктар: {n}', contiguous: 'Тұтас',
    parts: 'Тұтас емес: {n} бөлік', ok: 'Бас тарту себептері жоқ', notOk: 'Өтінім берілмейді:', failed: 'Тексеру сәтсіз аяқталды',
    checking: 'Тексерілуде…',
  },
  ru: {
    title: 'Проверить участок', placeholder: 'Список блоков: L-43-63-(10а-5б-14,15)', check: 'Проверить',
    clear: 'Очистить', area: 'Площадь: {a} км²', blocks: 'Блоков: {n}', contiguous: 'Сплошной',
    parts: 'Не сплошной: частей {n}', ok: 'Причин для отказа нет', notOk: 'Заявка невозможна:', failed: 'Проверка не удалась',
    checking: 'Проверка…',
  },
  en: {
    title: 'Check a parcel', placeholder: 'Block list: L-43-63-(10а-5б-14,15)', check: 'Check',
    clear: 'Clear', area: 'Area: {a} km²', blocks: 'Blocks: {n}', contiguous: 'Contiguous',
    parts: 'Not contiguous: {n} parts', ok: 'No reason to refuse', notOk: 'An application is not possible:',
    failed: 'The check failed', checking: 'Checking…',
  },
};
const COLOURS = { refusal: '#d7191c', warning: '#f5a623' };
const PARCEL_COLOUR = '#1a73e8';
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

  const input = el('textarea', { id: 'parcel-input', rows: '3', spellcheck: 'false' });
  const button = el('button', { id: 'parcel-check-button', type: 'submit' });
  const clear = el('button', { id: 'parcel-clear', type: 'button', onclick: () => reset() });
  const heading = el('h2', { id: 'parcel-title' });
  const result = el('div', { id: 'parcel-result', 'aria-live': 'polite' });
  const form = el('form', { id: 'parcel-form', autocomplete: 'off' }, input, el('div', { class: 'buttons' }, button, clear));
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const query = input.value.trim();
    if (query) check(query);
  });
  const box = document.getElementById('parcel-check') || document.getElementById('panel').appendChild(
    el('section', { id: 'parcel-check' }));
  box.replaceChildren(heading, form, result);

  function texts() {
    heading.textContent = t('title');
    input.placeholder = t('placeholder');
    button.textContent = t('check');
    clear.textContent = t('clear');
  }

  function reset() {
    last = null;
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
    result.replaceChildren(el('p', { class: 'checking' }, t('checking')));
    let response;
    let body;
    try {
      response = await fetch('/api/parcels/check', { method: 'POST',
        headers: { 'Content-Type': 'application/json', 'Accept-Language': lang },
        body: JSON.stringify({ parcel }) });
      body = await response.json();
    } catch (err) {
      result.replaceChildren(el('p', { class: 'error', role: 'alert' }, t('failed')));
      return null;
    }
    if (!response.ok) {
      last = { query, error: true };
      const reasons = (body.errors || []).map((e) => e.message).filter((m) => m && m !== body.detail);
      result.replaceChildren(el('p', { class: 'error', role: 'alert' }, [body.detail || t('failed'), ...reasons].join(' ')));
      map.getSource('gs-parcel').setData(EMPTY);
      map.getSource('gs-parcel-overlaps').setData(EMPTY);
      return body;
    }
    last = { query, body };
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
  gs.parcels = { check, reset };
}

start();
