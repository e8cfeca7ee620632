// The cabinet's "applications" section, for every signed-in person: a parcel as a block list,
// the kind and the mineral; "Check" asks POST /api/parcels/check and lists what it finds;
// "Sign and file" signs the application's RFC 8785 JSON (NCALayer, or the demo signer) and
// POSTs it to /api/applications, then shows the number, receipt time, status and reasons; below,
// the person's applications (GET /api/applications) with where their procedure stands.
// Loaded by the cabinet page into <section id="applications">; texts in kk/ru/en.

import { documentsFieldset, el, mountSection, myDocuments, problemText, signOrSay, uploadAndAttach } from './cabinet-sign.js';

const UI = {
  kk: {
    title: 'Өтінімдерім', newTitle: 'Жаңа өтінім', blocks: 'Блоктар (тізім)', kind: 'Түрі', mineral: 'Пайдалы қазба',
    check: 'Тексеру', file: 'Қол қойып, беру', checking: 'Тексерілуде…', signing: 'Қол қойылуда…',
    filing: 'Берілуде…', ok: 'Учаскені беруге болады', notOk: 'Учаскеде бас тарту себептері бар',
    area: 'Ауданы {area} км², блоктар: {count}', number: 'Нөмірі', received: 'Қабылданды', status: 'Мәртебесі',
    reasons: 'Себептер', noApplications: 'Әзірге өтінім жоқ.', stage: 'Кезең', due: 'Мерзімі',
    noNcalayer: 'NCALayer іске қосылмаған: қол қою мүмкін емес.', cancelled: 'Қол қою тоқтатылды.',
    failed: 'Сәтсіз аяқталды', blocksCount: 'Блоктар',
    status_accepted: 'қабылданды', status_returned: 'пысықтауға қайтарылды', status_refused: 'бас тартылды',
    outcome_granted: 'мақұлданды', outcome_refused: 'бас тартылды',
    kinds: { 'exploration-licence': 'Барлауға лицензия' },
    documents: 'Құжаттар', noDocuments: 'Сізде әзірге құжат жоқ.', attach: 'Жаңа құжатты тіркеу',
    upload: 'Жүктеу', uploading: 'Жүктелуде…', uploaded: '«{name}» жүктелді және тіркелді',
    resubmit: 'Пысықтаудан кейін қайта жіберу', resubmitNote: 'Түсініктеме (міндетті емес)',
    resubmitted: '{number} өтінімі қайта жіберілді', returnedWhy: 'Қайтару себебі',
    fromMap: 'Блоктар картадан алынды',
  },
  ru: {
    title: 'Мои заявления', newTitle: 'Новое заявление', blocks: 'Блоки (список)', kind: 'Вид', mineral: 'Полезное ископаемое',
    check: 'Проверить', file: 'Подписать и подать', checking: 'Проверка…', signing: 'Подписание…',
    filing: 'Подача…', ok: 'Участок можно подать', notOk: 'У участка есть причины для отказа',
    area: 'Площадь {area} км², блоков: {count}', number: 'Номер', received: 'Принято', status: 'Статус',
    reasons: 'Причины', noApplications: 'Заявлений пока нет.', stage: 'Этап', due: 'Срок',
    noNcalayer: 'NCALayer не запущен: подписать нельзя.', cancelled: 'Подписание отменено.',
    failed: 'Не удалось', blocksCount: 'Блоков',
    status_accepted: 'принято', status_returned: 'возвращено на доработку', status_refused: 'отказано',
    outcome_granted: 'одобрено', outcome_refused: 'отказано',
    kinds: { 'exploration-licence': 'Лицензия на разведку' },
    documents: 'Документы', noDocuments: 'У вас пока нет документов.', attach: 'Приложить новый документ',
    upload: 'Загрузить', uploading: 'Загрузка…', uploaded: '«{name}» загружен и приложен',
    resubmit: 'Отправить после доработки', resubmitNote: 'Комментарий (необязательно)',
    resubmitted: 'Заявление {number} отправлено повторно', returnedWhy: 'Причина возврата',
    fromMap: 'Блоки взяты с карты',
  },
  en: {
    title: 'My applications', newTitle: 'New application', blocks: 'Blocks (list)', kind: 'Kind', mineral: 'Mineral',
    check: 'Check', file: 'Sign and file', checking: 'Checking…', signing: 'Signing…',
    filing: 'Filing…', ok: 'The parcel can be filed for', notOk: 'The parcel has reasons for refusal',
    area: 'Area {area} km², blocks: {count}', number: 'Number', received: 'Received', status: 'Status',
    reasons: 'Reasons', noApplications: 'No applications yet.', stage: 'Stage', due: 'Due',
    noNcalayer: 'NCALayer is not running: nothing can be signed.', cancelled: 'Signing was cancelled.',
    failed: 'Failed', blocksCount: 'Blocks',
    status_accepted: 'accepted', status_returned: 'returned for revision', status_refused: 'refused',
    outcome_granted: 'approved', outcome_refused: 'refused',
    kinds: { 'exploration-licence': 'Exploration licence' },
    documents: 'Documents', noDocuments: 'You have no documents yet.', attach: 'Attach a new document',
    upload: 'Upload', uploading: 'Uploading…', uploaded: '“{name}” uploaded and attached',
    resubmit: 'Send back after revision', resubmitNote: 'Comment (optional)',
    resubmitted: 'Application {number} sent back', returnedWhy: 'Reason for return',
    fromMap: 'Blocks taken from the map',
  },
};
// The solid minerals of cadastre/applications.py MINERALS (an exploration licence's group).
const MINERALS = {
  gold: { kk: 'Алтын', ru: 'Золото', en: 'Gold' },
  copper: { kk: 'Мыс', ru: 'Медь', en: 'Copper' },
  'iron-ore': { kk: 'Темір кені', ru: 'Железная руда', en: 'Iron ore' },
  polymetals: { kk: 'Полиметалдар', ru: 'Полиметаллы', en: 'Polymetals' },
  coal: { kk: 'Көмір', ru: 'Уголь', en: 'Coal' },
  'rare-earths': { kk: 'Сирек жер металдары', ru: 'Редкоземельные металлы', en: 'Rare-earth metals' },
  uranium: { kk: 'Уран', ru: 'Уран', en: 'Uranium' },
};
// The demo's open programme area SF-2026-001 (importers/demo.py), two blocks; replaced by free
// blocks of the programme's first open area when the server lists one.
const DEFAULT_BLOCKS = 'L-42-70-(10а-5в-11,12)';
// Blocks picked on the public map arrive as /cabinet?blocks=… (parcel-check.js). They are kept
// for this tab until the form takes them, so that a sign-in's redirect back to /cabinet keeps them.
const FROM_MAP = 'geoservice.filing.blocks';
const fromUrl = new URLSearchParams(location.search).get('blocks');
if (fromUrl && fromUrl.trim()) sessionStorage.setItem(FROM_MAP, fromUrl.trim().slice(0, 20000));

