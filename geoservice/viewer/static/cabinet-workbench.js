// The cabinet's "workbench" section, for officers and commission members only: the queue
// (GET /api/workbench: the least time left first, overdue flagged), and for the chosen
// application its run (GET /api/applications/{number}/run: stages, due times, decisions) and the
// actions its current stage allows, with a reason. Acting signs the RFC 8785 JSON of
// {application, stage, action, reason} (cadastre/workbench.py decision_payload; reason null when
// empty) with NCALayer or the demo signer and POSTs it to /api/applications/{number}/decisions.
// The chosen application's parcel is drawn on a small map (the vendored MapLibre, over the
// public map's style: basemap, blocks, licences, applied-for blocks) with what it overlaps: the
// parcel as the application was signed (GET /api/applications/{number}: its canonical JSON),
// checked again by POST /api/parcels/check, whose overlaps carry their geometries.
// At a commission stage (seed 004; cadastre/commission.py) nobody decides alone: the section shows
// the commission's members (the run's `commission`), who has voted how (the run's signed `votes`
// of the current step), the person's own vote (approve / refuse with a reason: a signed
// {application, stage, vote, reason} POSTed to /votes) and, for the chair or deputy chair,
// closing the vote (a signed {application, stage, action: "close", reason} to /votes/close).

import * as maplibregl from './vendor/maplibre-gl.mjs';
import { el, mountSection, problemText, signOrSay } from './cabinet-sign.js';

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
    map: 'Учаске картада', parcel: 'Учаске', conflicts: 'Қиылысулар: {n}', noConflicts: 'Қиылысу жоқ',
    commission: 'Комиссия', member: 'Мүше', seat: 'Орны', vote: 'Дауыс', iin: 'ЖСН',
    seat_chair: 'Төраға', seat_deputy_chair: 'Төрағаның орынбасары', seat_member: 'Комиссия мүшесі',
    vote_approve: 'Жақтаймын', vote_refuse: 'Қарсымын', notVoted: 'әлі дауыс берген жоқ',
    voted: 'Дауыс бергендер: {n} / {m}', yourVote: 'Сіздің дауысыңыз: {vote}',
    voteReason: 'Себебі (қарсы дауыс және бас тартумен жабу үшін)', closeVote: 'Дауыс беруді жабу',
    voteDone: '«{vote}» дауысы қабылданды', closed: 'Дауыс беру жабылды, комиссия шешімі: {action}',
    notMember: 'Сіз бұл комиссияның мүшесі емессіз: дауыс бере алмайсыз.',
    rule: 'Кворум — мүшелердің кемінде жартысы; қатысушылардың көпшілігі шешеді, дауыстар тең болса — төрағаның дауысы.',
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
    map: 'Участок на карте', parcel: 'Участок', conflicts: 'Пересечения: {n}', noConflicts: 'Пересечений нет',
    commission: 'Комиссия', member: 'Член', seat: 'Место', vote: 'Голос', iin: 'ИИН',
    seat_chair: 'Председатель', seat_deputy_chair: 'Заместитель председателя', seat_member: 'Член комиссии',
    vote_approve: 'За', vote_refuse: 'Против', notVoted: 'ещё не голосовал(а)',
    voted: 'Проголосовали: {n} из {m}', yourVote: 'Ваш голос: {vote}',
    voteReason: 'Причина (для голоса против и для закрытия с отказом)', closeVote: 'Закрыть голосование',
    voteDone: 'Голос «{vote}» принят', closed: 'Голосование закрыто, решение комиссии: {action}',
    notMember: 'Вы не состоите в этой комиссии: голосовать нельзя.',
    rule: 'Кворум — не менее половины членов; решает большинство присутствующих, при равенстве голосов — голос председателя.',
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
    map: 'The parcel on the map', parcel: 'Parcel', conflicts: 'Overlaps: {n}', noConflicts: 'No overlaps',
    commission: 'Commission', member: 'Member', seat: 'Seat', vote: 'Vote', iin: 'IIN',
    seat_chair: 'Chair', seat_deputy_chair: 'Deputy chair', seat_member: 'Member',
    vote_approve: 'For', vote_refuse: 'Against', notVoted: 'not voted yet',
    voted: 'Voted: {n} of {m}', yourVote: 'Your vote: {vote}',
    voteReason: 'Reason (for a vote against, and for closing with a refusal)', closeVote: 'Close the vote',
    voteDone: 'Vote “{vote}” cast', closed: 'The vote is closed; the commission decided: {action}',
    notMember: 'You do not sit on this commission: you cannot vote.',
    rule: 'Quorum: at least half of the members; the majority of those present decides, a tie by the chair’s vote.',
  },
};
const ACTORS = ['officer', 'commission'];
const EMPTY = { type: 'FeatureCollection', features: [] };
// Drawn over the public style: the parcel in the cabinet's accent, what it overlaps in red
// (refusals) or orange (warnings).
const PARCEL_COLOUR = '#0057b8';
const SEVERITY_COLOUR = ['match', ['get', 'severity'], 'refusal', '#d7301f', '#f08c00'];

