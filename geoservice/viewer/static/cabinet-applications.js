// The cabinet's "applications" section, for every signed-in person: a parcel as a block list,
// the kind and the mineral; "Check" asks POST /api/parcels/check and lists what it finds;
// "Sign and file" signs the application's RFC 8785 JSON (NCALayer, or the demo signer) and
// POSTs it to /api/applications, then shows the number, receipt time, status and reasons; below,
// the person's applications (GET /api/applications) with where their procedure stands.
// Loaded by the cabinet page into <section id="applications">; texts in kk/ru/en.

import { el, problemText, signCanonical } from './cabinet-sign.js';

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
      mineral: this.mineral, documents: [],
    };
    this.busy = true;
    this.filed = null;
    this.check = null;
    this.message = ['info', this.t('signing')];
    this.render();
    try {
      let signed;
      try {
        signed = await signCanonical(application, this.lang);
      } catch (error) {
        const text = { unavailable: this.t('noNcalayer'), cancelled: this.t('cancelled') }[error.message];
        throw new Error(text || error.message);
      }
      this.message = ['info', this.t('filing')];
      this.render();
      const response = await this.api('/api/applications', {
        method: 'POST', json: { application, signature: signed.cms },
      });
      if (!response.ok) throw new Error(await problemText(response));
      this.filed = await response.json();
      this.message = null;
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
      field('blocks', blocks),
      field('kind', select('app-kind', this.kind, UI[this.lang].kinds, (e) => { this.kind = e.target.value; })),
      field('mineral', select('app-mineral', this.mineral, minerals, (e) => { this.mineral = e.target.value; })),
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
      const body = this.rows.map((a) => el('tr', { 'data-number': a.number, 'data-status': a.status },
        el('td', {}, a.number), el('td', {}, this.when(a.received_at)),
        el('td', {}, UI[this.lang].kinds[a.kind] || a.kind), el('td', {}, String(a.block_count ?? '')),
        el('td', { class: 'status' }, this.t(`status_${a.status}`)),
        el('td', { class: 'stage' }, a.status === 'accepted' ? this.where(a) : a.reasons.map((r) => r.message).join('; '))));
      parts.push(el('table', { id: 'app-list', class: 'documents' }, el('thead', {}, head), el('tbody', {}, ...body)));
    }
    this.section.replaceChildren(...parts);
  }

  async show(profile) {
    this.section.hidden = !profile;
    if (!profile) return;
    await Promise.all([this.load(), this.defaultBlocks()]);
    this.render();
  }

  setLang(lang) {
    if (!UI[lang] || lang === this.lang) return;
    this.lang = lang;
    this.render();
    // Reasons and stage names come from the server in the request's language.
    if (window.cabinet.profile) this.load().then(() => this.render());
  }
}

const here = document.getElementById('applications');
if (here && window.cabinet) {
  const view = new ApplicationsSection(here);
  window.cabinet.on((what, value) => {
    if (what === 'lang') view.setLang(value);
    else if (what === 'user') view.show(value).then(() => { here.dataset.ready = 'true'; });
  });
  if (window.cabinet.profile) view.show(window.cabinet.profile).then(() => { here.dataset.ready = 'true'; });
  window.geoserviceApplications = view;
}