class ApplicationsSection {
  constructor(section) {
    this.section = section;
    this.lang = window.cabinet.lang;
    this.blocks = DEFAULT_BLOCKS;
    this.kind = 'exploration-licence';
    this.mineral = 'gold';
    this.check = null;      // the last parcel check's answer, or [error text]
    this.filed = null;      // the last filing's answer
    this.message = null;    // [kind, text]
    this.rows = [];
    this.runs = {};
    this.busy = false;
    this.docs = [];          // the person's own documents (GET /api/documents?mine=true)
    this.chosen = new Set(); // ids of those attached to the application
    this.fromMap = false;    // the blocks came from the map: check them at once
  }

  t(key, vars = {}) {
    return UI[this.lang][key].replace(/\{(\w+)\}/g, (_, k) => String(vars[k]));
  }

  api(path, options) {
    return window.cabinet.api(path, options);
  }

  async defaultBlocks() {
    const response = await this.api('/api/programme?limit=20&blocks=4');
    if (!response.ok) return;
    const body = await response.json();
    const area = (body.areas || body.features || []).find((a) => a.open && a.blocks && a.blocks.codes?.length >= 2);
    if (area && this.blocks === DEFAULT_BLOCKS) this.blocks = area.blocks.codes.slice(0, 2).join('; ');
  }

  async load() {
    const response = await this.api('/api/applications?limit=50');
    if (!response.ok) {
      this.message = ['error', await problemText(response)];
      return;
    }
    this.rows = (await response.json()).applications;
    // Where each accepted application's procedure stands (the run: stage, due time, outcome).
    await Promise.all(this.rows.filter((a) => a.status === 'accepted').map(async (a) => {
      const run = await this.api(`/api/applications/${encodeURIComponent(a.number)}/run`);
      if (run.ok) this.runs[a.number] = await run.json();
    }));
  }

  parcel() {
    return { blocks: this.blocks.trim() };
  }

  async loadDocuments() {
    this.docs = (await myDocuments((path, options) => this.api(path, options))) ?? this.docs;
  }

  async doUpload(input) {
    // The documents section below lists it too.
    if (await uploadAndAttach(this, input)) {
      Promise.resolve(window.geoserviceDocuments).then((view) => view?.load()).catch(() => {});
    }
  }

