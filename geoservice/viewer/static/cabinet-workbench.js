// The cabinet's "workbench" section, for officers and commission members only: the queue
// (GET /api/workbench: the least time left first, overdue flagged), and for the chosen
// application its run (GET /api/applications/{number}/run: stages, due times, decisions) and the
// actions its current stage allows, with a reason. Acting signs the RFC 8785 JSON of
// {application, stage, action, reason} (cadastre/workbench.py decision_payload; reason null when
// empty) with NCALayer or the demo signer and POSTs it to /api/applications/{number}/decisions.
// The chosen application's parcel is drawn on a small map (the vendored MapLibre, over the
// public map's style: basemap, blocks, licences, applied-for blocks) with what it overlaps: the
// parcel as the application was signed (GET /api/applications/{number}: its canonical JSON),
// checked again by POST /api/parcels/check, whose overlaps carry their geometries.

import * as maplibregl from './vendor/maplibre-gl.mjs';
import { el, problemText, signCanonical } from './cabinet-sign.js';

const UI = {
  kk: {
    title: 'Жұмыс үстелі', queue: 'Кезек', empty: 'Шешім күтетін өтінім жоқ.', number: 'Нөмірі',
    received: 'Қабылданды', stage: 'Кезең', due: 'Мерзімі', left: 'Қалды', overdue: 'мерзімі өтті',
    blocks: 'Блоктар', reason: 'Себебі (қайтару және бас тарту үшін)', open: 'Ашу', run: 'Рәсім',
    decisions: 'Шешімдер', finished: 'Рәсім аяқталды: {outcome}', signing: 'Қол қойылуда…', sending: 'Жіберілуде…',
    done: '«{action}» шешімі қабылданды', failed: 'Сәтсіз аяқталды', noNcalayer: 'NCALayer іске қосылмаған: қол қою мүмкін емес.',
    cancelled: 'Қол қою тоқтатылды.', hours: '{h} сағ {m} мин', days: '{d} күн {h} сағ',
    action_accept: 'Қабылдау', action_return: 'Пысықтауға қайтару', action_refuse: 'Бас тарту',
    action_forward: 'Әрі қарай жіберу', action_approve: 'Мақұлдау', action_sign: 'Қол қою',
    outcome_granted: 'мақұлданды', outcome_refused: 'бас тартылды',
    map: 'Учаске картада', parcel: 'Учаске', conflicts: 'Қиылысулар: {n}', noConflicts: 'Қиылысу жоқ',
  },
  ru: {
    title: 'Рабочее место', queue: 'Очередь', empty: 'Заявлений, ждущих решения, нет.', number: 'Номер',
    received: 'Принято', stage: 'Этап', due: 'Срок', left: 'Осталось', overdue: 'просрочено',
    blocks: 'Блоков', reason: 'Причина (для возврата и отказа)', open: 'Открыть', run: 'Процедура',
    decisions: 'Решения', finished: 'Процедура завершена: {outcome}', signing: 'Подписание…', sending: 'Отправка…',
    done: 'Решение «{action}» принято', failed: 'Не удалось', noNcalayer: 'NCALayer не запущен: подписать нельзя.',
    cancelled: 'Подписание отменено.', hours: '{h} ч {m} мин', days: '{d} дн {h} ч',
    action_accept: 'Принять', action_return: 'Вернуть на доработку', action_refuse: 'Отказать',
    action_forward: 'Передать дальше', action_approve: 'Одобрить', action_sign: 'Подписать',
    outcome_granted: 'одобрено', outcome_refused: 'отказано',
    map: 'Участок на карте', parcel: 'Участок', conflicts: 'Пересечения: {n}', noConflicts: 'Пересечений нет',
  },
  en: {
    title: 'Workbench', queue: 'Queue', empty: 'No applications wait for your decision.', number: 'Number',
    received: 'Received', stage: 'Stage', due: 'Due', left: 'Left', overdue: 'overdue',
    blocks: 'Blocks', reason: 'Reason (for a return or refusal)', open: 'Open', run: 'Procedure',
    decisions: 'Decisions', finished: 'Procedure finished: {outcome}', signing: 'Signing…', sending: 'Sending…',
    done: 'Decision “{action}” taken', failed: 'Failed', noNcalayer: 'NCALayer is not running: nothing can be signed.',
    cancelled: 'Signing was cancelled.', hours: '{h} h {m} min', days: '{d} d {h} h',
    action_accept: 'Accept', action_return: 'Return for revision', action_refuse: 'Refuse',
    action_forward: 'Forward', action_approve: 'Approve', action_sign: 'Sign',
    outcome_granted: 'approved', outcome_refused: 'refused',
    map: 'The parcel on the map', parcel: 'Parcel', conflicts: 'Overlaps: {n}', noConflicts: 'No overlaps',
  },
};
const ACTORS = ['officer', 'commission'];
const EMPTY = { type: 'FeatureCollection', features: [] };
// Drawn over the public style: the parcel in the cabinet's accent, what it overlaps in red
// (refusals) or orange (warnings).
const PARCEL_COLOUR = '#0057b8';
const SEVERITY_COLOUR = ['match', ['get', 'severity'], 'refusal', '#d7301f', '#f08c00'];

