// The public subsoil-use map: MapLibre GL JS (vendored), the style from /ogc/styles/default,
// a layer switcher and legend built from the style's metadata (catalog names in kk/ru/en),
// feature popups, block search, and a WGS 84 / Pulkovo 1942 Gauss-Krüger read-out.
import * as maplibregl from './vendor/maplibre-gl.mjs';

const config = JSON.parse(document.getElementById('geoservice-config').textContent);

const UI = {
  kk: {
    search: 'Табу', placeholder: 'Блок коды не тізімі: M-42-1-(10а-5а-1)', layers: 'Қабаттар мен шартты белгілер',
    basemap: 'Негіз', found: 'Табылған блоктар: {n}', clear: 'Тазалау', gk: 'ГК, {zone}-аймақ',
    searchFailed: 'Іздеу сәтсіз аяқталды', id: 'Сәйкестендіргіш', count: 'Блоктар саны', level: 'Деңгей', loading: 'Жүктелуде…',
    nothing: 'Бұл жерде нысан жоқ', language: 'Тіл', otherFields: 'Жүктелген файлдағы басқа өрістер: {n}',
    licenceMore: 'Міндеттемелер мен тарих',
    reports: 'Есептер', withheld: 'Файлдар органдарға және қиылысатын лицензия иелеріне ғана ашық: жеке кабинетке кіріңіз',
    levelPublic: 'ашық', levelOfficial: 'қызметтік', levelConfidential: 'құпия',
    rasters: 'Растрлық қабаттар', opacity: 'Мөлдірсіздік', value: 'Мәні', noValue: 'Бұл жерде дерек жоқ',
  },
  ru: {
    search: 'Найти', placeholder: 'Код или список блоков: M-42-1-(10а-5а-1)', layers: 'Слои и легенда',
    basemap: 'Основа', found: 'Найдено блоков: {n}', clear: 'Очистить', gk: 'ГК, зона {zone}',
    searchFailed: 'Ошибка поиска', id: 'Идентификатор', count: 'Число блоков', level: 'Уровень', loading: 'Загрузка…',
    nothing: 'Здесь нет объектов', language: 'Язык', otherFields: 'Другие поля загруженного файла: {n}',
    licenceMore: 'Обязательства и история',
    reports: 'Отчёты', withheld: 'Файлы доступны органам и владельцам пересекающих лицензий: войдите в личный кабинет',
    levelPublic: 'открытый', levelOfficial: 'для служебного пользования', levelConfidential: 'конфиденциальный',
    rasters: 'Растровые слои', opacity: 'Непрозрачность', value: 'Значение', noValue: 'Здесь нет данных',
  },
  en: {
    search: 'Find', placeholder: 'Block code or list: M-42-1-(10а-5а-1)', layers: 'Layers and legend',
    basemap: 'Base', found: 'Blocks found: {n}', clear: 'Clear', gk: 'GK zone {zone}',
    searchFailed: 'Search failed', id: 'Id', count: 'Blocks', level: 'Level', loading: 'Loading…',
    nothing: 'No features here', language: 'Language', otherFields: 'Other fields of the uploaded file: {n}',
    licenceMore: 'Obligations and history',
    reports: 'Reports', withheld: 'Files are for authorities and holders of overlapping licences: sign in to the cabinet',
    levelPublic: 'public', levelOfficial: 'official use', levelConfidential: 'confidential',
    rasters: 'Raster layers', opacity: 'Opacity', value: 'Value', noValue: 'No data here',
  },
};
const LANG_NAMES = { kk: 'Қазақша', ru: 'Русский', en: 'English' };
// MapLibre's own control texts (tooltips, scale units) for the controls the page uses.
const MAPLIBRE_UI = {
  kk: {
    'AttributionControl.ToggleAttribution': 'Дереккөздерді көрсету не жасыру', 'Map.Title': 'Карта',
    'NavigationControl.ZoomIn': 'Үлкейту', 'NavigationControl.ZoomOut': 'Кішірейту', 'Popup.Close': 'Жабу',
    'ScaleControl.Meters': 'м', 'ScaleControl.Kilometers': 'км',
  },
  ru: {
    'AttributionControl.ToggleAttribution': 'Показать или скрыть источники', 'Map.Title': 'Карта',
    'NavigationControl.ZoomIn': 'Приблизить', 'NavigationControl.ZoomOut': 'Отдалить', 'Popup.Close': 'Закрыть',
    'ScaleControl.Meters': 'м', 'ScaleControl.Kilometers': 'км',
  },
  en: {
    'AttributionControl.ToggleAttribution': 'Toggle attribution', 'Map.Title': 'Map',
    'NavigationControl.ZoomIn': 'Zoom in', 'NavigationControl.ZoomOut': 'Zoom out', 'Popup.Close': 'Close popup',
    'ScaleControl.Meters': 'm', 'ScaleControl.Kilometers': 'km',
  },
};
const HIGHLIGHT = '#00b7ff';

