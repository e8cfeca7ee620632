// The cabinet's "auctions" section and the auction hall, for every signed-in person.
// The list: GET /api/auctions (lots with their figures); "Register" signs the registration's
// RFC 8785 JSON (NCALayer, or the demo signer) and POSTs it. The hall (?auction=ID in the
// cabinet's address, or "Enter the hall"): a WebSocket to /api/auctions/{id}/live that sends the
// state on connect and after new events, with those events in it (`events`; a catch-up from the
// journal comes first as `event` frames); the page shows the live bonus, the leader's anonymous
// number, a countdown by the server's clock, the step, a "Sign and bid" button and the person's own
// bids. A dropped connection reconnects with ?since=<last seq> and catches up from the journal.
// Texts in kk/ru/en.

import { el, mountSection, problemText, signCanonical } from './cabinet-sign.js';

const UI = {
  kk: {
    title: 'Аукциондар', none: 'Әзірге лот жоқ.', number: 'Лот', name: 'Учаске', status: 'Мәртебесі',
    starts: 'Басталуы', ends: 'Аяқталуы', bonus: 'Бастапқы бонус, ₸', fee: 'Қатысу жарнасы, ₸',
    deposit: 'Кепілдік жарна, ₸', step: 'Қадам, ₸', blocks: 'Блоктар', register: 'Тіркелу', enter: 'Залға кіру',
    you: 'Сіздің нөміріңіз: {n}', registering: 'Қол қойылуда…', registered: 'Тіркелді: қатысушы № {n} ({status})',
    hall: 'Аукцион залы', current: 'Ағымдағы бонус', leader: 'Көшбасшы', leaderYou: 'сіз', noBids: 'Әзірге баға ұсынылмады',
    left: 'Қалған уақыт', amount: 'Сіздің ұсынысыңыз, ₸', bid: 'Қол қойып, ұсыну', bidding: 'Қол қойылуда…',
    sent: 'Жіберілді…', accepted: 'Қабылданды: № {seq}', rejected: 'Қабылданбады', history: 'Менің ұсыныстарым',
    noHistory: 'Ұсыныстар жоқ.', connecting: 'Қосылуда…', live: 'Тікелей эфирде', offline: 'Байланыс үзілді, қайта қосылуда…',
    back: 'Лоттарға оралу', watcher: 'Сіз бұл аукционға тіркелмегенсіз: тек қарай аласыз.',
    noNcalayer: 'NCALayer іске қосылмаған: қол қою мүмкін емес.', cancelled: 'Қол қою тоқтатылды.', failed: 'Сәтсіз аяқталды',
    extended: 'Аукцион ұзартылды', seq: 'Журнал № {seq}',
    statuses: { published: 'жарияланды', open: 'жүріп жатыр', closed: 'аяқталды', cancelled: 'тоқтатылды', failed: 'өтпеді' },
    participant: { registered: 'тіркелді', admitted: 'қатысуға жіберілді', refused: 'бас тартылды' },
  },
  ru: {
    title: 'Аукционы', none: 'Лотов пока нет.', number: 'Лот', name: 'Участок', status: 'Статус',
    starts: 'Начало', ends: 'Окончание', bonus: 'Стартовый бонус, ₸', fee: 'Взнос за участие, ₸',
    deposit: 'Гарантийный взнос, ₸', step: 'Шаг, ₸', blocks: 'Блоки', register: 'Зарегистрироваться',
    enter: 'Войти в зал', you: 'Ваш номер: {n}', registering: 'Подписание…',
    registered: 'Зарегистрирован: участник № {n} ({status})', hall: 'Аукционный зал', current: 'Текущий бонус',
    leader: 'Лидер', leaderYou: 'вы', noBids: 'Ставок пока нет', left: 'Осталось', amount: 'Ваша ставка, ₸',
    bid: 'Подписать и сделать ставку', bidding: 'Подписание…', sent: 'Отправлено…', accepted: 'Принята: № {seq}',
    rejected: 'Отклонена', history: 'Мои ставки', noHistory: 'Ставок нет.', connecting: 'Подключение…',
    live: 'В эфире', offline: 'Связь прервалась, переподключение…', back: 'К списку лотов',
    watcher: 'Вы не зарегистрированы на этот аукцион: только просмотр.',
    noNcalayer: 'NCALayer не запущен: подписать нельзя.', cancelled: 'Подписание отменено.', failed: 'Не удалось',
    extended: 'Аукцион продлён', seq: 'Журнал № {seq}',
    statuses: { published: 'опубликован', open: 'идёт', closed: 'завершён', cancelled: 'отменён', failed: 'не состоялся' },
    participant: { registered: 'зарегистрирован', admitted: 'допущен', refused: 'отказано' },
  },
  en: {
    title: 'Auctions', none: 'No lots yet.', number: 'Lot', name: 'Plot', status: 'Status',
    starts: 'Starts', ends: 'Ends', bonus: 'Starting bonus, ₸', fee: 'Participation fee, ₸',
    deposit: 'Guarantee deposit, ₸', step: 'Step, ₸', blocks: 'Blocks', register: 'Register', enter: 'Enter the hall',
    you: 'Your number: {n}', registering: 'Signing…', registered: 'Registered: participant no. {n} ({status})',
    hall: 'Auction hall', current: 'Current bonus', leader: 'Leader', leaderYou: 'you', noBids: 'No bids yet',
    left: 'Time left', amount: 'Your bid, ₸', bid: 'Sign and bid', bidding: 'Signing…', sent: 'Sent…',
    accepted: 'Accepted: no. {seq}', rejected: 'Rejected', history: 'My bids', noHistory: 'No bids.',
    connecting: 'Connecting…', live: 'Live', offline: 'Connection lost, reconnecting…', back: 'Back to the lots',
    watcher: 'You are not registered for this auction: watching only.',
    noNcalayer: 'NCALayer is not running: nothing can be signed.', cancelled: 'Signing was cancelled.', failed: 'Failed',
    extended: 'The auction was extended', seq: 'Journal no. {seq}',
    statuses: { published: 'published', open: 'open', closed: 'closed', cancelled: 'cancelled', failed: 'failed' },
    participant: { registered: 'registered', admitted: 'admitted', refused: 'refused' },
  },
};