function overlayStyle(style) {
  const sources = {
    ...style.sources, 'wb-parcel': { type: 'geojson', data: EMPTY }, 'wb-conflicts': { type: 'geojson', data: EMPTY },
  };
  const layers = [...style.layers,
    { id: 'wb-conflicts-fill', type: 'fill', source: 'wb-conflicts', paint: { 'fill-color': SEVERITY_COLOUR, 'fill-opacity': 0.35 } },
    { id: 'wb-conflicts-line', type: 'line', source: 'wb-conflicts', paint: { 'line-color': SEVERITY_COLOUR, 'line-width': 2 } },
    { id: 'wb-parcel-fill', type: 'fill', source: 'wb-parcel', paint: { 'fill-color': PARCEL_COLOUR, 'fill-opacity': 0.15 } },
    { id: 'wb-parcel-line', type: 'line', source: 'wb-parcel', paint: { 'line-color': PARCEL_COLOUR, 'line-width': 2.5 } },
  ];
  return { ...style, sources, layers };
}

class ParcelMap {
  // One map for the section, kept across renders (the section's content is rebuilt, the map's
  // container is moved back in), so that choosing another application only swaps its data.
  constructor(lang) {
    this.box = el('div', { id: 'wb-map', style: 'height: 320px; max-width: 720px; margin: 8px 0; position: relative' });
    this.lang = lang;
    this.map = null;
    this.parcel = EMPTY;
    this.conflicts = EMPTY;
    this.bbox = null;
  }

  styleUrl() {
    return `/ogc/styles/default?f=mapbox&lang=${this.lang}`;
  }

  ensure() {
    if (this.map) {
      this.map.resize();
      return;
    }
    this.map = new maplibregl.Map({
      container: this.box, style: this.styleUrl(), transformStyle: (_, next) => overlayStyle(next),
      attributionControl: { compact: true }, maxPitch: 0, center: [67, 48], zoom: 3,
    });
    this.map.addControl(new maplibregl.NavigationControl({ showCompass: false }), 'top-right');
    this.map.on('style.load', () => this.apply());
  }

  show(parcel, conflicts, bbox) {
    this.parcel = parcel;
    this.conflicts = conflicts;
    this.bbox = bbox;
    this.ensure();
    this.apply();
  }

  apply() {
    const map = this.map;
    if (!map || !map.getSource('wb-parcel')) return;   // the style is still loading: style.load applies
    map.getSource('wb-parcel').setData(this.parcel);
    map.getSource('wb-conflicts').setData(this.conflicts);
    if (this.bbox) map.fitBounds([[this.bbox[0], this.bbox[1]], [this.bbox[2], this.bbox[3]]], { padding: 40, duration: 0, maxZoom: 13 });
    this.box.dataset.ready = 'true';
  }