const params = new URLSearchParams(location.search);
let lang = params.get('lang') || localStorage.getItem('geoservice.lang') || config.lang;
if (!config.langs.includes(lang)) lang = config.lang;
let style = null;              // the style JSON last loaded (its metadata drives the panel)
const hidden = new Set();      // switched-off groups
let popup = null;

const t = (key, vars = {}) => UI[lang][key].replace(/\{(\w+)\}/g, (_, k) => String(vars[k]));
const tr = (names) => (names ? names[lang] ?? names.en : '');
const el = (tag, attrs = {}, ...children) => {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === 'class') node.className = v; else if (k.startsWith('on')) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v);
  }
  for (const child of children) node.append(child);
  return node;
};
const styleUrl = (l) => `${config.style}&lang=${l}`;
const groupOf = (layer) => layer.metadata?.['geoservice:group'];

async function fetchStyle(l) {
  const response = await fetch(styleUrl(l));
  if (!response.ok) throw new Error(`style: HTTP ${response.status}`);
  return response.json();
}

// Keeps the switched-off groups off and our highlight layers on top when the style is swapped
// (language change): setStyle diffs the new style against the map's.
function transformStyle(previous, next) {
  const layers = next.layers.map((layer) => (hidden.has(groupOf(layer))
    ? { ...layer, layout: { ...(layer.layout || {}), visibility: 'none' } } : layer));
  const sources = { ...next.sources };
  if (previous) {
    for (const [id, source] of Object.entries(previous.sources)) if (id.startsWith('gs-')) sources[id] = source;
    // Raster layers go back under the vector overlays, the other map-side layers on top.
    const firstOverlay = layers.findIndex((layer) => config.layers[groupOf(layer)]);
    const under = previous.layers.filter((layer) => layer.id.startsWith(RASTER_PREFIX));
    layers.splice(firstOverlay < 0 ? layers.length : firstOverlay, 0, ...under);
    for (const layer of previous.layers) {
      if (layer.id.startsWith('gs-') && !layer.id.startsWith(RASTER_PREFIX)) layers.push(layer);
    }
  }
  return { ...next, sources, layers };
}

style = await fetchStyle(lang);
const map = new maplibregl.Map({
  container: 'map',
  style,
  transformStyle,
  hash: 'map',
  attributionControl: false,   // added below, so that a language switch can renew it
  locale: MAPLIBRE_UI[lang],
  maxPitch: 0,
});
window.map = map;
// The attribution text comes from the style's sources (in the style's language); the controls
// take their tooltips from the map's locale when they are added.
let controls = [];
function addControls() {
  for (const control of controls) map.removeControl(control);
  controls = [
    [new maplibregl.NavigationControl({ showCompass: false }), 'top-right'],
    [new maplibregl.AttributionControl({ compact: true }), 'bottom-right'],
    [new maplibregl.ScaleControl({ unit: 'metric' }), 'bottom-right'],
  ].map(([control, position]) => { map.addControl(control, position); return control; });
}
addControls();
map.dragRotate.disable();
map.touchZoomRotate.disableRotation();

const ready = new Promise((resolve) => map.once('load', resolve));
const errors = [];   // map errors (style, tiles, glyphs), kept for the tests and for a look in the console
map.on('error', (e) => { errors.push(String(e.error?.message || e.error || e)); console.error(e.error || e); });
const state = { idle: false };   // window.geoservice.idle: the map has drawn everything it asked for
map.on('idle', () => { state.idle = true; });
map.on('movestart', () => { state.idle = false; });
map.on('dataloading', () => { state.idle = false; });

map.on('load', () => {
  const empty = { type: 'FeatureCollection', features: [] };
  map.addSource('gs-search', { type: 'geojson', data: empty });
  map.addSource('gs-selected', { type: 'geojson', data: empty });
  map.addLayer({ id: 'gs-search-fill', type: 'fill', source: 'gs-search',
    paint: { 'fill-color': HIGHLIGHT, 'fill-opacity': 0.25 } });
  map.addLayer({ id: 'gs-search-line', type: 'line', source: 'gs-search',
    paint: { 'line-color': HIGHLIGHT, 'line-width': 2.5 } });
  map.addLayer({ id: 'gs-selected-line', type: 'line', source: 'gs-selected',
    paint: { 'line-color': '#ffea00', 'line-width': 4, 'line-opacity': 0.9 } });
});

// --- Panel: layer switcher and legend ------------------------------------------------------

