// The cabinet's "layers" section: an authority's officer uploads the layers their authority writes
// (GET /api/layers: a layer's `writers` against the person's authorities; the operator writes
// every uploadable layer) instead of using curl or the CLI. Per layer: its current version (for a
// raster layer the sheets shown now), a form (file, optional CRS; replace/append for a vector
// layer, the sheet's name for a raster one) with "Check" (dry_run=1: the report, nothing stored)
// and "Upload" (a new version), and the last versions with "Restore" for the ones not shown now
// (POST /api/layers/{id}/versions/{n}/restore). Requests go through window.cabinet.api: the
// session cookie and the page's Accept-Language, so refusals (problem+json) and the report's
// notes read in the page's language. The section's own words are here in kk/ru/en.

import { el, mountSection } from './cabinet-sign.js';

const UI = {
  kk: {
    title: 'Қабаттар', intro: 'Уәкілетті органыңыз жазатын қабаттарды жүктеу.', current: 'Ағымдағы нұсқа',
    none: 'Әзірге нұсқа жоқ', features: '{n} нысан', sheetsShown: 'Көрсетілетін парақтар: {list}',
    file: 'Файл', crs: 'Координаттар жүйесі (міндетті емес)', mode: 'Режим', replace: 'ауыстыру',
    append: 'қосу', sheet: 'Парақ атауы (міндетті емес)', check: 'Тексеру', upload: 'Жүктеу',
    noFile: 'Файлды таңдаңыз', checking: 'Тексерілуде…', uploading: 'Жүктелуде…', restoring: 'Қалпына келтірілуде…',
    checked: 'Тексеру өтті: файлда {n} нысан, ештеңе сақталған жоқ.',
    checkedSheets: 'Тексеру өтті: {n} парақ ({list}), ештеңе сақталған жоқ.',
    uploaded: '{version}-нұсқа жасалды ({n} нысан).', uploadedSheets: '{version}-нұсқа жасалды ({n} парақ).',
    unchanged: 'Бұл файл ағымдағы нұсқа болып табылады: жаңа нұсқа жасалған жоқ.',
    restored: '{from}-нұсқа қалпына келтірілді: {version}-нұсқа.', restoredSame: '{from}-нұсқа қазірдің өзінде көрсетілуде.',
    restoredVector: '{from}-нұсқа қайтадан ағымдағы болды.',
    refused: 'Бас тартылды', where: 'Орны', whereFile: 'файл', whereFeature: 'нысан', whereField: 'өріс',
    report: 'Есеп', versions: 'Нұсқалар (соңғы 10)', version: 'Нұсқа', created: 'Жасалды', source: 'Файл',
    content: 'Мазмұны', by: 'Кім', state: 'Күйі', shown: 'ағымдағы', pruned: 'жойылған', restore: 'Қалпына келтіру',
    sheetsN: '{n} парақ', noVersions: 'Нұсқа жоқ.', raster: 'растр', vector: 'вектор',
  },
  ru: {
    title: 'Слои', intro: 'Загрузка слоёв, которые ведёт ваш уполномоченный орган.', current: 'Текущая версия',
    none: 'Версий пока нет', features: 'объектов: {n}', sheetsShown: 'Показываемые листы: {list}',
    file: 'Файл', crs: 'Система координат (необязательно)', mode: 'Режим', replace: 'заменить',
    append: 'добавить', sheet: 'Название листа (необязательно)', check: 'Проверить', upload: 'Загрузить',
    noFile: 'Выберите файл', checking: 'Проверка…', uploading: 'Загрузка…', restoring: 'Восстановление…',
    checked: 'Проверка пройдена: объектов в файле — {n}, ничего не сохранено.',
    checkedSheets: 'Проверка пройдена: листов {n} ({list}), ничего не сохранено.',
    uploaded: 'Создана версия {version} (объектов: {n}).', uploadedSheets: 'Создана версия {version} (листов: {n}).',
    unchanged: 'Этот файл уже является текущей версией: новая версия не создана.',
    restored: 'Версия {from} восстановлена: версия {version}.', restoredSame: 'Версия {from} уже показывается.',
    restoredVector: 'Версия {from} снова текущая.',
    refused: 'Отклонено', where: 'Где', whereFile: 'файл', whereFeature: 'объект', whereField: 'поле',
    report: 'Отчёт', versions: 'Версии (последние 10)', version: 'Версия', created: 'Создана', source: 'Файл',
    content: 'Содержимое', by: 'Кто', state: 'Состояние', shown: 'текущая', pruned: 'удалена', restore: 'Восстановить',
    sheetsN: 'листов: {n}', noVersions: 'Версий нет.', raster: 'растр', vector: 'вектор',
  },
  en: {
    title: 'Layers', intro: 'Uploads of the layers your authority writes.', current: 'Current version',
    none: 'No version yet', features: '{n} feature(s)', sheetsShown: 'Sheets shown: {list}',
    file: 'File', crs: 'Coordinate system (optional)', mode: 'Mode', replace: 'replace',
    append: 'append', sheet: 'Sheet name (optional)', check: 'Check', upload: 'Upload',
    noFile: 'Choose a file', checking: 'Checking…', uploading: 'Uploading…', restoring: 'Restoring…',
    checked: 'The check passed: {n} feature(s) in the file, nothing stored.',
    checkedSheets: 'The check passed: {n} sheet(s) ({list}), nothing stored.',
    uploaded: 'Version {version} made ({n} feature(s)).', uploadedSheets: 'Version {version} made ({n} sheet(s)).',
    unchanged: 'This file is the current version already: no version was made.',
    restored: 'Version {from} restored: version {version}.', restoredSame: 'Version {from} is shown already.',
    restoredVector: 'Version {from} is current again.',
    refused: 'Refused', where: 'Where', whereFile: 'file', whereFeature: 'feature', whereField: 'field',
    report: 'Report', versions: 'Versions (last 10)', version: 'Version', created: 'Made', source: 'File',
    content: 'Content', by: 'By', state: 'State', shown: 'current', pruned: 'pruned', restore: 'Restore',
    sheetsN: '{n} sheet(s)', noVersions: 'No versions.', raster: 'raster', vector: 'vector',
  },
};
// Only an authority's officer writes layers from the cabinet (layers/access.py require_writer).
const WRITER_ROLE = 'officer';
const SHOWN_VERSIONS = 10;

