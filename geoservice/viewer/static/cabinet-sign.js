// Signing for the cabinet's sections: the RFC 8785 canonical JSON of what is signed, and a
// detached CMS over it made by NCALayer (createCAdESFromBase64, the SIGNATURE key) or, in the
// demo only (the server says so in the page's config), by the development signer
// POST /api/demo/sign with the signed-in demo person's own key.

// NCALayer's own address, unless the page's config names another (GEOSERVICE_NCALAYER_URL: tests
// run a test peer on a free port).
const NCALAYER = 'wss://127.0.0.1:13579/';

function pageConfig() {
  try {
    return JSON.parse(document.getElementById('cabinet-config').textContent) || {};
  } catch {
    return {};
  }
}

function ncalayerUrl() {
  const url = pageConfig().ncalayer;
  return typeof url === 'string' && url ? url : NCALAYER;
}

// RFC 8785 (JCS) for JSON values: ECMAScript's own serialisation of strings and numbers is the
// one the RFC prescribes; object keys sorted by UTF-16 code units (Array.prototype.sort's default
// order), no whitespace. The server checks the signature over rfc8785.dumps of the same object.
export function canonical(value) {
  if (value === null || typeof value !== 'object') {
    if (typeof value === 'number' && !Number.isFinite(value)) throw new Error('not JSON: a non-finite number');
    return JSON.stringify(value);
  }
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  const keys = Object.keys(value).filter((k) => value[k] !== undefined).sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonical(value[k])}`).join(',')}}`;
}

// Base64 of the text's UTF-8 bytes (btoa alone takes Latin-1 only).
export function utf8Base64(text) {
  let binary = '';
  for (const byte of new TextEncoder().encode(text)) binary += String.fromCharCode(byte);
  return btoa(binary);
}

function demoOn() {
  return Boolean(pageConfig().demo);
}

// One call of NCALayer's commonUtils.createCAdESFromBase64 over its WebSocket: the base64 CMS,
// or Error('unavailable') when NCALayer does not answer, Error('cancelled') when the person
// cancels, or Error(its message). `keyType`: 'SIGNATURE' or 'AUTHENTICATION'; `attached`: the
// content inside the CMS (sign-in) or not (detached, for signed payloads); `onOpen`: told when
// NCALayer has answered and is asking the person.
export function ncalayerCAdES(dataB64, { keyType = 'SIGNATURE', attached = false, onOpen = null } = {}) {  return new Promise((resolve, reject) => {
    let socket;
    try {
      socket = new WebSocket(ncalayerUrl());
    } catch {
      reject(new Error('unavailable'));
      return;
    }
    let opened = false;
    const timer = setTimeout(() => { if (!opened) { socket.close(); reject(new Error('unavailable')); } }, 4000);
    socket.onerror = () => { clearTimeout(timer); if (!opened) reject(new Error('unavailable')); };
    socket.onopen = () => {
      opened = true;
      clearTimeout(timer);
      if (onOpen) onOpen();
      socket.send(JSON.stringify({
        module: 'kz.gov.pki.knca.commonUtils', method: 'createCAdESFromBase64',
        args: ['PKCS12', keyType, dataB64, attached],
      }));
    };
    socket.onmessage = (message) => {
      let answer;
      try { answer = JSON.parse(message.data); } catch { return; }
      if (answer.result && answer.result.version) return;   // NCALayer greets with its version first
      socket.close();
      if (String(answer.code) === '200' && answer.responseObject) resolve(answer.responseObject);
      else reject(new Error(answer.message === 'action.canceled' ? 'cancelled' : (answer.message || 'failed')));
    };
    socket.onclose = () => { clearTimeout(timer); if (!opened) reject(new Error('unavailable')); };
  });
}

// A detached CMS (base64) over the canonical JSON of `value`: {text, cms, by: 'ncalayer'|'demo'}.
// Rejects with Error('unavailable') when neither NCALayer nor the demo signer can sign.
export async function signCanonical(value, lang) {
  const text = canonical(value);
  const data = utf8Base64(text);
  try {
    return { text, cms: await ncalayerCAdES(data), by: 'ncalayer' };
  } catch (error) {
    if (error.message !== 'unavailable' || !demoOn()) throw error;
  }
  const response = await fetch('/api/demo/sign', {
    method: 'POST', credentials: 'same-origin',
    headers: { 'Content-Type': 'application/json', 'Accept-Language': lang },
    body: JSON.stringify({ data }),
  });
  if (!response.ok) {
    let detail = `HTTP ${response.status}`;
    try { const body = await response.json(); detail = body.detail || body.title || detail; } catch { /* not JSON */ }
    throw new Error(detail);
  }
  return { text, cms: (await response.json()).cms, by: 'demo' };
}