let patternCount = 0;
function swatch(s) {
  const ns = 'http://www.w3.org/2000/svg';
  const svg = document.createElementNS(ns, 'svg');
  svg.setAttribute('width', '28'); svg.setAttribute('height', '16'); svg.setAttribute('class', 'swatch');
  const rect = document.createElementNS(ns, 'rect');
  rect.setAttribute('x', '2'); rect.setAttribute('y', '2'); rect.setAttribute('width', '24'); rect.setAttribute('height', '12');
  rect.setAttribute('fill', s.fill || 'none');
  rect.setAttribute('fill-opacity', String(s.fill ? Math.max(s.fill_opacity, 0.15) : 0));
  if (s.line) {
    const width = Math.min(s.line_width, 2.5);
    rect.setAttribute('stroke', s.line); rect.setAttribute('stroke-width', String(width));
    if (s.dash) rect.setAttribute('stroke-dasharray', s.dash.map((d) => d * width).join(' '));
  }
  svg.append(rect);
  if (s.pattern) {
    // The same 45° hatching as the map's sprite and the QML's line pattern fill.
    const id = `gs-hatch-${++patternCount}`;
    const defs = document.createElementNS(ns, 'defs');
    const pattern = document.createElementNS(ns, 'pattern');
    pattern.setAttribute('id', id); pattern.setAttribute('patternUnits', 'userSpaceOnUse');
    pattern.setAttribute('width', '4'); pattern.setAttribute('height', '4');
    pattern.setAttribute('patternTransform', 'rotate(45)');
    const line = document.createElementNS(ns, 'line');
    line.setAttribute('x1', '0'); line.setAttribute('y1', '0'); line.setAttribute('x2', '0'); line.setAttribute('y2', '4');
    line.setAttribute('stroke', s.pattern); line.setAttribute('stroke-width', '1.5');
    pattern.append(line); defs.append(pattern); svg.prepend(defs);
    const hatch = rect.cloneNode();
    hatch.setAttribute('fill', `url(#${id})`); hatch.setAttribute('fill-opacity', '1');
    svg.append(hatch);
  }
  return svg;
}

function setGroupVisible(group, visible) {
  if (visible) hidden.delete(group); else hidden.add(group);
  for (const layer of map.getStyle().layers) {
    if (groupOf(layer) === group) map.setLayoutProperty(layer.id, 'visibility', visible ? 'visible' : 'none');
  }
  document.querySelector(`[data-group="${group}"]`)?.classList.toggle('off', !visible);
}

function renderPanel() {
  const meta = style.metadata || {};
  const legend = Object.fromEntries((meta['geoservice:legend'] || []).map((g) => [g.layer, g]));
  const box = document.getElementById('layers');
  box.replaceChildren();
  let basemapHeading = false;
  for (const group of meta['geoservice:groups'] || []) {
    if (group.kind === 'basemap' && !basemapHeading) {
      box.append(el('h3', { class: 'basemap-heading' }, t('basemap')));
      basemapHeading = true;
    }
    const checkbox = el('input', { type: 'checkbox', 'data-layer-toggle': group.id,
      onchange: (e) => setGroupVisible(group.id, e.target.checked) });
    checkbox.checked = !hidden.has(group.id);
    const section = el('section', { class: `group ${group.kind}${hidden.has(group.id) ? ' off' : ''}`,
      'data-group': group.id }, el('label', { class: 'group-title' }, checkbox, tr(group.title)));
    const entry = legend[group.id];
    for (const part of entry ? entry.sections : []) {
      const list = el('ul', { class: 'legend' });
      for (const item of part.items) {
        list.append(el('li', { 'data-value': item.value ?? '' }, swatch(item.swatch), el('span', {}, tr(item.label))));
      }
      if (part.title) section.append(el('h4', {}, tr(part.title)));
      section.append(list);
    }
    box.append(section);
  }
  if (rasters.some((r) => r.bbox)) box.append(rasterPanel());
}

function renderTexts() {
  document.documentElement.lang = lang;
  document.title = tr(config.title);
  document.getElementById('title').textContent = tr(config.title);
  document.getElementById('search-input').placeholder = t('placeholder');
  document.getElementById('search-button').textContent = t('search');
  document.getElementById('layers-title').textContent = t('layers');
  const nav = document.getElementById('langs');
  nav.setAttribute('aria-label', t('language'));
  nav.replaceChildren(...config.langs.map((l) => el('button', {
    type: 'button', 'data-lang': l, title: LANG_NAMES[l], class: l === lang ? 'active' : '',
    onclick: () => setLang(l),
  }, l.toUpperCase())));
}

let langSwitches = 0;  // a later language switch wins over an earlier one still fetching its style