function overlayStyle(style) {
  const sources = {
    ...style.sources, 'wb-parcel': { type: 'geojson', data: EMPTY }, 'wb-conflicts': { type: 'geojson', data: EMPTY },
  };
  const layers = [...style.layers,
    { id: 'wb-conflicts-fill', type: 'fill', source: 'wb-conflicts', paint: { 'fill-color': SEVERITY_COLOUR, 'fill-opacity': 0.35 } },
    { id: 'wb-conflicts-line', type: 'line', source: 'wb-conflicts', paint: { 'line-color': SEVERITY_COLOUR, 'line-width': 2 } },
    { id: 'wb-parcel-fill', type: 'fill', source: 'wb-parcel', paint: { 'fill-color': PARCEL_COLOUR, 'fill-opacity': 0.15 } },
    { id: 'wb-parcel-line', type: 'line', source: 'wb-parcel', paint: { 'line-color': PARCEL_COLOUR, 'line-width': 2.5 } },
  ];
  return { ...style, sources, layers };
}

class ParcelMap {
  // One map for the section, kept across renders (the section's content is rebuilt, the map's
  // container is moved back in), so that choosing another application only swaps its data.
  constructor(lang) {
    this.box = el('div', { id: 'wb-map', style: 'height: 320px; max-width: 720px; margin: 8px 0; position: relative' });
    this.lang = lang;
    this.map = null;
    this.parcel = EMPTY;
    this.conflicts = EMPTY;
    this.bbox = null;
  }

  styleUrl() {
    return `/ogc/styles/default?f=mapbox&lang=${this.lang}`;
  }

  ensure() {
    if (this.map) {
      this.map.resize();
      return;
    }
    this.map = new maplibregl.Map({
      container: this.box, style: this.styleUrl(), transformStyle: (_, next) => overlayStyle(next),
      attributionControl: { compact: true }, maxPitch: 0, center: [67, 48], zoom: 3,
    });
    this.map.addControl(new maplibregl.NavigationControl({ showCompass: false }), 'top-right');
    this.map.on('style.load', () => this.apply());
  }

  show(parcel, conflicts, bbox) {
    this.parcel = parcel;
    this.conflicts = conflicts;
    this.bbox = bbox;
    this.ensure();
    this.apply();
  }

  apply() {
    const map = this.map;
    if (!map || !map.getSource('wb-parcel')) return;   // the style is still loading: style.load applies
    map.getSource('wb-parcel').setData(this.parcel);
    map.getSource('wb-conflicts').setData(this.conflicts);
    if (this.bbox) map.fitBounds([[this.bbox[0], this.bbox[1]], [this.bbox[2], this.bbox[3]]], { padding: 40, duration: 0, maxZoom: 13 });
    this.box.dataset.ready = 'true';
  }

  setLang(lang) {
    this.lang = lang;
    if (this.map) this.map.setStyle(this.styleUrl(), { transformStyle: (_, next) => overlayStyle(next) });
  }
}

class WorkbenchSection {
  constructor(section) {
    this.section = section;
    this.lang = window.cabinet.lang;
    this.queue = [];
    this.selected = null;   // a queue item's number
    this.run = null;        // its run
    this.reason = '';
    this.message = null;
    this.busy = false;
    this.parcel = null;     // {number, check}: the chosen application's parcel check
    this.parcelMap = new ParcelMap(this.lang);
  }

  t(key, vars = {}) {
    const text = UI[this.lang][key];
    return text === undefined ? key : text.replace(/\{(\w+)\}/g, (_, k) => String(vars[k]));
  }

  api(path, options) {
    return window.cabinet.api(path, options);
  }

  when(iso) {
    return iso ? new Date(iso).toLocaleString(this.lang === 'kk' ? 'kk-KZ' : this.lang) : '';
  }

