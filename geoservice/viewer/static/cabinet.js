// The personal cabinet: sign-in with NCALayer (an attached CMS over the server's challenge, made
// with the AUTHENTICATION key), the profile from the certificate and the registers, the contacts
// the person keeps, and the notifications inbox. Texts in kk/ru/en, the language kept like the
// map's (URL ?lang=, then localStorage).

import { ncalayerCAdES } from './cabinet-sign.js';

const config = JSON.parse(document.getElementById('cabinet-config').textContent);

const UI = {
  kk: {
    map: 'Карта', logout: 'Шығу', signinTitle: 'Кабинетке кіру',
    signinIntro: 'Кабинетке электрондық цифрлық қолтаңбамен (ЭЦҚ) кіріңіз: NCALayer іске қосылған болуы керек, '
      + 'аутентификация кілтін (AUTH_…) таңдаңыз.',
    signinButton: 'NCALayer арқылы кіру', connecting: 'NCALayer-ге қосылуда…', signing: 'NCALayer-де кілтті таңдаңыз…',
    checking: 'Қолтаңба тексерілуде…',
    noNcalayer: 'NCALayer осы компьютерде іске қосылмаған (ол wss://127.0.0.1:13579 мекенжайында жауап беруі керек).\n'
      + 'NCALayer-ді pki.gov.kz сайтынан орнатып, іске қосыңыз да, қайталап көріңіз.',
    cancelled: 'Қол қою тоқтатылды.', failed: 'Кіру сәтсіз аяқталды',
    profile: 'Профиль', contacts: 'Байланыс деректері', email: 'Электрондық пошта', phone: 'Телефон',
    address: 'Мекенжай', save: 'Сақтау', saved: 'Сақталды',
    iin: 'ЖСН', bin: 'БСН', name: 'Аты-жөні', organisation: 'Ұйым', roles: 'Рөлдер', authorities: 'Органдар',
    register: 'Мемлекеттік тізілім', active: 'белсенді', liquidated: 'таратылған', taxDebt: 'салықтық берешек бар',
    noTaxDebt: 'салықтық берешек жоқ', certificate: 'Сертификат', since: 'Тіркелген күні', lastSignIn: 'Соңғы кіру',
    notifications: 'Хабарламалар', none: 'Хабарлама жоқ.', markRead: 'Оқылды', unread: 'Оқылмаған: {n}',
    role_applicant: 'өтініш беруші', role_officer: 'органның қызметкері', role_commission: 'комиссия мүшесі',
    role_admin: 'оператор әкімшісі', role_auditor: 'аудитор',
  },
  ru: {
    map: 'Карта', logout: 'Выйти', signinTitle: 'Вход в кабинет',
    signinIntro: 'Войдите в кабинет с электронной цифровой подписью (ЭЦП): NCALayer должен быть запущен, '
      + 'выберите ключ аутентификации (AUTH_…).',
    signinButton: 'Войти через NCALayer', connecting: 'Подключение к NCALayer…', signing: 'Выберите ключ в NCALayer…',
    checking: 'Проверка подписи…',
    noNcalayer: 'NCALayer не запущен на этом компьютере (он должен отвечать по адресу wss://127.0.0.1:13579).\n'
      + 'Установите NCALayer с сайта pki.gov.kz, запустите его и повторите попытку.',
    cancelled: 'Подписание отменено.', failed: 'Вход не выполнен',
    profile: 'Профиль', contacts: 'Контактные данные', email: 'Электронная почта', phone: 'Телефон',
    address: 'Адрес', save: 'Сохранить', saved: 'Сохранено',
    iin: 'ИИН', bin: 'БИН', name: 'ФИО', organisation: 'Организация', roles: 'Роли', authorities: 'Органы',
    register: 'Государственный реестр', active: 'действует', liquidated: 'ликвидировано', taxDebt: 'есть налоговая задолженность',
    noTaxDebt: 'нет налоговой задолженности', certificate: 'Сертификат', since: 'Зарегистрирован', lastSignIn: 'Последний вход',
    notifications: 'Уведомления', none: 'Уведомлений нет.', markRead: 'Прочитано', unread: 'Непрочитанных: {n}',
    role_applicant: 'заявитель', role_officer: 'сотрудник органа', role_commission: 'член комиссии',
    role_admin: 'администратор оператора', role_auditor: 'аудитор',
  },
  en: {
    map: 'Map', logout: 'Sign out', signinTitle: 'Sign in to the cabinet',
    signinIntro: 'Sign in with your electronic digital signature (EDS): NCALayer must be running; '
      + 'choose your authentication key (AUTH_…).',
    signinButton: 'Sign in with NCALayer', connecting: 'Connecting to NCALayer…', signing: 'Choose your key in NCALayer…',
    checking: 'Checking the signature…',
    noNcalayer: 'NCALayer is not running on this computer (it should answer at wss://127.0.0.1:13579).\n'
      + 'Install NCALayer from pki.gov.kz, start it and try again.',
    cancelled: 'Signing was cancelled.', failed: 'Sign-in failed',
    profile: 'Profile', contacts: 'Contacts', email: 'E-mail', phone: 'Phone',
    address: 'Address', save: 'Save', saved: 'Saved',
    iin: 'IIN', bin: 'BIN', name: 'Name', organisation: 'Organisation', roles: 'Roles', authorities: 'Authorities',
    register: 'State register', active: 'active', liquidated: 'liquidated', taxDebt: 'has tax debt',
    noTaxDebt: 'no tax debt', certificate: 'Certificate', since: 'Registered', lastSignIn: 'Last sign-in',
    notifications: 'Notifications', none: 'No notifications.', markRead: 'Mark read', unread: 'Unread: {n}',
    role_applicant: 'applicant', role_officer: 'authority officer', role_commission: 'commission member',
    role_admin: 'operator administrator', role_auditor: 'auditor',
  },
};
const LANG_NAMES = { kk: 'Қазақша', ru: 'Русский', en: 'English' };