class LayersSection {
  constructor(section) {
    this.section = section;
    this.lang = window.cabinet.lang;
    this.layers = [];           // [{id, names, raster, current, writers}]
    this.versions = {};         // layer id -> versions, newest first
    this.results = {};          // layer id -> {kind: 'ok'|'info'|'error', text, report, problem}
    this.busy = {};             // layer id -> true while a request is out
    this.forms = {};            // layer id -> [lang, its form]: kept across renders (the chosen file stays)
    this.loads = 0;
  }

  t(key, vars = {}) {
    return UI[this.lang][key].replace(/\{(\w+)\}/g, (_, k) => String(vars[k]));
  }

  api(path, options) {
    return window.cabinet.api(path, options);
  }

  // The layers the person may write: an officer, of an authority among the layer's writers.
  writable(profile, layer) {
    if (!profile.roles.includes(WRITER_ROLE) || !layer.uploadable) return false;
    const mine = profile.authorities || [];
    return mine.includes('operator') || layer.writers.some((w) => mine.includes(w));
  }

  async loadVersions(id) {
    const response = await this.api(`/api/layers/${encodeURIComponent(id)}/versions`);
    if (response.ok) this.versions[id] = (await response.json()).versions;
  }

  async load(profile) {
    // A later load (the language switched again meanwhile) wins over an earlier one.
    const seq = ++this.loads;
    const response = await this.api('/api/layers');
    if (!response.ok) return;
    const body = await response.json();
    const layers = [
      ...body.layers.map((l) => ({ ...l, raster: false, current: l.current_version })),
      ...body.raster_layers.map((l) => ({ ...l, raster: true, current: l.current })),
    ].filter((l) => this.writable(profile, l));
    if (seq !== this.loads) return;
    this.layers = layers;
    await Promise.all(layers.map((l) => this.loadVersions(l.id)));
  }

  async refresh(id) {
    const profile = window.cabinet.profile;
    if (!profile) return;
    await this.load(profile);
    this.render();
    this.section.querySelector(`.ly-layer[data-layer='${id}']`)?.scrollIntoView({ block: 'nearest' });
  }

  // The problem+json of a refusal: its detail and where it is (file / feature / field), with each
  // listed error when the server found several.
  async refusal(response) {
    let body = {};
    try { body = await response.json(); } catch { /* not JSON */ }
    return { kind: 'error', text: body.detail || body.title || `HTTP ${response.status}`, problem: body };
  }

  where(p) {
    const parts = [];
    if (p.file) parts.push(`${this.t('whereFile')} ${p.file}`);
    if (p.feature !== undefined && p.feature !== null) parts.push(`${this.t('whereFeature')} ${p.feature}`);
    if (p.field) parts.push(`${this.t('whereField')} ${p.field}`);
    return parts.join(', ');
  }