  left(seconds) {
    if (seconds === null || seconds === undefined) return '';
    const s = Math.abs(seconds);
    const d = Math.floor(s / 86400); const h = Math.floor((s % 86400) / 3600); const m = Math.floor((s % 3600) / 60);
    const text = d > 0 ? this.t('days', { d, h }) : this.t('hours', { h, m });
    return seconds < 0 ? `−${text}` : text;
  }

  async load() {
    const response = await this.api('/api/workbench');
    if (!response.ok) {
      this.message = ['error', await problemText(response)];
      return;
    }
    this.queue = (await response.json()).queue;
    if (this.selected) await this.loadRun(this.selected);
  }

  async loadRun(number) {
    const response = await this.api(`/api/applications/${encodeURIComponent(number)}/run`);
    this.run = response.ok ? await response.json() : null;
    if (!response.ok) this.message = ['error', await problemText(response)];
  }

  async select(number) {
    this.selected = number;
    this.message = null;
    this.reason = '';
    this.parcel = null;
    await Promise.all([this.loadRun(number), this.loadParcel(number)]);
    this.render();
  }

  async loadParcel(number) {
    // The parcel as signed, checked again now: its geometry and what it overlaps (licences,
    // other pending applications, zones, lots); its own claim is not a conflict.
    const response = await this.api(`/api/applications/${encodeURIComponent(number)}`);
    if (!response.ok) return;
    let parcel;
    try {
      parcel = JSON.parse((await response.json()).canonical).parcel;
    } catch (error) {
      return;
    }
    if (!parcel) return;   // a service on an existing right: no parcel
    const checked = await this.api('/api/parcels/check', { method: 'POST', json: { parcel } });
    if (!checked.ok || number !== this.selected) return;
    const check = await checked.json();
    const overlaps = (check.overlaps || []).filter((o) => o.geometry && !(o.kind === 'application' && o.id === number));
    this.parcel = { number, check, overlaps };
  }

  renderMap() {
    const parcel = this.parcel;
    if (!parcel || parcel.number !== this.selected || !parcel.check.geometry) return null;
    const feature = { type: 'Feature', geometry: parcel.check.geometry, properties: { number: parcel.number } };
    const conflicts = parcel.overlaps.map((o) => ({
      type: 'Feature', geometry: o.geometry, properties: { kind: o.kind, severity: o.severity, id: o.id ?? null, message: o.message },
    }));
    // After the section is in the document: MapLibre measures its container.
    queueMicrotask(() => this.parcelMap.show({ type: 'FeatureCollection', features: [feature] },
      { type: 'FeatureCollection', features: conflicts }, parcel.check.bbox));
    const list = parcel.overlaps.length
      ? el('ul', { id: 'wb-conflicts' }, ...parcel.overlaps.map((o) => el('li', { class: o.severity, 'data-kind': o.kind }, o.message)))
      : el('p', { id: 'wb-conflicts' }, this.t('noConflicts'));
    return el('div', { id: 'wb-parcel', 'data-number': parcel.number }, el('h4', {}, this.t('map')), this.parcelMap.box,
      parcel.overlaps.length ? el('p', {}, this.t('conflicts', { n: parcel.overlaps.length })) : '', list);
  }

  async act(item, action) {
    if (this.busy) return;
    const reason = this.reason.trim() || null;
    const decision = { stage: item.stage, action, reason };
    // What is signed: cadastre/workbench.py decision_payload, as RFC 8785 JSON.
    const payload = { application: item.number, stage: item.stage, action, reason };
    this.busy = true;
    this.message = ['info', this.t('signing')];
    this.render();
    try {
      let signed;
      try {
        signed = await signCanonical(payload, this.lang);
      } catch (error) {
        const text = { unavailable: this.t('noNcalayer'), cancelled: this.t('cancelled') }[error.message];
        throw new Error(text || error.message);
      }
      this.message = ['info', this.t('sending')];
      this.render();
      const response = await this.api(`/api/applications/${encodeURIComponent(item.number)}/decisions`, {
        method: 'POST', json: { decision, signature: signed.cms },
      });
      if (!response.ok) throw new Error(await problemText(response));
      this.run = await response.json();
      this.reason = '';
      this.message = ['ok', this.t('done', { action: this.t(`action_${action}`) })];
      await this.load();
    } catch (error) {
      this.message = ['error', `${this.t('failed')}: ${error.message}`];
    } finally {
      this.busy = false;
      this.render();
    }
  }

