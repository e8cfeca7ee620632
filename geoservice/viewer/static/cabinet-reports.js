// The cabinet's "reports" section (issue 11), shown to a signed-in account that holds licences
// (GET /api/reports/licences): per licence its reports of work and spend with their status and
// the reason of a return (GET /api/licences/{number}/reports), and a form to submit one: year,
// spend in tenge, a summary of the works, the blocks worked and attached documents. "Sign and
// submit" signs the report's RFC 8785 JSON (NCALayer, or the demo signer) and POSTs it to
// /api/applications as kind obligation-report; the officer decides it in the workbench. A
// returned report is sent back from the applications section (its resubmit). Texts kk/ru/en.

import { documentsFieldset, el, mountSection, myDocuments, problemText, signOrSay, uploadAndAttach } from './cabinet-sign.js';

const UI = {
  kk: {
    title: 'Лицензиялар бойынша есептер', licence: 'Лицензия', submitTitle: 'Есеп беру', year: 'Есеп жылы',
    spend: 'Шығындар, теңге', summary: 'Орындалған жұмыстар (қысқаша)', blocks: 'Жұмыс жүргізілген блоктар',
    documents: 'Тіркелген құжаттар', noDocuments: 'Сізде әзірге құжат жоқ.', attach: 'Жаңа құжатты тіркеу',
    upload: 'Жүктеу', uploading: 'Жүктелуде…', uploaded: '«{name}» жүктелді және тіркелді',
    submit: 'Қол қойып, есеп беру', signing: 'Қол қойылуда…', filing: 'Берілуде…',
    filed: '{number} есебі берілді: {status}', failed: 'Сәтсіз аяқталды', noReports: 'Әзірге есеп жоқ.',
    number: 'Нөмірі', status: 'Мәртебесі', reason: 'Себебі', stage: 'Кезең', due: 'Мерзімі',
    noNcalayer: 'NCALayer іске қосылмаған: қол қою мүмкін емес.', cancelled: 'Қол қою тоқтатылды.',
    report_submitted: 'қарауда', report_accepted: 'қабылданды', report_returned: 'қайтарылды',
    status_accepted: 'қарауға қабылданды', status_returned: 'пысықтауға қайтарылды', status_refused: 'бас тартылды',
  },
  ru: {
    title: 'Отчёты по лицензиям', licence: 'Лицензия', submitTitle: 'Подать отчёт', year: 'Отчётный год',
    spend: 'Затраты, тенге', summary: 'Выполненные работы (кратко)', blocks: 'Блоки, где велись работы',
    documents: 'Приложенные документы', noDocuments: 'У вас пока нет документов.', attach: 'Приложить новый документ',
    upload: 'Загрузить', uploading: 'Загрузка…', uploaded: '«{name}» загружен и приложен',
    submit: 'Подписать и подать отчёт', signing: 'Подписание…', filing: 'Подача…',
    filed: 'Отчёт {number} подан: {status}', failed: 'Не удалось', noReports: 'Отчётов пока нет.',
    number: 'Номер', status: 'Статус', reason: 'Причина', stage: 'Этап', due: 'Срок',
    noNcalayer: 'NCALayer не запущен: подписать нельзя.', cancelled: 'Подписание отменено.',
    report_submitted: 'на рассмотрении', report_accepted: 'принят', report_returned: 'возвращён',
    status_accepted: 'принят к рассмотрению', status_returned: 'возвращён на доработку', status_refused: 'отказано',
  },
  en: {
    title: 'Reports on licences', licence: 'Licence', submitTitle: 'Submit a report', year: 'Report year',
    spend: 'Spend, tenge', summary: 'Works done (summary)', blocks: 'Blocks worked',
    documents: 'Attached documents', noDocuments: 'You have no documents yet.', attach: 'Attach a new document',
    upload: 'Upload', uploading: 'Uploading…', uploaded: '“{name}” uploaded and attached',
    submit: 'Sign and submit the report', signing: 'Signing…', filing: 'Submitting…',
    filed: 'Report {number} submitted: {status}', failed: 'Failed', noReports: 'No reports yet.',
    number: 'Number', status: 'Status', reason: 'Reason', stage: 'Stage', due: 'Due',
    noNcalayer: 'NCALayer is not running: nothing can be signed.', cancelled: 'Signing was cancelled.',
    report_submitted: 'under review', report_accepted: 'accepted', report_returned: 'returned',
    status_accepted: 'taken for review', status_returned: 'returned for revision', status_refused: 'refused',
  },
};

class ReportsSection {
  constructor(section) {
    this.section = section;
    this.lang = window.cabinet.lang;
    this.licences = [];
    this.reports = {};          // licence number -> its reports
    this.licence = null;
    this.year = new Date().getFullYear() - 1;
    this.spend = '';
    this.summary = '';
    this.blocks = '';
    this.docs = [];
    this.chosen = new Set();
    this.message = null;        // [kind, text]
    this.busy = false;
    this.loads = 0;
  }

  t(key, vars = {}) {
    return UI[this.lang][key].replace(/\{(\w+)\}/g, (_, k) => String(vars[k]));
  }

  api(path, options) {
    return window.cabinet.api(path, options);
  }

  async load() {
    // A later load (the language switched again meanwhile) wins over an earlier one.
    const seq = ++this.loads;
    const response = await this.api('/api/reports/licences');
    const licences = response.ok ? (await response.json()).licences : [];
    const reports = {};
    await Promise.all(licences.map(async (l) => {
      const r = await this.api(`/api/licences/${encodeURIComponent(l.number)}/reports`);
      if (r.ok) reports[l.number] = (await r.json()).reports;
    }));
    if (seq !== this.loads) return;
    this.licences = licences;
    this.reports = reports;
    if (!this.licences.some((l) => l.number === this.licence)) this.licence = this.licences[0]?.number ?? null;
  }