  async send(layer, form, dryRun) {
    const file = form.querySelector('.ly-file').files[0];
    if (!file) {
      this.results[layer.id] = { kind: 'error', key: ['noFile'] };
      this.render();
      return;
    }
    const data = new FormData();
    data.append('file', file);
    const crs = form.querySelector('.ly-crs').value.trim();
    if (crs) data.append('crs', crs);
    if (layer.raster) {
      const sheet = form.querySelector('.ly-sheet').value.trim();
      if (sheet) data.append('sheet', sheet);
    } else {
      data.append('mode', form.querySelector('.ly-mode').value);
    }
    if (dryRun) data.append('dry_run', '1');
    this.busy[layer.id] = true;
    this.results[layer.id] = { kind: 'info', key: [dryRun ? 'checking' : 'uploading'] };
    this.render();
    let result;
    try {
      const response = await this.api(`/api/layers/${encodeURIComponent(layer.id)}/uploads`,
        { method: 'POST', body: data });
      if (!response.ok) {
        result = await this.refusal(response);
      } else {
        const answer = await response.json();
        const sheets = (answer.sheets || []).length;
        const list = (answer.sheets || []).map((s) => s.sheet).join(', ');
        // Kept as a key and its values: the message follows the page's language.
        const key = answer.unchanged ? ['unchanged']
          : dryRun ? (layer.raster ? ['checkedSheets', { n: sheets, list }] : ['checked', { n: answer.features_in_file }])
            : layer.raster ? ['uploadedSheets', { version: answer.version, n: sheets }]
              : ['uploaded', { version: answer.version, n: answer.feature_count }];
        result = { kind: 'ok', key, report: answer.report, dryRun };
      }
    } catch (error) {
      result = { kind: 'error', text: error.message };
    }
    this.busy[layer.id] = false;
    this.results[layer.id] = result;
    if (result.kind === 'ok' && !dryRun) await this.refresh(layer.id);
    else this.render();
  }

  async restore(layer, version) {
    this.busy[layer.id] = true;
    this.results[layer.id] = { kind: 'info', key: ['restoring'] };
    this.render();
    let result;
    try {
      const response = await this.api(
        `/api/layers/${encodeURIComponent(layer.id)}/versions/${encodeURIComponent(version)}/restore`, { method: 'POST' });
      if (!response.ok) {
        result = await this.refusal(response);
      } else {
        const answer = await response.json();
        // A vector restore makes the version current again; a raster restore makes a new version.
        const key = answer.unchanged ? 'restoredSame' : layer.raster ? 'restored' : 'restoredVector';
        result = { kind: 'ok', key: [key, { from: version, version: answer.version }] };
      }
    } catch (error) {
      result = { kind: 'error', text: error.message };
    }
    this.busy[layer.id] = false;
    this.results[layer.id] = result;
    await this.refresh(layer.id);
  }

  currentText(layer) {
    if (!layer.current) return this.t('none');
    if (layer.raster) {
      const shown = [...new Set((this.versions[layer.id] || []).flatMap((v) => v.sheets.filter((s) => s.current)
        .map((s) => s.sheet)))];
      return `${this.t('version')} ${layer.current.newest_version} · ${this.t('sheetsShown', { list: shown.join(', ') })}`;
    }
    return `${this.t('version')} ${layer.current.version} · ${this.t('features', { n: layer.current.feature_count })}`;
  }

  renderResult(layer) {
    const r = this.results[layer.id];
    if (!r) return null;
    const box = el('div', { class: `ly-result ${r.kind}`, role: 'status', 'data-kind': r.kind,
      'data-code': r.problem?.type ? r.problem.type.replace('urn:geoservice:problem:', '') : null },
    el('p', { class: 'ly-text' }, r.key ? this.t(...r.key) : r.problem ? `${this.t('refused')}: ${r.text}` : r.text));
    if (r.problem) {
      const where = this.where(r.problem);
      if (where) box.append(el('p', { class: 'ly-where' }, `${this.t('where')}: ${where}`));
      const errors = r.problem.errors || [];
      if (errors.length) {
        box.append(el('ul', { class: 'ly-errors' }, ...errors.map((e) => el('li', { 'data-code': e.code },
          e.message, this.where(e) ? ` (${this.where(e)})` : ''))));
      }
    }
    // The report's notes and repairs carry their text in every language: shown in the page's.
    const notes = r.report ? [...(r.report.repairs || []), ...(r.report.notes || [])] : [];
    if (notes.length) {
      box.append(el('p', { class: 'ly-report-title' }, this.t('report')),
        el('ul', { class: 'ly-notes' }, ...notes.map((n) => el('li', { 'data-code': n.code },
          (n.message && (n.message[this.lang] || n.message.en)) || n.code))));
    }
    return box;
  }