// signCanonical with NCALayer's absence and the person's cancelling said in the section's words:
// `t` is the section's text lookup (keys noNcalayer and cancelled); other failures keep theirs.
export async function signOrSay(value, lang, t) {
  try {
    return await signCanonical(value, lang);
  } catch (error) {
    const text = { unavailable: t('noNcalayer'), cancelled: t('cancelled') }[error.message];
    throw new Error(text || error.message);
  }
}

export async function problemText(response) {
  try {
    const body = await response.json();
    return body.detail || body.title || `HTTP ${response.status}`;
  } catch {
    return `HTTP ${response.status}`;
  }
}

export const el = (tag, attrs = {}, ...children) => {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === 'class') node.className = v; else if (k.startsWith('on')) node.addEventListener(k.slice(2), v);
    else if (v !== undefined && v !== null && v !== false) node.setAttribute(k, v);
  }
  for (const child of children) if (child !== null && child !== undefined) node.append(child);
  return node;
};

// --- the person's own documents, attached to a signed filing (applications, reports) ----------

// A document uploaded from a filing form: only its owner reads it until they choose otherwise.
const NEW_DOCUMENT_LEVEL = 'confidential';

// The person's own documents (GET /api/documents?mine=true), or null when they cannot be read.
export async function myDocuments(api) {
  const response = await api('/api/documents?mine=true&limit=50');
  return response.ok ? (await response.json()).documents : null;
}

// Upload the file chosen in ``input`` as the person's document and attach it to the form of
// ``view`` (a section with api, busy, message, chosen, loadDocuments, render and t): the
// document, or null when nothing was uploaded (the reason is in view.message).
export async function uploadAndAttach(view, input) {
  const file = input.files[0];
  if (!file || view.busy) return null;
  const data = new FormData();
  data.append('file', file);
  data.append('access_level', NEW_DOCUMENT_LEVEL);
  view.busy = true;
  view.message = ['info', view.t('uploading')];
  view.render();
  try {
    const response = await view.api('/api/documents', { method: 'POST', body: data });
    if (!response.ok) throw new Error(await problemText(response));
    const doc = await response.json();
    view.chosen.add(doc.id);
    await view.loadDocuments();
    view.message = ['ok', view.t('uploaded', { name: doc.file_name })];
    return doc;
  } catch (error) {
    view.message = ['error', `${view.t('failed')}: ${error.message}`];
    return null;
  } finally {
    view.busy = false;
    view.render();
  }
}

// The form's fieldset of the person's documents: a checkbox each (``view.chosen``) and an inline
// upload. Ids and names begin with ``prefix`` (app-docs, app-doc-file, app-doc-upload, …).
export function documentsFieldset(view, prefix) {
  const upload = el('input', { type: 'file', id: `${prefix}-doc-file` });
  const boxes = view.docs.map((d) => {
    const box = el('input', { type: 'checkbox', name: `${prefix}-doc`, value: String(d.id) });
    box.checked = view.chosen.has(d.id);
    box.addEventListener('change', () => { if (box.checked) view.chosen.add(d.id); else view.chosen.delete(d.id); });
    return el('label', { class: 'app-doc', 'data-id': String(d.id) }, box, ` ${d.file_name}`);
  });
  return el('fieldset', { id: `${prefix}-docs` }, el('legend', {}, view.t('documents')),
    ...(boxes.length ? boxes : [el('p', { class: `${prefix}-no-docs` }, view.t('noDocuments'))]),
    el('div', { class: 'app-doc-upload' }, el('span', {}, view.t('attach')), upload,
      el('button', { type: 'button', id: `${prefix}-doc-upload`, disabled: view.busy ? '' : null,
        onclick: () => view.doUpload(upload) }, view.t('upload'))));
}

// A cabinet section (a class with show(profile) and setLang(lang)) mounted on its element: shown
// for the signed-in person now and after each sign-in, following the cabinet's language.
// `data-ready` tells the page's tests (and anyone waiting) that it has drawn.
export function mountSection(id, Section, globalName) {
  const here = document.getElementById(id);
  if (!here || !window.cabinet) return null;
  const view = new Section(here);
  // data-ready (what tests and scripts wait for) says the section shows the CURRENT person: it is
  // taken back while another person's show runs, and only the latest show sets it again.
  let shows = 0;
  const shown = (profile) => {
    const mine = ++shows;
    here.dataset.ready = 'false';
    return view.show(profile).then(() => { if (mine === shows) here.dataset.ready = 'true'; });
  };
  window.cabinet.on((what, value) => {
    if (what === 'lang') view.setLang(value);
    else if (what === 'user') shown(value);
  });
  if (window.cabinet.profile) shown(window.cabinet.profile);
  window[globalName] = view;
  return view;
}