async function setLang(next) {
  if (!config.langs.includes(next)) throw new Error(`unknown language ${next}`);
  const mine = ++langSwitches;
  lang = next;
  localStorage.setItem('geoservice.lang', lang);
  const url = new URL(location.href);
  url.searchParams.set('lang', lang);
  history.replaceState(null, '', url);
  renderTexts();
  document.dispatchEvent(new CustomEvent('geoservice:lang', { detail: lang }));  // parcel-check.js
  // MapLibre has no public setter for its UI texts; its locale table is read when a control is
  // added (and by the scale bar on every move). The browser test checks that this still works.
  Object.assign(map._locale, MAPLIBRE_UI[lang]);
  map.getCanvas().setAttribute('aria-label', MAPLIBRE_UI[lang]['Map.Title']);
  addControls();
  if (lastPosition) showCoordinates(lastPosition);
  const fetched = await fetchStyle(next);
  if (mine !== langSwitches) return;  // switched again meanwhile: that switch sets the style
  style = fetched;
  map.setStyle(style, { diff: true });
  renderPanel();
  if (popup) { popup.remove(); popup = null; }
  // A problem message is in the language it was asked in: ask again (no map move on errors).
  if (lastSearch?.error) search(lastSearch.query); else if (lastSearch) showSearchResult(lastSearch);
}

// --- Popups ----------------------------------------------------------------------------------

function formatValue(layerId, name, value) {
  const attr = config.layers[layerId]?.attributes.find((a) => a.name === name);
  if (attr && attr.choices && attr.choices[value]) return tr(attr.choices[value]);
  return value === null || value === undefined ? '' : String(value);
}

const blank = (value) => value === null || value === undefined || value === '';
// Columns an authority sent once per language (name_kk, NAME_RU, basis_en, name:kk) belong to the
// catalog attribute before the suffix: it is shown once, in the page's language.
const LANG_SUFFIX = /^(.+)[_:.-](kk|ru|en)$/i;

function translations(layer, properties) {
  const known = new Set(layer.attributes.map((a) => a.name));
  const byAttribute = {};
  const used = new Set();
  for (const [name, value] of Object.entries(properties)) {
    const match = LANG_SUFFIX.exec(name);
    const base = match?.[1].toLowerCase();
    if (!match || known.has(name) || !known.has(base)) continue;
    used.add(name);
    if (!blank(value)) (byAttribute[base] ||= {})[match[2].toLowerCase()] = value;
  }
  return { byAttribute, used };
}

// Rows [label, value] of what a person can read with a label in the page's language, and the
// number of fields left out: columns of the uploaded file the catalog does not know (their raw
// names are no label; the full record has them).
function attributeRows(layerId, properties) {
  const layer = config.layers[layerId];
  const rows = [];
  const seen = new Set();
  const { byAttribute, used } = layer ? translations(layer, properties) : { byAttribute: {}, used: new Set() };
  for (const attr of layer ? layer.attributes : []) {
    seen.add(attr.name);
    const own = byAttribute[attr.name] || {};
    const value = [own[lang], properties[attr.name], ...config.langs.map((l) => own[l])].find((v) => !blank(v));
    if (blank(value)) continue;
    rows.push([tr(attr.names), formatValue(layerId, attr.name, value)]);
  }
  const key = layer?.key;
  let hidden = 0;
  for (const [name, value] of Object.entries(properties)) {
    if (seen.has(name) || used.has(name) || blank(value)) continue;
    // The tiles' id is the key attribute's value: one row is enough.
    if (name === 'id' && key && properties[key] !== undefined) continue;
    if (name === 'n_blocks' && properties.level === 'block') continue;
    if (name === 'level') { rows.unshift([t('level'), tr(config.block_levels[value]) || String(value)]); continue; }
    const label = { id: t('id'), feature_id: t('id'), n_blocks: t('count') }[name];
    if (label) rows.push([label, String(value)]); else hidden += 1;
  }
  return { rows, hidden };
}

function featureId(layerId, feature) {
  const p = feature.properties || {};
  const key = config.layers[layerId]?.key;
  return p.id ?? p.feature_id ?? (key ? p[key] : undefined) ?? feature.id ?? p.code;
}

// A popup's section grew (its full record, a study's reports, a lot's bonus came): MapLibre
// chooses the popup's side again so that it stays inside the map.
function regrow(section) {
  if (popup && section.isConnected) popup.setLngLat(popup.getLngLat());
}

// The section is complete once what it still fetches (`pending`, or nothing) has settled: the
// popup keeps its size and side from then on, so what a test clicks in it stays where it is.
function completeWhen(section, pending) {
  Promise.resolve(pending).catch(() => {}).finally(() => { section.dataset.complete = 'true'; });
}