  renderQueue() {
    if (this.queue.length === 0) return el('p', { id: 'wb-empty' }, this.t('empty'));
    const head = el('tr', {}, ...['number', 'received', 'stage', 'due', 'left', 'blocks']
      .map((k) => el('th', { scope: 'col' }, this.t(k))), el('th', {}));
    const rows = this.queue.map((q) => el('tr', {
      'data-number': q.number, class: [q.overdue ? 'overdue' : '', q.number === this.selected ? 'selected' : '']
        .filter(Boolean).join(' '),
    },
    el('td', {}, q.number), el('td', {}, this.when(q.received_at)), el('td', { class: 'stage' }, q.stage_name),
    el('td', {}, this.when(q.due_at)),
    el('td', { class: 'left' }, q.overdue ? `${this.t('overdue')} (${this.left(q.seconds_left)})` : this.left(q.seconds_left)),
    el('td', {}, String(q.block_count ?? '')),
    el('td', {}, el('button', { type: 'button', class: 'wb-open', onclick: () => this.select(q.number) }, this.t('open')))));
    return el('table', { id: 'wb-queue', class: 'documents' }, el('thead', {}, head), el('tbody', {}, ...rows));
  }

  renderRun() {
    const run = this.run;
    if (!run || run.number !== this.selected) return null;
    const parts = [el('h3', {}, `${run.number} · ${run.procedure_name}`)];
    const item = this.queue.find((q) => q.number === run.number);
    if (run.status === 'finished') {
      parts.push(el('p', { id: 'wb-finished', class: `outcome-${run.outcome}` },
        this.t('finished', { outcome: this.t(`outcome_${run.outcome}`) })));
    } else if (item) {
      const reason = el('textarea', { id: 'wb-reason', rows: '2' });
      reason.value = this.reason;
      reason.addEventListener('input', () => { this.reason = reason.value; });
      parts.push(el('p', { id: 'wb-stage', 'data-stage': item.stage },
        `${this.t('stage')}: ${item.stage_name}${item.due_at ? ` · ${this.t('due')}: ${this.when(item.due_at)}` : ''}`),
      el('label', { class: 'app-field' }, el('span', {}, this.t('reason')), reason),
      el('div', { class: 'wb-actions' }, ...item.actions.map((a) => el('button', {
        type: 'button', 'data-action': a, disabled: this.busy ? '' : null, onclick: () => this.act(item, a),
      }, this.t(`action_${a}`)))));
    }
    const steps = run.steps.map((s) => el('li', { 'data-stage': s.stage, class: s.finished_at ? 'done' : 'current' },
      [s.name, s.action ? this.t(`action_${s.action}`) : '', s.reason || '',
        s.finished_at ? this.when(s.finished_at) : (s.due_at ? `${this.t('due')}: ${this.when(s.due_at)}` : '')]
        .filter(Boolean).join(' · ')));
    const map = this.renderMap();
    if (map) parts.push(map);
    parts.push(el('h4', {}, this.t('run')), el('ol', { id: 'wb-steps' }, ...steps));
    return el('div', { id: 'wb-run', 'data-number': run.number }, ...parts);
  }

  render() {
    this.section.replaceChildren(el('h2', {}, this.t('title')), el('h3', {}, this.t('queue')), this.renderQueue(),
      this.message ? el('p', { id: 'wb-status', class: this.message[0], role: 'status' }, this.message[1]) : '',
      this.renderRun() || '');
  }

  async show(profile) {
    const acts = Boolean(profile && profile.roles.some((r) => ACTORS.includes(r)));
    this.section.hidden = !acts;
    if (!acts) {
      this.section.replaceChildren();
      return;
    }
    await this.load();
    this.render();
  }

  setLang(lang) {
    if (!UI[lang] || lang === this.lang) return;
    this.lang = lang;
    this.parcelMap.setLang(lang);
    // Stage names and overlap messages come from the server in the request's language.
    const parcel = this.selected ? this.loadParcel(this.selected) : Promise.resolve();
    Promise.all([this.load(), parcel]).then(() => this.render());
  }
}

const here = document.getElementById('workbench');
if (here && window.cabinet) {
  const view = new WorkbenchSection(here);
  window.cabinet.on((what, value) => {
    if (what === 'lang') view.setLang(value);
    else if (what === 'user') view.show(value).then(() => { here.dataset.ready = 'true'; });
  });
  if (window.cabinet.profile) view.show(window.cabinet.profile).then(() => { here.dataset.ready = 'true'; });
  window.geoserviceWorkbench = view;
}