// Amounts travel as decimal strings with two places ("1050000.00"); tenge are whole here, so
// the page works in integer tiyn to stay exact.
const toTiyn = (text) => {
  const m = /^\s*(\d+)(?:[.,](\d{1,2}))?\s*$/.exec(String(text).replace(/\s/g, ''));
  return m ? BigInt(m[1]) * 100n + BigInt((m[2] || '').padEnd(2, '0')) : null;
};
const fromTiyn = (tiyn) => `${tiyn / 100n}.${String(tiyn % 100n).padStart(2, '0')}`;
const grouped = (amount, lang) => {
  if (amount === null || amount === undefined) return '';
  const tiyn = toTiyn(amount);
  if (tiyn === null) return String(amount);
  const whole = (tiyn / 100n).toLocaleString(lang === 'kk' ? 'kk-KZ' : lang);
  return tiyn % 100n ? `${whole},${String(tiyn % 100n).padStart(2, '0')}` : whole;
};
const newKey = () => (crypto.randomUUID ? crypto.randomUUID()
  : Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, '0')).join(''));

class AuctionsSection {
  constructor(section) {
    this.section = section;
    this.lang = window.cabinet.lang;
    this.lots = [];
    this.message = null;      // [kind, text]
    this.busy = false;
    this.hall = null;         // the open hall: {id, state, socket, mine: [], events: 0, offset, ...}
    this.timer = null;
  }

  t(key, vars = {}) {
    return String(UI[this.lang][key]).replace(/\{(\w+)\}/g, (_, k) => String(vars[k]));
  }

  api(path, options) {
    return window.cabinet.api(path, options);
  }

  when(iso) {
    return iso ? new Date(iso).toLocaleString(this.lang === 'kk' ? 'kk-KZ' : this.lang) : '';
  }

  async load() {
    const response = await this.api('/api/auctions?limit=100');
    if (!response.ok) {
      this.message = ['error', await problemText(response)];
      return;
    }
    this.lots = (await response.json()).auctions;
    // The list is public; each lot's own answer adds the person's registration (`you`).
    await Promise.all(this.lots.filter((lot) => ['published', 'open'].includes(lot.status)).map(async (lot) => {
      const one = await this.api(`/api/auctions/${lot.id}`);
      if (one.ok) lot.you = (await one.json()).you;
    }));
  }

  // --- the list ----------------------------------------------------------------------------------