function popupSection(layerId, feature) {
  const table = el('table', { class: 'attributes' });
  const more = el('p', { class: 'more' });
  const id = featureId(layerId, feature);
  const item = id !== undefined && layerId !== 'blocks' ? `/ogc/collections/${layerId}/items/${encodeURIComponent(id)}` : null;
  const fill = (properties) => {
    const { rows, hidden } = attributeRows(layerId, properties);
    table.replaceChildren(...rows.map(([k, v]) => el('tr', {}, el('th', {}, k), el('td', {}, v))));
    more.replaceChildren(...(hidden && item
      ? [el('a', { href: `${item}?f=html`, target: '_blank', rel: 'noopener' }, t('otherFields', { n: hidden }))] : []));
  };
  fill(feature.properties || {});
  const section = el('section', { class: 'feature', 'data-layer': layerId },
    el('h3', {}, tr(config.layers[layerId]?.names) || layerId), table, more);
  if (layerId === 'licences' && id !== undefined) {
    // Obligations and history open in the panel (licence-view.js).
    section.append(el('button', { type: 'button', class: 'licence-more', 'data-licence': String(id),
      onclick: () => document.dispatchEvent(new CustomEvent('geoservice:licence', { detail: String(id) })) },
    t('licenceMore')));
  }
  // Tiles carry what the map draws; the full record comes from OGC API – Features.
  completeWhen(section, item && fetch(`${item}?f=json`, { headers: { Accept: 'application/geo+json' } })
    .then((r) => (r.ok ? r.json() : null))
    .then((full) => {
      if (!full || !full.properties) return undefined;
      fill({ ...feature.properties, ...full.properties });
      regrow(section);
      // A study with reports links them (rel=related to /api/geoinfo?study=…, issue 12).
      const related = (full.links || []).find((l) => l.rel === 'related' && String(l.href).includes('/api/geoinfo'));
      return related ? showReports(section, related.href) : undefined;
    }));
  return section;
}

// The reports of a study (GET /api/geoinfo?study=…, with the session's cookie: an officer or a
// holder of an overlapping licence gets the official-use files too); each file is a download.
function showReports(section, href) {
  const levels = { public: 'levelPublic', 'official-use': 'levelOfficial', confidential: 'levelConfidential' };
  return fetch(href, { credentials: 'same-origin', headers: { Accept: 'application/json', 'Accept-Language': lang } })
    .then((r) => (r.ok ? r.json() : null))
    .then((found) => {
      if (!found || !found.reports || !found.reports.length || !section.isConnected) return;
      const items = found.reports.map((r) => el('li', { 'data-inventory': r.inventory, 'data-level': r.access_level },
        el('span', { class: 'report-title' }, `${r.inventory} · ${r.title}${r.year ? ` (${r.year})` : ''}`), ' ',
        el('span', { class: `report-level ${r.access_level}` }, t(levels[r.access_level] || 'levelPublic')),
        r.files_withheld
          ? el('div', { class: 'report-withheld' }, t('withheld'))
          : el('div', { class: 'report-files' }, ...(r.files || []).map((f) => el('a', {
            href: f.href, target: '_blank', rel: 'noopener', download: f.file_name || '' }, f.file_name || f.kind)))));
      section.append(el('h4', { class: 'reports-title' }, t('reports')), el('ul', { class: 'reports' }, ...items));
      regrow(section);
    })
    .catch(() => {});
}

function interactiveLayers() {
  return map.getStyle().layers
    .filter((l) => l.type === 'fill' && config.layers[groupOf(l)] && !hidden.has(groupOf(l)))
    .map((l) => l.id);
}

map.on('click', (e) => {
  if (window.geoservice?.picking) return;   // parcel-check.js picks blocks with this click instead
  const features = map.queryRenderedFeatures(e.point, { layers: interactiveLayers() });
  const seen = new Set();
  const picked = [];
  // Auction lots first, then plots, zones and studies before the grid they lie on, whatever the
  // drawing order.
  const rank = (f) => ({ [LOTS]: -1, blocks: 1 }[groupOf(f.layer)] ?? 0);
  features.sort((a, b) => rank(a) - rank(b));
  for (const f of features) {
    const layerId = groupOf(f.layer);
    const key = `${layerId}:${featureId(layerId, f)}`;
    if (seen.has(key)) continue;
    seen.add(key);
    picked.push([layerId, f]);
    if (picked.length === 4) break;
  }
  map.getSource('gs-selected')?.setData({ type: 'FeatureCollection',
    features: picked.map(([, f]) => ({ type: 'Feature', properties: {}, geometry: f.geometry })) });
  if (popup) popup.remove();
  const grids = rastersAt(e.lngLat);
  if (!picked.length && !grids.length) { popup = null; return; }
  const content = el('div', { class: 'popup' }, ...grids.map((r) => rasterValueSection(r, e.lngLat)),
    ...picked.map(([id, f]) => (id === LOTS ? lotSection(f) : popupSection(id, f))));
  popup = new maplibregl.Popup({ maxWidth: '360px' }).setLngLat(e.lngLat).setDOMContent(content).addTo(map);
  popup.on('close', () => map.getSource('gs-selected')?.setData({ type: 'FeatureCollection', features: [] }));
});
map.on('mousemove', (e) => {
  const picking = Boolean(window.geoservice?.picking);
  const hit = !picking && map.queryRenderedFeatures(e.point, { layers: interactiveLayers() }).length > 0;
  map.getCanvas().style.cursor = picking ? 'crosshair' : hit ? 'pointer' : '';
  showCoordinates(e.lngLat);
});