  // The owner's signed decision at the revision stage (cadastre/workbench.py decision_payload):
  // {application, stage: "revision", action: "forward", reason}, signed as every payload is.
  async doResubmit(number, note) {
    if (this.busy) return;
    const reason = note.trim() || null;
    this.busy = true;
    this.message = ['info', this.t('signing')];
    this.render();
    try {
      const signed = await signOrSay({ application: number, stage: 'revision', action: 'forward', reason }, this.lang, (k) => this.t(k));
      const response = await this.api(`/api/applications/${encodeURIComponent(number)}/resubmit`, {
        method: 'POST', json: { reason, signature: signed.cms },
      });
      if (!response.ok) throw new Error(await problemText(response));
      this.runs[number] = await response.json();
      this.message = ['ok', this.t('resubmitted', { number })];
      await this.load();
    } catch (error) {
      this.message = ['error', `${this.t('failed')}: ${error.message}`];
    } finally {
      this.busy = false;
      this.render();
    }
  }

  async doCheck() {
    this.message = null;
    this.check = null;
    this.render();
    const response = await this.api('/api/parcels/check', { method: 'POST', json: { parcel: this.parcel() } });
    this.check = response.ok ? await response.json() : [await problemText(response)];
    this.render();
  }

  async doFile() {
    if (this.busy) return;
    const profile = window.cabinet.profile;
    const application = {
      kind: this.kind, parcel: this.parcel(),
      applicant: profile.bin ? { bin: profile.bin } : { iin: profile.iin },
      mineral: this.mineral, documents: this.docs.map((d) => d.id).filter((id) => this.chosen.has(id)),
    };
    this.busy = true;
    this.filed = null;
    this.check = null;
    this.message = ['info', this.t('signing')];
    this.render();
    try {
      const signed = await signOrSay(application, this.lang, (k) => this.t(k));
      this.message = ['info', this.t('filing')];
      this.render();
      const response = await this.api('/api/applications', {
        method: 'POST', json: { application, signature: signed.cms },
      });
      if (!response.ok) throw new Error(await problemText(response));
      this.filed = await response.json();
      this.message = null;
      this.chosen = new Set();
      this.fromMap = false;
      await this.load();
    } catch (error) {
      this.message = ['error', `${this.t('failed')}: ${error.message}`];
    } finally {
      this.busy = false;
      this.render();
    }
  }

  when(iso) {
    return iso ? new Date(iso).toLocaleString(this.lang === 'kk' ? 'kk-KZ' : this.lang) : '';
  }

  reasons(list) {
    return el('ul', { class: 'app-reasons' }, ...list.map((r) => el('li', { 'data-code': r.code },
      [r.block, r.message].filter(Boolean).join(': '))));
  }

  renderCheck() {
    if (!this.check) return null;
    if (Array.isArray(this.check)) return el('p', { id: 'app-check-result', class: 'error', role: 'status' }, this.check[0]);
    const c = this.check;
    return el('div', { id: 'app-check-result', class: c.ok ? 'ok' : 'error', role: 'status' },
      el('p', {}, `${c.ok ? this.t('ok') : this.t('notOk')} · ${this.t('area', {
        area: Number(c.area_km2).toFixed(2), count: c.blocks.count })}`),
      el('ul', { class: 'app-overlaps' }, ...c.overlaps.map((o) => el('li', { class: o.severity, 'data-kind': o.kind },
        o.message))));
  }

  renderFiled() {
    const f = this.filed;
    if (!f) return null;
    const rows = [[this.t('number'), f.number], [this.t('received'), this.when(f.received_at)],
      [this.t('status'), this.t(`status_${f.status}`)]];
    return el('div', { id: 'app-filed', class: `filed-${f.status}`, 'data-number': f.number },
      el('dl', {}, ...rows.flatMap(([k, v]) => [el('dt', {}, k), el('dd', {}, v)])),
      f.reasons.length ? this.reasons(f.reasons) : null);
  }

  returned(a) {
    const run = this.runs[a.number];
    return Boolean(run && run.status === 'returned' && run.role === 'applicant');
  }

  renderReturned(a) {
    const run = this.runs[a.number];
    const back = [...run.steps].reverse().find((s) => s.action === 'return');
    const note = el('input', { type: 'text', class: 'app-resubmit-note', maxlength: '500',
      placeholder: this.t('resubmitNote'), 'aria-label': this.t('resubmitNote') });
    return el('div', { class: 'app-returned' },
      back?.reason ? el('p', { class: 'app-return-reason' }, `${this.t('returnedWhy')}: ${back.reason}`) : null,
      note,
      el('button', { type: 'button', class: 'app-resubmit', disabled: this.busy ? '' : null,
        onclick: () => this.doResubmit(a.number, note.value) }, this.t('resubmit')));
  }

