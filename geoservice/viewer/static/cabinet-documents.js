// The cabinet's "documents" section: the signed-in person's documents (GET /api/documents?mine=true,
// keyset paging) with their access level and signature status, and an upload form (file, access
// level, CMS signature files) posting to /api/documents. Loaded by the cabinet page into
// <section id="documents">; the session cookie is the credential. Texts are in kk/ru/en here,
// as the map viewer keeps its own (viewer.js, UI); error texts come from the server's
// problem+json, asked for in the page's language.

const UI = {
  kk: {
    title: 'Құжаттарым', upload: 'Құжатты жүктеу', file: 'Файл', level: 'Қолжетімділік деңгейі',
    signatures: 'Қолтаңба файлдары (CMS, міндетті емес)', send: 'Жүктеу', sending: 'Жүктелуде…',
    name: 'Файл', type: 'Түрі', size: 'Көлемі', created: 'Жүктелген', signed: 'Қолтаңбалар',
    empty: 'Әзірге құжат жоқ.', more: 'Тағы көрсету', loading: 'Жүктелуде…', failed: 'Тізім жүктелмеді',
    unsigned: 'қол қойылмаған', valid: '{valid}/{count} жарамды', invalid: '{count} қолтаңба, жарамдысы жоқ',
    stored: '«{name}» сақталды', kb: 'КБ', mb: 'МБ',
    levels: { public: 'Ашық', 'official-use': 'Қызмет бабында пайдалану үшін', confidential: 'Құпия' },
  },
  ru: {
    title: 'Мои документы', upload: 'Загрузить документ', file: 'Файл', level: 'Уровень доступа',
    signatures: 'Файлы подписи (CMS, необязательно)', send: 'Загрузить', sending: 'Загрузка…',
    name: 'Файл', type: 'Тип', size: 'Размер', created: 'Загружен', signed: 'Подписи',
    empty: 'Документов пока нет.', more: 'Показать ещё', loading: 'Загрузка…', failed: 'Не удалось загрузить список',
    unsigned: 'без подписи', valid: 'действительных {valid} из {count}', invalid: 'подписей: {count}, действительных нет',
    stored: '«{name}» сохранён', kb: 'КБ', mb: 'МБ',
    levels: { public: 'Открытый', 'official-use': 'Для служебного пользования', confidential: 'Конфиденциально' },
  },
  en: {
    title: 'My documents', upload: 'Upload a document', file: 'File', level: 'Access level',
    signatures: 'Signature files (CMS, optional)', send: 'Upload', sending: 'Uploading…',
    name: 'File', type: 'Type', size: 'Size', created: 'Uploaded', signed: 'Signatures',
    empty: 'No documents yet.', more: 'Show more', loading: 'Loading…', failed: 'The list could not be loaded',
    unsigned: 'unsigned', valid: '{valid} of {count} valid', invalid: '{count} signatures, none valid',
    stored: '“{name}” stored', kb: 'KB', mb: 'MB',
    levels: { public: 'Public', 'official-use': 'Official use', confidential: 'Confidential' },
  },
};
const LEVELS = ['confidential', 'official-use', 'public'];  // the safest first: it is the default
const LANGS = Object.keys(UI);

function pageLang() {
  const candidates = [new URLSearchParams(location.search).get('lang'), document.documentElement.lang,
    localStorage.getItem('geoservice.lang')];
  return candidates.find((l) => LANGS.includes(l)) || 'ru';
}

const el = (tag, attrs = {}, ...children) => {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === 'class') node.className = v; else if (k.startsWith('on')) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v);
  }
  for (const child of children) node.append(child);
  return node;
};

async function problemText(response) {
  try {
    const body = await response.json();
    return body.detail || body.title || `HTTP ${response.status}`;
  } catch {
    return `HTTP ${response.status}`;
  }
}

export class DocumentsSection {
  constructor(section) {
    this.section = section;
    this.lang = pageLang();
    this.rows = [];
    this.next = null;
    this.message = null;  // [kind, text] of the last upload or load
  }

  t(key, vars = {}) {
    return UI[this.lang][key].replace(/\{(\w+)\}/g, (_, k) => String(vars[k]));
  }

  levelName(level) {
    return UI[this.lang].levels[level] || level;
  }

  headers() {
    return { 'Accept-Language': this.lang, Accept: 'application/json' };
  }

  size(bytes) {
    return bytes < 1024 * 1024 ? `${Math.max(1, Math.round(bytes / 1024))} ${this.t('kb')}`
      : `${(bytes / 1024 / 1024).toFixed(1)} ${this.t('mb')}`;
  }