// --- Auction lots (issue 10): the catalog layer auction-lots ----------------------------------
// Drawn, switched and explained in the legend by the style like every catalog layer (its tiles
// follow each new version of the layer); only the popup is the lot's own: the tile feature's
// public fields, with the current bonus of a lot being bid on from GET /api/auctions/{number}.
const LOTS = 'auction-lots';
const LOTS_UI = {
  kk: { published: 'Жарияланған (тіркеу)', open: 'Сауда жүріп жатыр',
    starts: 'Басталуы', ends: 'Аяқталуы', bonus: 'Бастапқы қол қою бонусы, ₸', current: 'Ағымдағы бонус, ₸',
    step: 'Аукцион қадамы, ₸', blocks: 'Блоктар саны', status: 'Мәртебесі', number: 'Лот' },
  ru: { published: 'Объявлен (регистрация)', open: 'Идут торги',
    starts: 'Начало', ends: 'Окончание', bonus: 'Стартовый подписной бонус, ₸', current: 'Текущий бонус, ₸',
    step: 'Шаг аукциона, ₸', blocks: 'Число блоков', status: 'Статус', number: 'Лот' },
  en: { published: 'Published (registration)', open: 'Bidding now',
    starts: 'Starts', ends: 'Ends', bonus: 'Starting signature bonus, ₸', current: 'Current bonus, ₸',
    step: 'Bid step, ₸', blocks: 'Blocks', status: 'Status', number: 'Lot' },
};
const lt = (key) => LOTS_UI[lang][key];

function lotSection(feature) {
  const lot = feature.properties || {};
  const number = lot.id;   // the tiles' feature id is the auction's number
  const when = (value) => (value ? new Date(value).toLocaleString(lang === 'en' ? 'en-GB' : `${lang}-KZ`) : '');
  const table = el('table', { class: 'attributes' });
  const fill = (current) => {
    const rows = [[lt('status'), lt(lot.status) || lot.status], [lt('starts'), when(lot.starts_at)],
      [lt('ends'), when(lot.ends_at)], [lt('bonus'), lot.starting_bonus], [lt('current'), current],
      [lt('step'), lot.step], [lt('blocks'), lot.block_count]]
      .filter(([, v]) => v !== undefined && v !== null && v !== '');
    table.replaceChildren(...rows.map(([k, v]) => el('tr', {}, el('th', {}, k), el('td', {}, String(v)))));
  };
  fill(null);
  const section = el('section', { class: 'feature', 'data-layer': LOTS },
    el('h3', {}, `${lt('number')} ${number}: ${lot.name ?? ''}`), table);
  // The bid's bonus changes too often for the layer's versions: the lot's own answer has it.
  completeWhen(section, lot.status === 'open' && number && fetch(`/api/auctions/${encodeURIComponent(number)}`,
    { headers: { Accept: 'application/json' } })
    .then((r) => (r.ok ? r.json() : null))
    .then((full) => {
      if (!full || !section.isConnected) return;
      fill(full.current_bonus);
      regrow(section);
    }));
  return section;
}

// --- Raster layers (issue 12): scanned maps and geophysical grids from GET /api/rasters ---------
// Map-side raster sources (gs-raster-*, kept across style swaps by transformStyle) of the OGC API
// map tiles, under the vector overlays; an opacity slider and the legend (a grid's ramp with its
// unit, or 'scanned map') per layer; a click on a grid asks /api/rasters/{id}/value.
const RASTER_PREFIX = 'gs-raster-';
const RASTER_OPACITY = 0.75;
let rasters = [];
const rasterOpacity = {};

