// A licence in the public map's panel (issue 11): its obligations with due dates and statuses, and
// its history (the licence's changes and its obligations', each with basis and actor) with an
// "as of date" picker that asks GET /api/licences/{number}/history?at=DATE. Opened from a licence's
// popup (viewer.js sends 'geoservice:licence'), or by ?licence=NUMBER in the page's address. The
// panel's words are here in kk/ru/en; legal bases and problems come from the service in the
// page's language, and are asked again when the language changes ('geoservice:lang').
import { KINDS } from './obligation-kinds.js';

const UI = {
  kk: {
    title: '{number} лицензиясы', asOf: 'Күнге', show: 'Көрсету', today: 'Бүгін', close: 'Жабу',
    obligations: 'Міндеттемелер', history: 'Өзгерістер тарихы', none: 'Жоқ', loading: 'Жүктелуде…',
    failed: 'Жүктеу сәтсіз аяқталды', due: 'Мерзімі', status: 'Мәртебесі', amount: 'Сомасы, ₸', kind: 'Түрі',
    basis: 'Негіз', actor: 'Кім', effective: 'Күшіне енді', term: 'Мерзімі {date} дейін', blocks: 'Блоктар: {n}',
    notInForce: 'Бұл күні лицензия тізілімде жоқ',
    issue: 'Лицензия берілді', change: 'Лицензия өзгертілді: {fields}', opened: 'Міндеттеме ашылды',
    closed: 'Міндеттеме жабылды', changed: 'Міндеттеме өзгерді: {from} → {to}',
    overdueBadge: '{days} күн кешікті', dueBadge: '{days} күннен кейін', dueToday: 'Мерзімі бүгін',
    found: '{date} анықталды', resolved: '{date} шешілді', warned: '{days} күн бұрын ескертілді',
  },
  ru: {
    title: 'Лицензия {number}', asOf: 'На дату', show: 'Показать', today: 'Сегодня', close: 'Закрыть',
    obligations: 'Обязательства', history: 'История изменений', none: 'Нет', loading: 'Загрузка…',
    failed: 'Не удалось загрузить', due: 'Срок', status: 'Статус', amount: 'Сумма, ₸', kind: 'Вид',
    basis: 'Основание', actor: 'Кто', effective: 'Вступило в силу', term: 'Срок до {date}', blocks: 'Блоков: {n}',
    notInForce: 'На эту дату лицензии в реестре нет',
    issue: 'Лицензия выдана', change: 'Лицензия изменена: {fields}', opened: 'Обязательство открыто',
    closed: 'Обязательство закрыто', changed: 'Обязательство изменено: {from} → {to}',
    overdueBadge: 'на {days} дн.', dueBadge: 'через {days} дн.', dueToday: 'Срок сегодня',
    found: 'выявлено {date}', resolved: 'снято {date}', warned: 'предупреждение за {days} дн.',
  },
  en: {
    title: 'Licence {number}', asOf: 'As of', show: 'Show', today: 'Today', close: 'Close',
    obligations: 'Obligations', history: 'Change history', none: 'None', loading: 'Loading…',
    failed: 'Could not load', due: 'Due', status: 'Status', amount: 'Amount, ₸', kind: 'Kind',
    basis: 'Basis', actor: 'By', effective: 'Effective', term: 'Term until {date}', blocks: 'Blocks: {n}',
    notInForce: 'The licence is not in the registry on this date',
    issue: 'Licence issued', change: 'Licence changed: {fields}', opened: 'Obligation opened',
    closed: 'Obligation closed', changed: 'Obligation changed: {from} → {to}',
    overdueBadge: '{days} days late', dueBadge: 'in {days} days', dueToday: 'Due today',
    found: 'found {date}', resolved: 'resolved {date}', warned: 'warned {days} days ahead',
  },
};
const STATUSES = {
  kk: { open: 'Ашық', met: 'Орындалды', overdue: 'Мерзімі өтті', waived: 'Босатылды', active: 'Қолданыста',
    suspended: 'Тоқтатыла тұрды', terminated: 'Тоқтатылды', expired: 'Мерзімі аяқталды' },
  ru: { open: 'Открыто', met: 'Исполнено', overdue: 'Просрочено', waived: 'Освобождено', active: 'Действует',
    suspended: 'Приостановлена', terminated: 'Прекращена', expired: 'Истекла' },
  en: { open: 'Open', met: 'Met', overdue: 'Overdue', waived: 'Waived', active: 'Active',
    suspended: 'Suspended', terminated: 'Terminated', expired: 'Expired' },
};
// The fields of a licence change (cadastre/licences.py CHANGEABLE and the state's columns).
const FIELDS = {
  kk: { holder_iin: 'ЖСН', holder_bin: 'БСН', holder_name: 'Ұстаушы', kind: 'Түрі', mineral: 'Пайдалы қазба',
    blocks: 'Блоктар', geometry: 'Шекара', issued_on: 'Берілген күні', term_until: 'Мерзімі', conditions: 'Шарттары',
    status: 'Мәртебесі', source: 'Дереккөзі' },
  ru: { holder_iin: 'ИИН', holder_bin: 'БИН', holder_name: 'Владелец', kind: 'Вид', mineral: 'Полезное ископаемое',
    blocks: 'Блоки', geometry: 'Границы', issued_on: 'Дата выдачи', term_until: 'Срок', conditions: 'Условия',
    status: 'Статус', source: 'Источник' },
  en: { holder_iin: 'IIN', holder_bin: 'BIN', holder_name: 'Holder', kind: 'Kind', mineral: 'Mineral',
    blocks: 'Blocks', geometry: 'Boundary', issued_on: 'Issued on', term_until: 'Term', conditions: 'Conditions',
    status: 'Status', source: 'Source' },
};

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
  const box = document.getElementById('licence-view');
  let lang = gs.lang();
  let current = null;   // { number, at }: what the panel shows
  let asked = 0;        // answers to older questions are dropped
  const t = (key, vars = {}) => UI[lang][key].replace(/\{(\w+)\}/g, (_, k) => String(vars[k]));
  const word = (table, value) => table[lang][value] ?? value;
  // Amounts come as decimal strings (exact); grouped for reading, in the page's language.
  const money = (value) => (value === null || value === undefined ? ''
    : Number(value).toLocaleString(lang === 'en' ? 'en-GB' : `${lang}-KZ`, { maximumFractionDigits: 2 }));
  const status = (value) => el('span', { class: `status ${value}` }, word(STATUSES, value));
  // The checker's badge of an obligation (its open overdue finding, else its open warning), and
  // the findings behind it in the row's tooltip.
  const badge = (alert) => {
    if (!alert) return '';
    const text = alert.level === 'overdue' ? t('overdueBadge', { days: alert.days })
      : alert.days === 0 ? t('dueToday') : t('dueBadge', { days: alert.days });
    return el('span', { class: `badge ${alert.level}`, 'data-level': alert.level, 'data-days': String(alert.days) }, text);
  };
  const findingText = (f) => [f.kind === 'due' ? t('warned', { days: f.threshold }) : word(STATUSES, 'overdue'),
    t('found', { date: f.found_on }), f.resolved_on ? t('resolved', { date: f.resolved_on }) : ''].filter(Boolean).join(', ');
  const tooltip = (o) => [`${t('basis')}: ${o.legal_basis}`, ...(o.findings || []).map(findingText)].join('\n');

  function obligationsTable(rows) {
    if (!rows.length) return el('p', { class: 'none' }, t('none'));
    return el('table', { class: 'obligations' },
      el('tr', {}, ...['kind', 'due', 'status', 'amount'].map((k) => el('th', {}, t(k)))),
      ...rows.map((o) => el('tr', { 'data-key': o.key, 'data-status': o.status, 'data-alert': o.alert ? o.alert.level : '',
        title: tooltip(o) },
        el('td', {}, word(KINDS, o.kind)), el('td', { class: 'due' }, o.due_on), el('td', {}, status(o.status), ' ', badge(o.alert)),
        el('td', { class: 'amount' }, money(o.amount_kzt)))));
  }

  function describe(e) {
    if (e.type === 'licence') {
      if (e.action === 'issue') return t('issue');
      const fields = Object.keys(e.changes).map((f) => word(FIELDS, f)).join(', ');
      return t('change', { fields });
    }
    const what = `${word(KINDS, e.obligation.kind)} (${e.obligation.due_on})`;
    if (e.action === 'opened' && e.previous && e.previous.status !== e.obligation.status) {
      return `${t('changed', { from: word(STATUSES, e.previous.status), to: word(STATUSES, e.obligation.status) })}: ${what}`;
    }
    return `${t(e.action)}: ${what}`;
  }

  function historyList(events) {
    if (!events.length) return el('p', { class: 'none' }, t('none'));
    return el('ol', { class: 'history' }, ...events.map((e) => el('li', {
      'data-type': e.type, 'data-action': e.action, 'data-effective': e.effective_on,
      ...(e.obligation ? { 'data-key': e.obligation.key, 'data-status': e.obligation.status } : {}),
    }, el('span', { class: 'when' }, e.effective_on), ' ', el('span', { class: 'what' }, describe(e)),
    el('div', { class: 'basis' }, `${t('basis')}: ${e.basis.text ?? `#${e.basis.document}`}; ${t('actor')}: ${e.actor}`))));
  }

  function render(body, error) {
    const date = el('input', { id: 'licence-at', type: 'date', value: current.at || '' });
    const form = el('form', { class: 'as-of', onsubmit: (ev) => { ev.preventDefault(); show(current.number, date.value || null); } },
      el('label', {}, `${t('asOf')} `, date), el('button', { type: 'submit', id: 'licence-at-show' }, t('show')),
      el('button', { type: 'button', id: 'licence-at-today', onclick: () => show(current.number, null) }, t('today')));
    const head = el('div', { class: 'head' }, el('h2', {}, t('title', { number: current.number })),
      el('button', { type: 'button', class: 'close', title: t('close'), onclick: hide }, '×'));
    const parts = [head, form];
    if (error) parts.push(el('p', { class: 'error', role: 'alert' }, error));
    else if (!body) parts.push(el('p', {}, t('loading')));
    else {
      const l = body.licence;
      parts.push(el('p', { class: 'summary', 'data-at': body.at }, ...(l ? [status(l.status), ' · ',
        l.term_until ? t('term', { date: l.term_until }) : '', ' · ', t('blocks', { n: l.blocks.length })] : [t('notInForce')])));
      parts.push(el('h3', {}, t('obligations')), obligationsTable(body.obligations));
      parts.push(el('h3', {}, t('history')), historyList(body.history));
    }
    box.replaceChildren(...parts);
    box.hidden = false;
    box.dataset.number = current.number;
    box.dataset.state = error ? 'error' : body ? 'ready' : 'loading';
  }

  async function show(number, at = null) {
    current = { number, at };
    const mine = ++asked;
    render(null, null);
    const url = `/api/licences/${encodeURIComponent(number)}/history${at ? `?at=${encodeURIComponent(at)}` : ''}`;
    try {
      const response = await fetch(url, { headers: { 'Accept-Language': lang } });
      const body = await response.json();
      if (mine !== asked) return;
      if (!response.ok) render(null, body.detail || t('failed')); else render(body, null);
    } catch (err) {
      if (mine === asked) render(null, t('failed'));
    }
  }

  function hide() {
    current = null;
    box.hidden = true;
    box.replaceChildren();
  }

  document.addEventListener('geoservice:licence', (e) => show(e.detail));
  document.addEventListener('geoservice:lang', (e) => { lang = e.detail; if (current) show(current.number, current.at); });
  gs.showLicence = show;
  const wanted = new URLSearchParams(location.search).get('licence');
  if (wanted) show(wanted, new URLSearchParams(location.search).get('at'));
}

start();
