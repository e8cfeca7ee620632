// The cabinet's "workbench" section, for officers and commission members only: the queue
// (GET /api/workbench: the least time left first, overdue flagged), and for the chosen
// application its run (GET /api/applications/{number}/run: stages, due times, decisions) and the
// actions its current stage allows, with a reason. Acting signs the RFC 8785 JSON of
// {application, stage, action, reason} (cadastre/workbench.py decision_payload; reason null when
// empty) with NCALayer or the demo signer and POSTs it to /api/applications/{number}/decisions.

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
  },
};
const ACTORS = ['officer', 'commission'];

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
    await this.loadRun(number);
    this.render();
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
    // Stage names come from the server in the request's language.
    this.load().then(() => this.render());
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