const params = new URLSearchParams(location.search);
let lang = params.get('lang') || localStorage.getItem('geoservice.lang') || config.lang;
if (!config.langs.includes(lang)) lang = config.lang;

const $ = (id) => document.getElementById(id);
const t = (key, vars = {}) => UI[lang][key].replace(/\{(\w+)\}/g, (_, k) => String(vars[k]));
const el = (tag, attrs = {}, ...children) => {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === 'class') node.className = v; else if (k.startsWith('on')) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v);
  }
  for (const child of children) node.append(child);
  return node;
};
const when = (iso) => (iso ? new Date(iso).toLocaleString(lang === 'kk' ? 'kk-KZ' : lang) : '');

const state = { profile: null, notifications: [], unread: 0 };
const listeners = [];

// Every call of the page's API goes with the session cookie and asks for answers in the page's language.
async function api(path, options = {}) {
  const headers = { 'Accept-Language': lang, ...(options.headers || {}) };
  if (options.json !== undefined) headers['Content-Type'] = 'application/json';
  return fetch(path, {
    method: options.method || 'GET', credentials: 'same-origin', headers,
    body: options.json !== undefined ? JSON.stringify(options.json) : options.body,
  });
}

async function problemText(response) {
  try {
    const body = await response.json();
    return body.detail || body.title || `HTTP ${response.status}`;
  } catch {
    return `HTTP ${response.status}`;
  }
}

// --- language -------------------------------------------------------------------------------------

function renderLangs() {
  const nav = $('langs');
  nav.replaceChildren(...config.langs.map((l) => el('button', {
    type: 'button', class: l === lang ? 'active' : '', lang: l, 'data-lang': l, onclick: () => setLang(l),
  }, LANG_NAMES[l])));
}

function setLang(l) {
  if (!config.langs.includes(l)) return;
  lang = l;
  localStorage.setItem('geoservice.lang', l);
  const url = new URL(location.href);
  url.searchParams.set('lang', l);
  history.replaceState(null, '', url);
  renderStatic();
  renderProfile();
  renderNotifications();
  for (const listener of listeners) listener('lang', l);
  document.dispatchEvent(new CustomEvent('cabinet:lang', { detail: { lang: l } }));
}

function renderStatic() {
  document.documentElement.lang = lang;
  document.title = config.title[lang];
  $('title').textContent = config.title[lang];
  $('map-link').textContent = t('map');
  $('map-link').href = `/?lang=${lang}`;
  $('logout').textContent = t('logout');
  $('signin-title').textContent = t('signinTitle');
  $('signin-intro').textContent = t('signinIntro');
  $('signin-button').textContent = t('signinButton');
  $('profile-title').textContent = t('profile');
  $('contacts-title').textContent = t('contacts');
  $('email-label').textContent = t('email');
  $('phone-label').textContent = t('phone');
  $('address-label').textContent = t('address');
  $('contacts-save').textContent = t('save');
  $('notifications-title').textContent = t('notifications');
  $('notifications-empty').textContent = t('none');
  renderLangs();
}

// --- signed in ------------------------------------------------------------------------------------

function renderUnread() {
  const badge = $('unread');
  badge.hidden = state.unread === 0;
  badge.textContent = String(state.unread);
  badge.title = t('unread', { n: state.unread });
}

function renderProfile() {
  const p = state.profile;
  if (!p) return;
  $('who-name').textContent = p.organisation ? `${p.name} · ${p.organisation}` : p.name;
  renderUnread();
  const rows = [[t('iin'), p.iin], [t('name'), p.name]];
  if (p.bin) rows.push([t('bin'), p.bin], [t('organisation'), p.organisation || '']);
  rows.push([t('roles'), p.roles.map((r) => t(`role_${r}`)).join(', ')]);
  if (p.authorities.length) {
    rows.push([t('authorities'), p.authorities.map((a) => p.authority_names[a]?.[lang] || a).join(', ')]);
  }
  const person = p.register.person;
  if (person) rows.push([t('register'), `${person.name} — ${t(person.status)}, ${person.tax_debt ? t('taxDebt') : t('noTaxDebt')}`]);
  const company = p.register.legal_entity;
  if (company) {
    rows.push([`${t('register')} (${t('bin')})`,
      `${company.name} — ${t(company.status)}, ${company.tax_debt ? t('taxDebt') : t('noTaxDebt')}`]);
  }
  if (p.certificate) {
    const c = p.certificate;
    rows.push([t('certificate'), [c.subject, c.issuer, c.serial, c.not_after].filter(Boolean).join(' · ')]);
  }
  rows.push([t('since'), when(p.created_at)], [t('lastSignIn'), when(p.last_sign_in_at)]);
  $('profile-fields').replaceChildren(...rows.flatMap(([k, v]) => [el('dt', {}, k), el('dd', {}, v)]));
}