  renderDocuments() {
    return documentsFieldset(this, 'app');
  }

  where(a) {
    const run = this.runs[a.number];
    if (!run) return '';
    if (run.status === 'finished') return this.t(`outcome_${run.outcome}`);
    const step = run.steps.find((s) => s.stage === run.stage);
    return [step ? step.name : run.stage, run.due_at ? `${this.t('due')}: ${this.when(run.due_at)}` : '']
      .filter(Boolean).join(' · ');
  }

  render() {
    const select = (id, value, options, onchange) => el('select', { id, onchange },
      ...Object.entries(options).map(([k, name]) => el('option', { value: k, selected: k === value ? '' : null }, name)));
    const field = (key, input) => el('label', { class: 'app-field' }, el('span', {}, this.t(key)), input);
    const blocks = el('textarea', { id: 'app-blocks', rows: '2', spellcheck: 'false' });
    blocks.value = this.blocks;
    blocks.addEventListener('input', () => { this.blocks = blocks.value; this.check = null; });
    const minerals = Object.fromEntries(Object.entries(MINERALS).map(([k, names]) => [k, names[this.lang]]));
    const form = el('form', { id: 'app-form', onsubmit: (e) => { e.preventDefault(); this.doFile(); } },
      el('h3', {}, this.t('newTitle')),
      this.fromMap ? el('p', { id: 'app-from-map', class: 'info' }, this.t('fromMap')) : null,
      field('blocks', blocks),
      field('kind', select('app-kind', this.kind, UI[this.lang].kinds, (e) => { this.kind = e.target.value; })),
      field('mineral', select('app-mineral', this.mineral, minerals, (e) => { this.mineral = e.target.value; })),
      this.renderDocuments(),
      el('div', { class: 'app-actions' },
        el('button', { type: 'button', id: 'app-check', onclick: () => this.doCheck() }, this.t('check')),
        el('button', { type: 'submit', id: 'app-file', disabled: this.busy ? '' : null }, this.t('file'))),
      this.renderCheck(),
      this.message ? el('p', { id: 'app-status', class: this.message[0], role: 'status' }, this.message[1]) : null,
      this.renderFiled());
    const parts = [el('h2', {}, this.t('title')), form];
    if (this.rows.length === 0) {
      parts.push(el('p', { class: 'app-empty' }, this.t('noApplications')));
    } else {
      const head = el('tr', {}, ...['number', 'received', 'kind', 'blocksCount', 'status', 'stage']
        .map((k) => el('th', { scope: 'col' }, this.t(k))));
      const body = this.rows.map((a) => el('tr', { 'data-number': a.number, 'data-status': a.status,
        'data-run': this.runs[a.number]?.status },
        el('td', {}, a.number), el('td', {}, this.when(a.received_at)),
        el('td', {}, UI[this.lang].kinds[a.kind] || a.kind), el('td', {}, String(a.block_count ?? '')),
        // A run returned to the applicant reads as the application returned for revision.
        el('td', { class: 'status' }, this.t(`status_${this.returned(a) ? 'returned' : a.status}`)),
        el('td', { class: 'stage' }, a.status === 'accepted' ? this.where(a) : a.reasons.map((r) => r.message).join('; '),
          this.returned(a) ? this.renderReturned(a) : null)));
      parts.push(el('table', { id: 'app-list', class: 'documents' }, el('thead', {}, head), el('tbody', {}, ...body)));
    }
    this.section.replaceChildren(...parts);
  }

  async show(profile) {
    this.section.hidden = !profile;
    if (!profile) return;
    const picked = sessionStorage.getItem(FROM_MAP);
    if (picked) {
      sessionStorage.removeItem(FROM_MAP);
      // Taken once: a reload after filing must not bring the same blocks back.
      const url = new URL(location.href);
      if (url.searchParams.has('blocks')) {
        url.searchParams.delete('blocks');
        history.replaceState(null, '', url);
      }
      this.blocks = picked;
      this.fromMap = true;
    }
    await Promise.all([this.load(), this.defaultBlocks(), this.loadDocuments()]);
    this.render();
    if (picked) {
      this.section.scrollIntoView({ block: 'start' });
      await this.doCheck();
    }
  }

  setLang(lang) {
    if (!UI[lang] || lang === this.lang) return;
    this.lang = lang;
    this.render();
    // Reasons and stage names come from the server in the request's language.
    if (window.cabinet.profile) this.load().then(() => this.render());
  }
}

mountSection('applications', ApplicationsSection, 'geoserviceApplications');