async function loadRasters() {
  const response = await fetch('/api/rasters');
  if (!response.ok) throw new Error(`rasters: HTTP ${response.status}`);
  rasters = await response.json();
  const firstOverlay = map.getStyle().layers.find((layer) => config.layers[groupOf(layer)])?.id;
  for (const r of rasters) {
    const id = RASTER_PREFIX + r.id;
    if (!r.bbox || map.getSource(id)) continue;
    rasterOpacity[r.id] ??= RASTER_OPACITY;
    map.addSource(id, { type: 'raster', tiles: [r.tiles], tileSize: 256, bounds: r.bbox, maxzoom: 16 });
    map.addLayer({ id, type: 'raster', source: id, paint: { 'raster-opacity': rasterOpacity[r.id] },
      layout: { visibility: hidden.has(id) ? 'none' : 'visible' } }, firstOverlay);
  }
  document.getElementById('layers')?.setAttribute('data-rasters', String(rasters.filter((r) => r.bbox).length));
  renderPanel();
}

function setRasterVisible(id, visible) {
  const layer = RASTER_PREFIX + id;
  if (visible) hidden.delete(layer); else hidden.add(layer);
  if (map.getLayer(layer)) map.setLayoutProperty(layer, 'visibility', visible ? 'visible' : 'none');
  document.querySelector(`[data-group="${layer}"]`)?.classList.toggle('off', !visible);
}

function rampBar(legend) {
  const stops = legend.stops || [];
  const span = stops.length > 1 ? stops[stops.length - 1].value - stops[0].value : 1;
  const gradient = stops.map((s) => `${s.colour} ${((s.value - stops[0].value) / span) * 100}%`).join(', ');
  return el('div', { class: 'ramp' },
    el('div', { class: 'ramp-bar', style: `background: linear-gradient(to right, ${gradient})` }),
    el('div', { class: 'ramp-labels' }, el('span', {}, String(stops[0]?.value ?? '')),
      el('span', {}, String(stops[stops.length - 1]?.value ?? ''))));
}

function rasterPanel() {
  const section = el('section', { class: 'rasters' }, el('h3', { class: 'basemap-heading' }, t('rasters')));
  for (const r of rasters.filter((x) => x.bbox)) {
    const id = RASTER_PREFIX + r.id;
    const checkbox = el('input', { type: 'checkbox', 'data-layer-toggle': id,
      onchange: (e) => setRasterVisible(r.id, e.target.checked) });
    checkbox.checked = !hidden.has(id);
    const slider = el('input', { type: 'range', min: '0', max: '1', step: '0.05', 'data-raster-opacity': r.id,
      'aria-label': t('opacity'), title: t('opacity'),
      oninput: (e) => {
        rasterOpacity[r.id] = Number(e.target.value);
        if (map.getLayer(id)) map.setPaintProperty(id, 'raster-opacity', rasterOpacity[r.id]);
      } });
    slider.value = String(rasterOpacity[r.id] ?? RASTER_OPACITY);
    const group = el('section', { class: `group raster${hidden.has(id) ? ' off' : ''}`, 'data-group': id },
      el('label', { class: 'group-title' }, checkbox, tr(r.names)),
      el('label', { class: 'opacity' }, el('span', {}, t('opacity')), slider),
      el('div', { class: 'legend raster-legend', 'data-legend': r.id }, el('span', {}, tr(r.legend.label)),
        ...(r.kind === 'grid' ? [rampBar(r.legend)] : [])));
    section.append(group);
  }
  return section;
}

function rastersAt(lngLat) {
  return rasters.filter((r) => r.kind === 'grid' && r.bbox && !hidden.has(RASTER_PREFIX + r.id)
    && lngLat.lng >= r.bbox[0] && lngLat.lng <= r.bbox[2] && lngLat.lat >= r.bbox[1] && lngLat.lat <= r.bbox[3]);
}

function rasterValueSection(r, lngLat) {
  const cell = el('td', {}, t('loading'));
  const section = el('section', { class: 'feature', 'data-layer': RASTER_PREFIX + r.id },
    el('h3', {}, tr(r.names)), el('table', { class: 'attributes' }, el('tr', {}, el('th', {}, t('value')), cell)));
  fetch(`/api/rasters/${r.id}/value?lon=${lngLat.lng}&lat=${lngLat.lat}`, { headers: { 'Accept-Language': lang } })
    .then(async (response) => {
      if (!response.ok) { cell.textContent = t('noValue'); return; }
      const body = await response.json();
      cell.textContent = `${body.value.toFixed(2)} ${tr(body.unit)}`;
      cell.setAttribute('data-value', String(body.value));
    })
    .catch(() => { cell.textContent = t('noValue'); });
  return section;
}

// --- Block search ----------------------------------------------------------------------------

let lastSearch = null;

function showSearchResult(result) {
  const box = document.getElementById('search-result');
  box.replaceChildren();
  if (!result) return;
  if (result.error) {
    box.append(el('p', { class: 'error', role: 'alert' }, result.error));
    return;
  }
  const codes = result.codes.slice(0, 50).map((c) => el('li', {}, c));
  box.append(el('p', { class: 'found' }, t('found', { n: result.count })), el('ul', { class: 'codes' }, ...codes),
    el('button', { type: 'button', onclick: clearSearch }, t('clear')));
}