  renderForm(layer) {
    const kept = this.forms[layer.id];
    const busy = Boolean(this.busy[layer.id]);
    if (kept && kept[0] === this.lang) {
      for (const button of kept[1].querySelectorAll('button')) button.disabled = busy;
      return kept[1];
    }
    // The section's few layout rules inline: cabinet.css is shared by every section.
    const form = el('form', { class: 'ly-form', onsubmit: (e) => e.preventDefault(),
      style: 'display:flex;flex-wrap:wrap;gap:.5em 1.2em;align-items:flex-end' });
    const field = (key, input) => el('label', { class: 'app-field', style: 'display:flex;flex-direction:column' },
      el('span', {}, this.t(key)), input);
    form.append(field('file', el('input', { type: 'file', class: 'ly-file' })),
      field('crs', el('input', { type: 'text', class: 'ly-crs', placeholder: 'EPSG:28412', spellcheck: 'false',
        maxlength: '200' })));
    if (layer.raster) {
      form.append(field('sheet', el('input', { type: 'text', class: 'ly-sheet', placeholder: 'L-43-1', spellcheck: 'false',
        maxlength: '200' })));
    } else {
      form.append(field('mode', el('select', { class: 'ly-mode' },
        el('option', { value: 'replace' }, this.t('replace')), el('option', { value: 'append' }, this.t('append')))));
    }
    form.append(el('div', { class: 'app-actions' },
      el('button', { type: 'button', class: 'ly-check', disabled: busy ? '' : null, onclick: () => this.send(layer, form, true) },
        this.t('check')), ' ',
      el('button', { type: 'button', class: 'ly-upload', disabled: busy ? '' : null, onclick: () => this.send(layer, form, false) },
        this.t('upload'))));
    this.forms[layer.id] = [this.lang, form];
    return form;
  }

  renderVersions(layer) {
    const rows = (this.versions[layer.id] || []).slice(0, SHOWN_VERSIONS);
    if (!rows.length) return el('p', { class: 'ly-no-versions' }, this.t('noVersions'));
    const head = el('tr', {}, ...['version', 'created', 'source', 'content', 'by', 'state', 'restore']
      .map((k) => el('th', { scope: 'col' }, k === 'restore' ? '' : this.t(k))));
    const when = (iso) => (iso ? new Date(iso).toLocaleString(this.lang === 'kk' ? 'kk-KZ' : this.lang) : '');
    return el('table', { class: 'documents ly-versions', 'data-layer': layer.id }, el('thead', {}, head),
      el('tbody', {}, ...rows.map((v) => {
        const pruned = Boolean(v.pruned_at);
        const state = [v.current ? this.t('shown') : '', pruned ? this.t('pruned') : ''].filter(Boolean).join(', ');
        const content = layer.raster ? `${this.t('sheetsN', { n: v.sheets.length })}: ${v.sheets.map((s) => s.sheet).join(', ')}`
          : this.t('features', { n: v.feature_count });
        const action = v.current || pruned ? '' : el('button', {
          type: 'button', class: 'ly-restore', disabled: this.busy[layer.id] ? '' : null,
          onclick: () => this.restore(layer, v.version),
        }, this.t('restore'));
        return el('tr', { 'data-version': String(v.version), 'data-current': String(Boolean(v.current)) },
          el('td', {}, String(v.version)), el('td', {}, when(v.created_at)), el('td', {}, v.source_file || ''),
          el('td', { class: 'ly-content' }, content), el('td', {}, v.actor || v.authority || ''),
          el('td', { class: 'ly-state' }, state), el('td', {}, action));
      })));
  }

  render() {
    const parts = [el('h2', {}, this.t('title')), el('p', { class: 'ly-intro' }, this.t('intro'))];
    for (const layer of this.layers) {
      parts.push(el('div', { class: 'ly-layer', 'data-layer': layer.id, 'data-raster': String(layer.raster) },
        el('h3', {}, `${layer.names[this.lang] || layer.id} (${layer.id}, ${this.t(layer.raster ? 'raster' : 'vector')})`),
        el('p', { class: 'ly-current' }, `${this.t('current')}: ${this.currentText(layer)}`),
        this.renderForm(layer), this.renderResult(layer),
        el('h4', {}, this.t('versions')), this.renderVersions(layer)));
    }
    this.section.replaceChildren(...parts);
  }

  async show(profile) {
    this.section.hidden = true;
    this.layers = [];
    if (!profile || !profile.roles.includes(WRITER_ROLE)) return;
    await this.load(profile);
    this.results = {};
    this.section.hidden = this.layers.length === 0;
    this.render();
  }

  setLang(lang) {
    if (!UI[lang] || lang === this.lang) return;
    this.lang = lang;
    this.render();
  }
}

mountSection('layers', LayersSection, 'geoserviceLayers');
