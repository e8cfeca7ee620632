// The cabinet's obligations section (issue 11). A holder of licences sees, per licence it holds,
// the obligations still to be done with their due dates and badges (overdue in red, coming due in
// orange with "in N days") and the checker's open findings, deviations of its reports included
// (GET /api/obligations/mine). An officer (admin, auditor) sees the open findings of the licences
// under their supervision, newest first (GET /api/obligations/supervised). Findings' messages come
// from the service in the cabinet's language; the section's own words are here in kk/ru/en.

import { el, mountSection, problemText, signOrSay } from './cabinet-sign.js';
import { KINDS } from './obligation-kinds.js';

const UI = {
  kk: {
    mine: 'Лицензияларымның міндеттемелері', supervised: 'Қадағалаудағы міндеттемелер', licence: 'Лицензия',
    kind: 'Түрі', due: 'Мерзімі', status: 'Мәртебесі', findings: 'Ашық ескертулер', noObligations: 'Орындалатын міндеттеме жоқ.',
    noFindings: 'Ашық ескерту жоқ.', finding: 'Ескерту', found: 'Анықталды', message: 'Хабарлама', holder: 'Ұстаушы',
    overdueBadge: 'Мерзімі өтті ({days} күн)', dueBadge: '{days} күннен кейін', dueToday: 'Бүгін',
    open: 'Ашық', overdue: 'Мерзімі өтті', finding_due: 'мерзімі жақын', finding_overdue: 'мерзімі өтті',
    finding_deviation: 'ауытқу',
    act: 'Шешім', basisPh: 'Негіз (мыс. төлем тапсырмасы №)', amountPh: 'Сома, ₸', recordMet: 'Орындалды деп белгілеу',
    noNcalayer: 'NCALayer іске қосылмаған', cancelled: 'Қол қою тоқтатылды', recorded: 'Шешім қол қойылып, сақталды',
    needBasis: 'Негізін көрсетіңіз',
  },
  ru: {
    mine: 'Обязательства по моим лицензиям', supervised: 'Обязательства под надзором', licence: 'Лицензия',
    kind: 'Вид', due: 'Срок', status: 'Статус', findings: 'Открытые замечания', noObligations: 'Неисполненных обязательств нет.',
    noFindings: 'Открытых замечаний нет.', finding: 'Замечание', found: 'Выявлено', message: 'Сообщение', holder: 'Владелец',
    overdueBadge: 'Просрочено ({days} дн.)', dueBadge: 'через {days} дн.', dueToday: 'Сегодня',
    open: 'Открыто', overdue: 'Просрочено', finding_due: 'срок близко', finding_overdue: 'просрочено',
    finding_deviation: 'отклонение',
    act: 'Решение', basisPh: 'Основание (напр. платёжное поручение №)', amountPh: 'Сумма, ₸',
    recordMet: 'Отметить исполненным', noNcalayer: 'NCALayer не запущен', cancelled: 'Подписание отменено',
    recorded: 'Решение подписано и сохранено', needBasis: 'Укажите основание',
  },
  en: {
    mine: "My licences' obligations", supervised: 'Obligations under supervision', licence: 'Licence',
    kind: 'Kind', due: 'Due', status: 'Status', findings: 'Open findings', noObligations: 'No obligations to meet.',
    noFindings: 'No open findings.', finding: 'Finding', found: 'Found', message: 'Message', holder: 'Holder',
    overdueBadge: 'Overdue ({days} days)', dueBadge: 'in {days} days', dueToday: 'Today',
    open: 'Open', overdue: 'Overdue', finding_due: 'coming due', finding_overdue: 'overdue',
    finding_deviation: 'deviation',
    act: 'Decision', basisPh: 'Basis (e.g. payment order No.)', amountPh: 'Amount, ₸', recordMet: 'Record as met',
    noNcalayer: 'NCALayer is not running', cancelled: 'Signing was cancelled', recorded: 'The decision is signed and saved',
    needBasis: 'Give the basis',
  },
};
const SUPERVISORS = ['officer', 'admin', 'auditor'];
// Who may record a signed decision on an obligation (POST /api/licences/{n}/obligations/{key}/decisions).
const DECIDERS = ['officer', 'admin'];

// Today in Kazakhstan (UTC+5): the day a decision takes effect.
function kazakhstanToday() {
  return new Date(Date.now() + 5 * 3600 * 1000).toISOString().slice(0, 10);
}

class ObligationsSection {
  constructor(section) {
    this.section = section;
    this.lang = window.cabinet.lang;
    this.licences = [];
    this.supervised = null;     // null: not a supervisor
    this.decider = false;
    this.loads = 0;
  }

  t(key, vars = {}) {
    return UI[this.lang][key].replace(/\{(\w+)\}/g, (_, k) => String(vars[k]));
  }

  async load(profile) {
    // A later load (the language switched again meanwhile) wins over an earlier one.
    const seq = ++this.loads;
    const supervisor = profile.roles.some((r) => SUPERVISORS.includes(r));
    const [mine, watched] = await Promise.all([
      window.cabinet.api('/api/obligations/mine'),
      supervisor ? window.cabinet.api('/api/obligations/supervised') : null,
    ]);
    const licences = mine.ok ? (await mine.json()).licences : [];
    const supervised = watched && watched.ok ? (await watched.json()).findings : null;
    if (seq !== this.loads) return;
    this.licences = licences;
    this.supervised = supervised;
    this.decider = profile.roles.some((r) => DECIDERS.includes(r));
  }