  renderList() {
    if (!this.lots.length) return el('p', { id: 'auctions-empty' }, this.t('none'));
    const head = el('tr', {}, ...['number', 'name', 'status', 'starts', 'ends', 'bonus', 'fee', 'deposit', 'step', 'blocks', '']
      .map((k) => el('th', { scope: 'col' }, k ? this.t(k) : '')));
    const rows = this.lots.map((lot) => {
      const you = lot.you ? el('div', { class: 'lot-you' }, this.t('you', { n: lot.you.participant }),
        ` (${UI[this.lang].participant[lot.you.status] || lot.you.status})`) : '';
      const actions = el('td', { class: 'lot-actions' });
      if (lot.status === 'published' && !lot.you) {
        actions.append(el('button', { type: 'button', class: 'lot-register', onclick: () => this.register(lot) },
          this.t('register')));
      }
      if (lot.status !== 'failed' && lot.status !== 'cancelled') {
        actions.append(el('button', { type: 'button', class: 'lot-enter', onclick: () => this.enter(lot.id) },
          this.t('enter')));
      }
      return el('tr', { 'data-number': lot.number, 'data-status': lot.status },
        el('td', {}, lot.number, you), el('td', {}, lot.name || ''),
        el('td', {}, UI[this.lang].statuses[lot.status] || lot.status),
        el('td', {}, this.when(lot.starts_at)), el('td', {}, this.when(lot.ends_at)),
        el('td', { class: 'num' }, grouped(lot.starting_bonus, this.lang)),
        el('td', { class: 'num' }, grouped(lot.participation_fee, this.lang)),
        el('td', { class: 'num' }, grouped(lot.deposit, this.lang)),
        el('td', { class: 'num' }, grouped(lot.step, this.lang)),
        el('td', {}, String(lot.block_count ?? (lot.codes || []).length)), actions);
    });
    return el('table', { id: 'auction-list' }, el('thead', {}, head), el('tbody', {}, ...rows));
  }

  async register(lot) {
    if (this.busy) return;
    const profile = window.cabinet.profile;
    const registration = { auction: lot.number, applicant: profile.bin ? { bin: profile.bin } : { iin: profile.iin } };
    this.busy = true;
    this.message = ['info', this.t('registering')];
    this.render();
    try {
      const signed = await signCanonical(registration, this.lang);
      const response = await this.api(`/api/auctions/${lot.id}/registrations`, {
        method: 'POST', json: { registration, signature: signed.cms },
      });
      if (!response.ok) {
        this.message = ['error', await problemText(response)];
      } else {
        const body = await response.json();
        const status = UI[this.lang].participant[body.status] || body.status;
        this.message = ['ok', this.t('registered', { n: body.participant, status })];
        await this.load();
      }
    } catch (error) {
      this.message = ['error', this.signingError(error)];
    } finally {
      this.busy = false;
      this.render();
    }
  }

  signingError(error) {
    if (error.message === 'unavailable') return this.t('noNcalayer');
    if (error.message === 'cancelled') return this.t('cancelled');
    return `${this.t('failed')}: ${error.message}`;
  }

  // --- the hall ----------------------------------------------------------------------------------

  enter(id) {
    this.leave();
    const url = new URL(window.location.href);
    url.searchParams.set('auction', String(id));
    window.history.replaceState(null, '', url);
    this.hall = { id, state: null, socket: null, mine: [], seq: 0, offset: 0, online: false, retry: 0,
      note: null, amount: '', closed: false };
    this.connect();
    this.timer = setInterval(() => this.tick(), 250);
    this.render();
    this.section.scrollIntoView({ block: 'start' });
  }

  leave() {
    if (!this.hall) return;
    this.hall.closed = true;
    if (this.hall.socket) this.hall.socket.close();
    clearInterval(this.timer);
    this.hall = null;
    const url = new URL(window.location.href);
    url.searchParams.delete('auction');
    window.history.replaceState(null, '', url);
  }

  connect() {
    const hall = this.hall;
    const scheme = window.location.protocol === 'https:' ? 'wss' : 'ws';
    const since = hall.seq ? `?since=${hall.seq}` : '';
    const socket = new WebSocket(`${scheme}://${window.location.host}/api/auctions/${hall.id}/live${since}`);
    hall.socket = socket;
    socket.onopen = () => { hall.online = true; hall.retry = 0; this.render(); };
    socket.onmessage = (message) => {
      let data;
      try { data = JSON.parse(message.data); } catch { return; }
      this.receive(hall, data);
    };
    socket.onclose = () => {
      hall.online = false;
      if (hall.closed || this.hall !== hall) return;
      // Back off up to 5 s; the journal has everything missed meanwhile (?since=).
      hall.retry = Math.min(hall.retry + 1, 10);
      setTimeout(() => { if (this.hall === hall && !hall.closed) this.connect(); }, Math.min(500 * hall.retry, 5000));
      this.render();
    };
  }