  signatureStatus(summary) {
    if (!summary || summary.count === 0) return this.t('unsigned');
    return summary.valid > 0 ? this.t('valid', summary) : this.t('invalid', summary);
  }

  async load(more = false) {
    const params = new URLSearchParams({ mine: 'true', limit: '50' });
    if (more && this.next) params.set('cursor', this.next);
    const response = await fetch(`/api/documents?${params}`, { credentials: 'same-origin', headers: this.headers() });
    if (!response.ok) {
      this.message = ['error', `${this.t('failed')}: ${await problemText(response)}`];
      this.render();
      return;
    }
    const body = await response.json();
    this.rows = more ? [...this.rows, ...body.documents] : body.documents;
    this.next = body.next;
    this.render();
  }

  async upload(event) {
    event.preventDefault();
    const form = event.target;
    const data = new FormData();
    const file = form.elements.file.files[0];
    if (!file) return;
    data.append('file', file);
    data.append('access_level', form.elements.access_level.value);
    for (const signature of form.elements.signature.files) data.append('signature', signature);
    const button = form.querySelector('button');
    button.disabled = true;
    button.textContent = this.t('sending');
    try {
      const response = await fetch('/api/documents', {
        method: 'POST', body: data, credentials: 'same-origin', headers: this.headers(),
      });
      if (response.ok) {
        const doc = await response.json();
        this.message = ['ok', this.t('stored', { name: doc.file_name })];
        await this.load();
      } else {
        this.message = ['error', await problemText(response)];
        this.render();
      }
    } finally {
      button.disabled = false;
      button.textContent = this.t('send');
    }
  }

  render() {
    const levelSelect = el('select', { name: 'access_level', id: 'documents-level' },
      ...LEVELS.map((l) => el('option', { value: l }, this.levelName(l))));
    // A row per field, the label's column and the input's, as the contacts form above.
    const field = (key, input) => el('label', { class: 'documents-field' }, el('span', {}, this.t(key)), input);
    const form = el('form', { class: 'documents-upload', onsubmit: (e) => this.upload(e) },
      el('h3', {}, this.t('upload')),
      field('file', el('input', { type: 'file', name: 'file', id: 'documents-file', required: '' })),
      field('level', levelSelect),
      field('signatures', el('input', { type: 'file', name: 'signature', id: 'documents-signature', multiple: '',
        accept: '.p7s,.p7m,.p7b,.cms,.sig,.der,.pem,.txt' })),
      el('div', { class: 'documents-actions' }, el('button', { type: 'submit' }, this.t('send'))));
    const parts = [el('h2', {}, this.t('title'))];
    if (this.message) parts.push(el('p', { class: `documents-${this.message[0]}`, role: 'status' }, this.message[1]));
    if (this.rows.length === 0) {
      parts.push(el('p', { class: 'documents-empty' }, this.t('empty')));
    } else {
      const head = el('tr', {}, ...['name', 'type', 'size', 'level', 'signed', 'created']
        .map((k) => el('th', { scope: 'col' }, this.t(k))));
      const body = this.rows.map((d) => el('tr', { 'data-id': String(d.id), 'data-level': d.access_level },
        el('td', {}, el('a', { href: d.links.content, download: d.file_name }, d.file_name)),
        el('td', {}, d.content_type.split(';')[0]),
        el('td', {}, this.size(d.size)),
        el('td', { class: `level-${d.access_level}` }, this.levelName(d.access_level)),
        el('td', { class: 'signatures' }, this.signatureStatus(d.signatures)),
        el('td', {}, new Date(d.created_at).toLocaleString(this.lang))));
      parts.push(el('table', { class: 'documents' }, el('thead', {}, head), el('tbody', {}, ...body)));
    }
    if (this.next) parts.push(el('button', { type: 'button', class: 'documents-more', onclick: () => this.load(true) },
      this.t('more')));
    parts.push(form);
    this.section.replaceChildren(...parts);
  }

  setLang(lang) {
    if (!LANGS.includes(lang) || lang === this.lang) return;
    this.lang = lang;
    this.render();
  }
}

export async function mount(section) {
  const view = new DocumentsSection(section);
  section.replaceChildren(el('p', {}, view.t('loading')));
  // The cabinet switches languages by changing <html lang>: follow it.
  new MutationObserver(() => view.setLang(document.documentElement.lang))
    .observe(document.documentElement, { attributes: true, attributeFilter: ['lang'] });
  await view.load();
  return view;
}

const here = document.getElementById('documents');
if (here) window.geoserviceDocuments = mount(here);