  // An officer's signed decision that the finding's obligation is met (a payment received, a
  // relinquishment done): what is signed is exactly what is sent (RFC 8785 JSON, detached CMS).
  decideCell(f) {
    if (!this.decider || f.kind === 'deviation') return el('td', {});
    const basis = el('input', { type: 'text', class: 'ob-basis', placeholder: this.t('basisPh'), maxlength: '1000' });
    const amount = el('input', { type: 'text', class: 'ob-amount', placeholder: this.t('amountPh'), size: '12',
      inputmode: 'decimal' });
    const out = el('span', { class: 'ob-out', role: 'status' });
    const button = el('button', { type: 'button', class: 'ob-met' }, this.t('recordMet'));
    button.addEventListener('click', async () => {
      const text = basis.value.trim();
      if (!text) { out.textContent = this.t('needBasis'); return; }
      const sum = amount.value.trim().replace(/\s/g, '').replace(',', '.');
      const decision = { licence: f.licence, obligation: f.key, status: 'met', basis: text,
        effective_on: kazakhstanToday(), document: null, amount_kzt: sum || null };
      button.disabled = true;
      try {
        const signed = await signOrSay(decision, this.lang, (k) => this.t(k));
        const response = await window.cabinet.api(
          `/api/licences/${encodeURIComponent(f.licence)}/obligations/${encodeURIComponent(f.key)}/decisions`,
          { method: 'POST', headers: { 'Content-Type': 'application/json' },
            body: JSON.stringify({ decision, signature: signed.cms }) });
        if (!response.ok) throw new Error(await problemText(response));
        out.textContent = this.t('recorded');
        out.dataset.done = 'true';
        const profile = window.cabinet.profile;
        if (profile) setTimeout(() => this.load(profile).then(() => this.render()), 800);
      } catch (error) {
        out.textContent = error.message;
        button.disabled = false;
      }
    });
    return el('td', { class: 'ob-decide' }, basis, ' ', amount, ' ', button, ' ', out);
  }

  badge(alert) {
    if (!alert) return null;
    const text = alert.level === 'overdue' ? this.t('overdueBadge', { days: alert.days })
      : alert.days === 0 ? this.t('dueToday') : this.t('dueBadge', { days: alert.days });
    return el('span', { class: `ob-badge ${alert.level}`, 'data-level': alert.level, 'data-days': String(alert.days) }, text);
  }

  obligations(l) {
    if (!l.obligations.length) return el('p', { class: 'ob-empty' }, this.t('noObligations'));
    const head = el('tr', {}, ...['kind', 'due', 'status'].map((k) => el('th', { scope: 'col' }, this.t(k))));
    return el('table', { class: 'documents ob-list', 'data-licence': l.number }, el('thead', {}, head),
      el('tbody', {}, ...l.obligations.map((o) => el('tr', {
        'data-key': o.key, 'data-status': o.status, 'data-alert': o.alert ? o.alert.level : '', title: o.legal_basis,
      }, el('td', {}, KINDS[this.lang][o.kind] ?? o.kind), el('td', { class: 'due-on' }, o.due_on),
      el('td', { class: 'status' }, this.t(o.status === 'overdue' ? 'overdue' : 'open'), ' ', this.badge(o.alert))))));
  }

  findings(rows, withLicence) {
    if (!rows.length) return el('p', { class: 'ob-empty' }, this.t('noFindings'));
    const acting = withLicence && this.decider;
    const cols = [...(withLicence ? ['licence', 'holder'] : []), 'found', 'finding', 'message',
      ...(acting ? ['act'] : [])];
    return el('table', { class: 'documents ob-findings' },
      el('thead', {}, el('tr', {}, ...cols.map((k) => el('th', { scope: 'col' }, this.t(k))))),
      el('tbody', {}, ...rows.map((f) => el('tr', {
        'data-id': String(f.id), 'data-kind': f.kind, 'data-key': f.key, ...(withLicence ? { 'data-licence': f.licence } : {}),
      }, ...(withLicence ? [el('td', {}, f.licence), el('td', {}, f.holder ?? '')] : []),
      el('td', { class: 'found-on' }, f.found_on), el('td', { class: `ob-kind ${f.kind}` }, this.t(`finding_${f.kind}`)),
      el('td', { class: 'message' }, f.message), ...(acting ? [this.decideCell(f)] : [])))));
  }

  render() {
    const parts = [];
    if (this.licences.length) {
      parts.push(el('h2', { id: 'ob-mine-title' }, this.t('mine')));
      for (const l of this.licences) {
        parts.push(el('div', { class: 'ob-licence', 'data-licence': l.number },
          el('h3', {}, `${this.t('licence')} ${l.number}`), this.obligations(l),
          el('h4', {}, this.t('findings')), this.findings(l.findings, false)));
      }
    }
    if (this.supervised) {
      parts.push(el('h2', { id: 'ob-supervised-title' }, this.t('supervised')),
        el('div', { id: 'ob-supervised' }, this.findings(this.supervised, true)));
    }
    this.section.replaceChildren(...parts);
    this.section.hidden = parts.length === 0;
  }

  async show(profile) {
    this.section.hidden = true;
    if (!profile) return;
    await this.load(profile);
    this.render();
  }

  setLang(lang) {
    if (!UI[lang] || lang === this.lang) return;
    this.lang = lang;
    this.render();
    // Findings' messages come from the server in the request's language.
    const profile = window.cabinet.profile;
    if (profile) this.load(profile).then(() => this.render());
  }
}

mountSection('obligations', ObligationsSection, 'geoserviceObligations');