  receive(hall, data) {
    if (data.type === 'state') {
      hall.state = data;
      hall.seq = Math.max(hall.seq, data.seq || 0);
      // The countdown runs on the server's clock: remember how far ours is from it.
      if (data.now) hall.offset = Date.parse(data.now) - Date.now();
      if (!hall.amount || toTiyn(hall.amount) === null || toTiyn(hall.amount) < this.minimum(hall)) {
        hall.amount = fromTiyn(this.minimum(hall));
      }
      // The events since the previous frame travel in the state (one frame per wake-up).
      for (const event of data.events || []) this.event(hall, event);
    } else if (data.type === 'event') {
      this.event(hall, data);  // a catch-up from the journal (?since=, or this client was behind)
    } else if (data.type === 'ack') {
      if (!hall.mine.some((b) => b.seq === data.seq)) {
        hall.mine.push({ seq: data.seq, at: data.at || new Date(Date.now() + hall.offset).toISOString(),
          amount: data.amount, accepted: true });
      }
      hall.note = ['ok', this.t('accepted', { seq: data.seq })];
    } else if (data.type === 'rejected') {
      const reasons = (data.reasons || []).map((r) => r.message || r.code).join('; ');
      hall.note = ['error', `${this.t('rejected')}: ${reasons}`];
    } else if (data.type === 'error') {
      hall.note = ['error', data.message || data.code];
    }
    this.render();
  }

  event(hall, data) {
    hall.seq = Math.max(hall.seq, data.seq || 0);
    const you = hall.state && hall.state.you;
    if (you && data.participant === you && (data.kind === 'bid.submitted' || data.kind === 'bid.rejected')) {
      if (!hall.mine.some((b) => b.seq === data.seq)) {
        hall.mine.push({ seq: data.seq, at: data.at, amount: data.amount, accepted: data.kind === 'bid.submitted' });
      }
    }
    if (data.kind === 'auction.extended') hall.note = ['info', this.t('extended')];
  }

  minimum(hall) {
    const s = hall.state;
    if (!s) return 0n;
    const start = toTiyn(s.starting_bonus) ?? 0n;
    const current = s.current_bonus === null || s.current_bonus === undefined ? null : toTiyn(s.current_bonus);
    return current === null ? start : current + (toTiyn(s.step) ?? 0n);
  }

  left(hall) {
    if (!hall.state || !hall.state.ends_at) return null;
    return Math.max(0, Date.parse(hall.state.ends_at) - (Date.now() + hall.offset));
  }

  tick() {
    const node = this.section.querySelector('#hall-left');
    if (!node || !this.hall) return;
    node.textContent = this.countdown(this.left(this.hall));
  }

  countdown(ms) {
    if (ms === null) return '';
    const total = Math.floor(ms / 1000);
    const h = Math.floor(total / 3600);
    const m = Math.floor((total % 3600) / 60);
    const s = total % 60;
    return `${h ? `${h}:` : ''}${String(m).padStart(h ? 2 : 1, '0')}:${String(s).padStart(2, '0')}`;
  }

  async bid() {
    const hall = this.hall;
    if (!hall || this.busy || !hall.state) return;
    const amount = toTiyn(hall.amount);
    if (amount === null) {
      hall.note = ['error', this.t('failed')];
      this.render();
      return;
    }
    const bid = { auction: hall.id, amount: fromTiyn(amount), idempotency_key: newKey() };
    this.busy = true;
    hall.note = ['info', this.t('bidding')];
    this.render();
    try {
      const signed = await signCanonical(bid, this.lang);
      if (hall.socket && hall.socket.readyState === WebSocket.OPEN) {
        hall.socket.send(JSON.stringify({ type: 'bid', bid, signature: signed.cms }));
        hall.note = ['info', this.t('sent')];
      } else {
        // No live connection: the same bid over HTTP (the idempotency key keeps it single).
        const response = await this.api(`/api/auctions/${hall.id}/bids`, { method: 'POST', json: { bid, signature: signed.cms } });
        if (response.ok) this.receive(hall, { type: 'ack', ...(await response.json()) });
        else hall.note = ['error', `${this.t('rejected')}: ${await problemText(response)}`];
      }
    } catch (error) {
      hall.note = ['error', this.signingError(error)];
    } finally {
      this.busy = false;
      this.render();
    }
  }