  setLang(lang) {
    this.lang = lang;
    if (this.map) this.map.setStyle(this.styleUrl(), { transformStyle: (_, next) => overlayStyle(next) });
  }
}

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
    this.parcel = null;     // {number, check}: the chosen application's parcel check
    this.parcelMap = new ParcelMap(this.lang);
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
    this.parcel = null;
    await Promise.all([this.loadRun(number), this.loadParcel(number)]);
    this.render();
  }

  async loadParcel(number) {
    // The parcel as signed, checked again now: its geometry and what it overlaps (licences,
    // other pending applications, zones, lots); its own claim is not a conflict.
    const response = await this.api(`/api/applications/${encodeURIComponent(number)}`);
    if (!response.ok) return;
    let parcel;
    try {
      parcel = JSON.parse((await response.json()).canonical).parcel;
    } catch (error) {
      return;
    }
    if (!parcel) return;   // a service on an existing right: no parcel
    const checked = await this.api('/api/parcels/check', { method: 'POST', json: { parcel } });
    if (!checked.ok || number !== this.selected) return;
    const check = await checked.json();
    const overlaps = (check.overlaps || []).filter((o) => o.geometry && !(o.kind === 'application' && o.id === number));
    this.parcel = { number, check, overlaps };
  }

  renderMap() {
    const parcel = this.parcel;
    if (!parcel || parcel.number !== this.selected || !parcel.check.geometry) return null;
    const feature = { type: 'Feature', geometry: parcel.check.geometry, properties: { number: parcel.number } };
    const conflicts = parcel.overlaps.map((o) => ({
      type: 'Feature', geometry: o.geometry, properties: { kind: o.kind, severity: o.severity, id: o.id ?? null, message: o.message },
    }));
    // After the section is in the document: MapLibre measures its container.
    queueMicrotask(() => this.parcelMap.show({ type: 'FeatureCollection', features: [feature] },
      { type: 'FeatureCollection', features: conflicts }, parcel.check.bbox));
    const list = parcel.overlaps.length
      ? el('ul', { id: 'wb-conflicts' }, ...parcel.overlaps.map((o) => el('li', { class: o.severity, 'data-kind': o.kind }, o.message)))
      : el('p', { id: 'wb-conflicts' }, this.t('noConflicts'));
    return el('div', { id: 'wb-parcel', 'data-number': parcel.number }, el('h4', {}, this.t('map')), this.parcelMap.box,
      parcel.overlaps.length ? el('p', {}, this.t('conflicts', { n: parcel.overlaps.length })) : '', list);
  }

  act(item, action) {
    const reason = this.reason.trim() || null;
    // What is signed: cadastre/workbench.py decision_payload, as RFC 8785 JSON.
    return this.signAndSend(item.number, 'decisions', { application: item.number, stage: item.stage, action, reason },
      { decision: { stage: item.stage, action, reason } }, () => this.t('done', { action: this.t(`action_${action}`) }));
  }

  castVote(item, vote) {
    const reason = this.reason.trim() || null;
    // What is signed: cadastre/commission.py vote_payload, as RFC 8785 JSON.
    return this.signAndSend(item.number, 'votes', { application: item.number, stage: item.stage, vote, reason },
      { vote: { stage: item.stage, vote, reason } }, (run) => this.decided(run, item)
        || this.t('voteDone', { vote: this.t(`vote_${vote}`) }));
  }

  closeVote(item) {
    const reason = this.reason.trim() || null;
    // What is signed: cadastre/commission.py canonical_close (the outcome is counted, not chosen).
    return this.signAndSend(item.number, 'votes/close', { application: item.number, stage: item.stage, action: 'close', reason },
      { close: { stage: item.stage, reason } }, (run) => this.decided(run, item) || this.t('failed'));
  }

  // The commission's outcome once its stage is decided (by the closing, or by the last vote).
  decided(run, item) {
    const step = [...run.steps].reverse().find((s) => s.stage === item.stage && s.finished_at);
    if (!step || run.stage === item.stage) return null;
    return this.t('closed', { action: this.t(`action_${step.action}`) });
  }

  // Sign `payload` (NCALayer, or the demo signer) and POST `{...body, signature}` to the
  // application's `path`; the answer is the run's new state. `done(run)` says what happened.
  async signAndSend(number, path, payload, body, done) {
    if (this.busy) return;
    this.busy = true;
    this.message = ['info', this.t('signing')];
    this.render();
    try {
      const signed = await signOrSay(payload, this.lang, (k) => this.t(k));
      this.message = ['info', this.t('sending')];
      this.render();
      const response = await this.api(`/api/applications/${encodeURIComponent(number)}/${path}`, {
        method: 'POST', json: { ...body, signature: signed.cms },
      });
      if (!response.ok) throw new Error(await problemText(response));
      this.run = await response.json();
      this.reason = '';
      this.message = ['ok', done(this.run)];
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

  stageLine(item) {
    return el('p', { id: 'wb-stage', 'data-stage': item.stage },
      `${this.t('stage')}: ${item.stage_name}${item.due_at ? ` · ${this.t('due')}: ${this.when(item.due_at)}` : ''}`);
  }

  reasonBox() {
    const reason = el('textarea', { id: 'wb-reason', rows: '2' });
    reason.value = this.reason;
    reason.addEventListener('input', () => { this.reason = reason.value; });
    return reason;
  }

  // The commission stage: its members and their votes at this step, the person's own vote, and
  // the chair's (or deputy chair's) closing.
  renderCommission(run, item) {
    const members = run.commission.members;
    const step = run.steps.length - 1;
    const votes = new Map((run.votes || []).filter((v) => v.step === step && v.stage === item.stage)
      .map((v) => [v.member_iin, v]));
    const me = window.cabinet.profile && window.cabinet.profile.iin;
    const mine = members.find((m) => m.iin === me);
    const counted = members.filter((m) => votes.has(m.iin)).length;
    const head = el('tr', {}, ...['member', 'iin', 'seat', 'vote'].map((k) => el('th', { scope: 'col' }, this.t(k))));
    const rows = members.map((m) => {
      const v = votes.get(m.iin);
      return el('tr', { 'data-iin': m.iin, 'data-seat': m.seat, 'data-vote': v ? v.vote : '' },
        el('td', {}, m.name || ''), el('td', {}, m.iin), el('td', {}, this.t(`seat_${m.seat}`)),
        el('td', { class: v ? `vote-${v.vote}` : 'vote-none' },
          v ? [this.t(`vote_${v.vote}`), v.reason || '', this.when(v.at)].filter(Boolean).join(' · ') : this.t('notVoted')));
    });
    const parts = [
      el('div', { id: 'wb-commission', 'data-commission': run.commission.name },
        el('h4', {}, this.t('commission')),
        el('table', { id: 'wb-members', class: 'documents' }, el('thead', {}, head), el('tbody', {}, ...rows)),
        el('p', { id: 'wb-tally', 'data-voted': String(counted), 'data-members': String(members.length) },
          this.t('voted', { n: counted, m: members.length })),
        el('p', { class: 'hint' }, this.t('rule'))),
    ];
    if (!mine) {
      parts.push(el('p', { id: 'wb-not-member' }, this.t('notMember')));
      return parts;
    }
    const chairs = mine.seat === 'chair' || mine.seat === 'deputy_chair';
    const own = votes.get(me);
    if (!own || chairs) parts.push(el('label', { class: 'app-field' }, el('span', {}, this.t('voteReason')), this.reasonBox()));
    const disabled = this.busy ? '' : null;
    parts.push(own
      ? el('p', { id: 'wb-my-vote', 'data-vote': own.vote }, this.t('yourVote', { vote: this.t(`vote_${own.vote}`) }))
      : el('div', { id: 'wb-vote', class: 'wb-actions' }, ...['approve', 'refuse'].map((v) => el('button', {
        type: 'button', 'data-vote': v, disabled, onclick: () => this.castVote(item, v),
      }, this.t(`vote_${v}`)))));
    if (chairs) {
      parts.push(el('div', { class: 'wb-actions' }, el('button', {
        type: 'button', id: 'wb-close', disabled, onclick: () => this.closeVote(item),
      }, this.t('closeVote'))));
    }
    return parts;
  }

  renderRun() {
    const run = this.run;
    if (!run || run.number !== this.selected) return null;
    const parts = [el('h3', {}, `${run.number} · ${run.procedure_name}`)];
    const item = this.queue.find((q) => q.number === run.number);
    if (run.status === 'finished') {
      parts.push(el('p', { id: 'wb-finished', class: `outcome-${run.outcome}` },
        this.t('finished', { outcome: this.t(`outcome_${run.outcome}`) })));
    } else if (item && run.commission && run.commission.stage === item.stage) {
      parts.push(this.stageLine(item), ...this.renderCommission(run, item));
    } else if (item) {
      parts.push(this.stageLine(item),
      el('label', { class: 'app-field' }, el('span', {}, this.t('reason')), this.reasonBox()),
      el('div', { class: 'wb-actions' }, ...item.actions.map((a) => el('button', {
        type: 'button', 'data-action': a, disabled: this.busy ? '' : null, onclick: () => this.act(item, a),
      }, this.t(`action_${a}`)))));
    }
    const steps = run.steps.map((s) => el('li', { 'data-stage': s.stage, class: s.finished_at ? 'done' : 'current' },
      [s.name, s.action ? this.t(`action_${s.action}`) : '', s.reason || '',
        s.finished_at ? this.when(s.finished_at) : (s.due_at ? `${this.t('due')}: ${this.when(s.due_at)}` : '')]
        .filter(Boolean).join(' · ')));
    const map = this.renderMap();
    if (map) parts.push(map);
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
    this.parcelMap.setLang(lang);
    // Stage names and overlap messages come from the server in the request's language.
    const parcel = this.selected ? this.loadParcel(this.selected) : Promise.resolve();
    Promise.all([this.load(), parcel]).then(() => this.render());
  }
}

mountSection('workbench', WorkbenchSection, 'geoserviceWorkbench');