  async loadDocuments() {
    this.docs = (await myDocuments((path, options) => this.api(path, options))) ?? this.docs;
  }

  async doUpload(input) {
    await uploadAndAttach(this, input);
  }

  payload() {
    const profile = window.cabinet.profile;
    return {
      kind: 'obligation-report', applicant: profile.bin ? { bin: profile.bin } : { iin: profile.iin },
      licence: this.licence, report_year: Number.parseInt(this.year, 10),
      // A decimal text keeps the tenge exact (the server takes at most two decimals).
      spend_kzt: this.spend.replace(/\s/g, '').replace(',', '.'),
      works: { summary: this.summary.trim() },
      blocks: this.blocks.split(/[;\n]/).map((b) => b.trim()).filter(Boolean),
      documents: this.docs.map((d) => d.id).filter((id) => this.chosen.has(id)),
    };
  }

  async doSubmit() {
    if (this.busy || !this.licence) return;
    const application = this.payload();
    this.busy = true;
    this.message = ['info', this.t('signing')];
    this.render();
    try {
      const signed = await signOrSay(application, this.lang, (k) => this.t(k));
      this.message = ['info', this.t('filing')];
      this.render();
      const response = await this.api('/api/applications', { method: 'POST', json: { application, signature: signed.cms } });
      if (!response.ok) throw new Error(await problemText(response));
      const filed = await response.json();
      const why = filed.reasons.map((r) => r.message).join('; ');
      this.message = [filed.status === 'accepted' ? 'ok' : 'error',
        this.t('filed', { number: filed.number, status: this.t(`status_${filed.status}`) }) + (why ? ` — ${why}` : '')];
      if (filed.status === 'accepted') {
        this.summary = '';
        this.chosen = new Set();
      }
      await this.load();
      Promise.resolve(window.geoserviceApplications).then((view) => view?.load().then(() => view.render())).catch(() => {});
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

  renderForm() {
    const field = (key, input) => el('label', { class: 'app-field' }, el('span', {}, this.t(key)), input);
    const bind = (node, key) => { node.value = this[key]; node.addEventListener('input', () => { this[key] = node.value; }); return node; };
    const licence = el('select', { id: 'report-licence', onchange: (e) => { this.licence = e.target.value; } },
      ...this.licences.map((l) => el('option', { value: l.number, selected: l.number === this.licence ? '' : null }, l.number)));
    return el('form', { id: 'report-form', onsubmit: (e) => { e.preventDefault(); this.doSubmit(); } },
      el('h3', {}, this.t('submitTitle')),
      field('licence', licence),
      field('year', bind(el('input', { id: 'report-year', type: 'number', min: '1992', max: '2200', required: '' }), 'year')),
      field('spend', bind(el('input', { id: 'report-spend', type: 'text', inputmode: 'decimal', required: '' }), 'spend')),
      field('summary', bind(el('textarea', { id: 'report-summary', rows: '3', maxlength: '4000', required: '' }), 'summary')),
      field('blocks', bind(el('input', { id: 'report-blocks', type: 'text', spellcheck: 'false' }), 'blocks')),
      documentsFieldset(this, 'report'),
      el('div', { class: 'app-actions' },
        el('button', { type: 'submit', id: 'report-submit', disabled: this.busy ? '' : null }, this.t('submit'))),
      this.message ? el('p', { id: 'report-status', class: this.message[0], role: 'status' }, this.message[1]) : null);
  }

  renderReports(number) {
    const rows = this.reports[number] || [];
    if (!rows.length) return el('p', { class: 'report-empty' }, this.t('noReports'));
    const head = el('tr', {}, ...['number', 'year', 'spend', 'status', 'reason', 'stage']
      .map((k) => el('th', { scope: 'col' }, this.t(k))));
    return el('table', { class: 'documents report-list', 'data-licence': number }, el('thead', {}, head),
      el('tbody', {}, ...rows.map((r) => el('tr', { 'data-number': r.number, 'data-status': r.status },
        el('td', {}, r.number), el('td', {}, String(r.report_year)), el('td', {}, r.spend_kzt ?? ''),
        el('td', { class: 'status' }, this.t(`report_${r.status}`)), el('td', { class: 'reason' }, r.reason || ''),
        el('td', { class: 'stage' }, [r.stage_name, r.due_at ? `${this.t('due')}: ${this.when(r.due_at)}` : ''].filter(Boolean).join(' · '))))));
  }

  render() {
    const parts = [el('h2', {}, this.t('title')), this.renderForm()];
    for (const l of this.licences) parts.push(el('h3', {}, `${this.t('licence')} ${l.number}`), this.renderReports(l.number));
    this.section.replaceChildren(...parts);
  }

  async show(profile) {
    this.section.hidden = true;
    if (!profile) return;
    await Promise.all([this.load(), this.loadDocuments()]);
    // Only a holder of licences has anything to report.
    this.section.hidden = this.licences.length === 0;
    this.render();
  }

  setLang(lang) {
    if (!UI[lang] || lang === this.lang) return;
    this.lang = lang;
    this.render();
    // Stage names come from the server in the request's language.
    if (window.cabinet.profile) this.load().then(() => this.render());
  }
}

mountSection('reports', ReportsSection, 'geoserviceReports');