  renderHall() {
    const hall = this.hall;
    const s = hall.state;
    const lot = this.lots.find((l) => l.id === hall.id) || {};
    const leader = !s || s.leader === null || s.leader === undefined ? this.t('noBids')
      : (s.you && s.leader === s.you ? `№ ${s.leader} (${this.t('leaderYou')})` : `№ ${s.leader}`);
    const open = Boolean(s && s.status === 'open');
    const form = s && s.you ? el('form', { id: 'hall-bid', onsubmit: (e) => { e.preventDefault(); this.bid(); } },
      el('label', {}, el('span', {}, this.t('amount')),
        el('input', { id: 'hall-amount', inputmode: 'decimal', value: hall.amount,
          oninput: (e) => { hall.amount = e.target.value; } })),
      el('button', { id: 'hall-submit', type: 'submit', disabled: open && !this.busy ? null : '' }, this.t('bid')))
      : el('p', { id: 'hall-watcher' }, this.t('watcher'));
    const mine = hall.mine.length
      ? el('ol', { id: 'hall-history' }, ...hall.mine.slice().sort((a, b) => a.seq - b.seq).map((b) =>
        el('li', { 'data-seq': String(b.seq), class: b.accepted ? 'accepted' : 'rejected' },
          el('span', { class: 'num' }, grouped(b.amount, this.lang)), ' ',
          el('time', {}, this.when(b.at)), ' ', this.t('seq', { seq: b.seq }))))
      : el('p', { id: 'hall-history-empty' }, this.t('noHistory'));
    return el('div', { id: 'hall', 'data-auction': String(hall.id), 'data-status': s ? s.status : '',
      'data-seq': String(hall.seq), 'data-online': hall.online ? 'true' : 'false' },
    el('h3', {}, `${this.t('hall')}: ${(s && s.number) || lot.number || ''} ${lot.name || ''}`),
    el('p', { id: 'hall-connection', class: hall.online ? 'ok' : 'info' },
      hall.online ? this.t('live') : (hall.retry ? this.t('offline') : this.t('connecting'))),
    el('dl', { id: 'hall-state' },
      el('dt', {}, this.t('status')), el('dd', { id: 'hall-status' }, s ? (UI[this.lang].statuses[s.status] || s.status) : ''),
      el('dt', {}, this.t('current')), el('dd', { id: 'hall-bonus', class: 'num' },
        s ? grouped(s.current_bonus ?? s.starting_bonus, this.lang) : ''),
      el('dt', {}, this.t('leader')), el('dd', { id: 'hall-leader' }, leader),
      el('dt', {}, this.t('step')), el('dd', { id: 'hall-step', class: 'num' }, s ? grouped(s.step, this.lang) : ''),
      el('dt', {}, this.t('left')), el('dd', { id: 'hall-left' }, this.countdown(this.left(hall))),
      ...(s && s.you ? [el('dt', {}, this.t('you', { n: '' }).replace(/[:\s]+$/, '')), el('dd', { id: 'hall-you' }, `№ ${s.you}`)] : [])),
    form,
    hall.note ? el('p', { id: 'hall-note', class: hall.note[0], role: 'status' }, hall.note[1]) : '',
    el('h3', {}, this.t('history')), mine,
    el('button', { type: 'button', id: 'hall-back', onclick: () => { this.leave(); this.load().then(() => this.render()); } },
      this.t('back')));
  }

  render() {
    const parts = [el('h2', {}, this.t('title'))];
    if (this.message) parts.push(el('p', { id: 'auctions-status', class: this.message[0], role: 'status' }, this.message[1]));
    parts.push(this.hall ? this.renderHall() : this.renderList());
    this.section.replaceChildren(...parts);
  }

  async show(profile) {
    this.section.hidden = !profile;
    if (!profile) {
      this.leave();
      this.section.replaceChildren();
      return;
    }
    await this.load();
    const wanted = new URLSearchParams(window.location.search).get('auction');
    if (wanted && !this.hall) {
      const lot = this.lots.find((l) => String(l.id) === wanted || l.number === wanted);
      if (lot) this.enter(lot.id);
    }
    this.render();
  }

  setLang(lang) {
    if (!UI[lang] || lang === this.lang) return;
    this.lang = lang;
    this.load().then(() => this.render());
  }
}

mountSection('auctions', AuctionsSection, 'geoserviceAuctions');