function clearSearch() {
  lastSearch = null;
  map.getSource('gs-search')?.setData({ type: 'FeatureCollection', features: [] });
  showSearchResult(null);
}

async function search(query) {
  const response = await fetch(`/api/blocks/search?q=${encodeURIComponent(query)}`, { headers: { 'Accept-Language': lang } });
  const body = await response.json();
  if (!response.ok) {
    lastSearch = { query, error: body.detail || t('searchFailed'), problem: body };
    showSearchResult(lastSearch);
    return lastSearch;
  }
  lastSearch = body;
  map.getSource('gs-search').setData(body);
  const [w, s, e, n] = body.bbox;
  map.fitBounds([[w, s], [e, n]], { padding: 80, maxZoom: 13.5, duration: 700 });
  showSearchResult(body);
  return body;
}

document.getElementById('search').addEventListener('submit', (e) => {
  e.preventDefault();
  const q = document.getElementById('search-input').value.trim();
  if (q) search(q);
});

// --- Coordinates -----------------------------------------------------------------------------

const gkDefs = new Map();
function gk(lon, lat) {
  const zone = Math.min(60, Math.max(1, Math.floor(lon / 6) + 1));
  if (!gkDefs.has(zone)) {
    const towgs84 = config.pulkovo_towgs84.join(',');
    gkDefs.set(zone, `+proj=tmerc +lat_0=0 +lon_0=${zone * 6 - 3} +k=1 +x_0=${zone * 1000000 + 500000} +y_0=0 `
      + `+ellps=krass +towgs84=${towgs84},0,0,0,0 +units=m +no_defs`);
  }
  const [easting, northing] = window.proj4('EPSG:4326', gkDefs.get(zone), [lon, lat]);
  return { zone, epsg: 28400 + zone, x: northing, y: easting }; // Soviet convention: X north, Y east
}

function dms(value, positive, negative) {
  const hemisphere = value >= 0 ? positive : negative;
  let tenths = Math.round(Math.abs(value) * 36000); // tenths of a second
  const degrees = Math.floor(tenths / 36000); tenths -= degrees * 36000;
  const minutes = Math.floor(tenths / 600); tenths -= minutes * 600;
  return `${degrees}°${String(minutes).padStart(2, '0')}′${(tenths / 10).toFixed(1).padStart(4, '0')}″${hemisphere}`;
}

const grouped = (v) => {
  const [whole, frac] = v.toFixed(1).split('.');
  return `${whole.replace(/\B(?=(\d{3})+(?!\d))/g, '\u2009')}.${frac}`;
};

let lastPosition = null;   // the read-out is redrawn in a new language
function showCoordinates({ lng, lat }) {
  lastPosition = { lng, lat };
  document.getElementById('coords-wgs').textContent = `WGS 84: ${dms(lat, 'N', 'S')} ${dms(lng, 'E', 'W')} `
    + `(${lat.toFixed(5)}, ${lng.toFixed(5)})`;
  const g = gk(lng, lat);
  document.getElementById('coords-gk').textContent = `${t('gk', { zone: g.zone })} (EPSG:${g.epsg}): `
    + `X ${grouped(g.x)} Y ${grouped(g.y)}`;
}

// --- Fresh tiles -----------------------------------------------------------------------------
// The TileJSON's tile URL carries the data version: when an authority uploads, it changes, and
// the map switches to the new tiles without a reload.
let tileTemplates = null;
async function checkTiles() {
  const url = style.sources.geoservice?.url;
  const source = map.getSource('geoservice');
  if (!url || !source) return false;
  const response = await fetch(url, { cache: 'no-store' });
  if (!response.ok) return false;
  const tiles = (await response.json()).tiles;
  const changed = tileTemplates !== null && JSON.stringify(tiles) !== JSON.stringify(tileTemplates);
  tileTemplates = tiles;
  if (changed) source.setTiles(tiles);
  return changed;
}
setInterval(() => { checkTiles().catch(() => {}); }, 30_000);

// --- Start -----------------------------------------------------------------------------------

renderTexts();
renderPanel();
window.geoservice = {
  config, ready, errors, search, setLang, gk, dms, hidden, checkTiles, lang: () => lang,
  get idle() { return state.idle; },
  closePopup: () => { if (popup) { popup.remove(); popup = null; } },   // parcel-check.js, when picking starts
};
await ready;
loadRasters().catch((e) => errors.push(String(e)));
showCoordinates(map.getCenter());
checkTiles().catch(() => {});