function fillContacts() {
  const c = state.profile.contacts;
  $('email').value = c.email || '';
  $('phone').value = c.phone || '';
  $('address').value = c.address || '';
}

function renderNotifications() {
  const list = $('notification-list');
  $('notifications-empty').hidden = state.notifications.length > 0;
  list.replaceChildren(...state.notifications.map((n) => {
    const item = el('li', { class: n.read_at ? 'read' : 'unread', 'data-id': String(n.id) },
      el('time', { datetime: n.created_at }, when(n.created_at)),
      el('span', { class: 'text' }, n.texts[lang] || n.text));
    if (!n.read_at) {
      item.append(el('button', { type: 'button', class: 'read-button', onclick: () => markRead(n) }, t('markRead')));
    }
    return item;
  }));
  renderUnread();
}

async function loadNotifications() {
  const response = await api('/api/me/notifications');
  if (!response.ok) return;
  const body = await response.json();
  state.notifications = body.notifications;
  state.unread = body.unread;
  renderNotifications();
}

async function markRead(n) {
  const response = await api(`/api/me/notifications/${n.id}/read`, { method: 'POST' });
  if (!response.ok) return;
  const body = await response.json();
  n.read_at = body.read_at;
  state.unread = body.unread;
  renderNotifications();
}

async function saveContacts(event) {
  event.preventDefault();
  const status = $('contacts-status');
  status.className = '';
  status.textContent = '';
  const response = await api('/api/me', {
    method: 'PATCH', json: { email: $('email').value, phone: $('phone').value, address: $('address').value },
  });
  if (!response.ok) {
    status.className = 'error';
    status.textContent = await problemText(response);
    return;
  }
  state.profile.contacts = (await response.json()).contacts;
  fillContacts();
  status.textContent = t('saved');
}

function showCabinet() {
  $('signin').hidden = true;
  for (const id of ['profile', 'notifications', 'who', 'logout']) $(id).hidden = false;
  if ($('documents')) $('documents').hidden = false;
  renderProfile();
  fillContacts();
}

function showSignIn() {
  state.profile = null;
  $('signin').hidden = false;
  for (const id of ['profile', 'notifications', 'who', 'logout']) $(id).hidden = true;
  if ($('documents')) $('documents').hidden = true;
}

async function load() {
  const response = await api('/api/me');
  if (response.status === 401) {
    showSignIn();
  } else if (response.ok) {
    state.profile = await response.json();
    state.unread = state.profile.unread;
    showCabinet();
    await loadNotifications();
  } else {
    showSignIn();
    $('signin-status').textContent = await problemText(response);
  }
  for (const listener of listeners) listener('user', state.profile);
  document.dispatchEvent(new CustomEvent('cabinet:user', { detail: { profile: state.profile } }));
}

async function logout() {
  await api('/api/auth/logout', { method: 'POST' });
  await load();
}

// --- sign-in with NCALayer (cabinet-sign.js makes the call) ----------------------------------------

async function signIn() {
  const status = $('signin-status');
  status.className = '';
  status.textContent = t('connecting');
  try {
    const challenge = await api('/api/auth/challenge');
    if (!challenge.ok) throw new Error(await problemText(challenge));
    const { nonce } = await challenge.json();
    const cms = await ncalayerCAdES(btoa(nonce), {
      keyType: 'AUTHENTICATION', attached: true, onOpen: () => { status.textContent = t('signing'); },
    });
    status.textContent = t('checking');
    const response = await api('/api/auth/login', { method: 'POST', json: { cms } });
    if (!response.ok) throw new Error(await problemText(response));
    status.textContent = '';
    await load();
  } catch (error) {
    status.className = 'error';
    const reason = { cancelled: t('cancelled'), failed: t('failed') }[error.message] || error.message;
    status.textContent = error.message === 'unavailable' ? t('noNcalayer') : `${t('failed')}: ${reason}`;
  }
}

$('signin-button').addEventListener('click', signIn);
$('logout').addEventListener('click', logout);
$('contacts').addEventListener('submit', saveContacts);

// For the documents section's script and for tests: the page's language, its API helper and the
// person signed in; on(fn) hears ('lang', l) and ('user', profile).
window.cabinet = {
  get lang() { return lang; },
  get profile() { return state.profile; },
  api, setLang, on: (fn) => listeners.push(fn), reload: load,
};

renderStatic();
await load();
document.body.dataset.ready = 'true';
