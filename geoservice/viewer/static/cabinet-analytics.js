// The cabinet's "analytics" section, for the authorities (officers, auditors, administrators):
// the dashboard of issue 11. Filters (date range, authority, mineral, region, as of a date,
// months or years) apply to every chart; each chart (GET /api/analytics/{chart}) is drawn with
// the vendored Apache ECharts, its table below it, and CSV/XLSX links carrying the same filters.
// Licences by region is a choropleth over the regions' outlines (GET /api/basemap/regions.geojson).
// The charts and filters the server offers come from GET /api/analytics; texts from the server
// are in the page's language, the section's own texts are below.

import './vendor/echarts.min.js'; // a UMD bundle: it defines globalThis.echarts
import { el, mountSection, problemText } from './cabinet-sign.js';

const echarts = globalThis.echarts;
const UI = {
  kk: {
    title: 'Талдау', filters: 'Сүзгілер', since: 'Бастап', until: 'Дейін', at: 'Күнгі жағдай бойынша',
    authority: 'Уәкілетті орган', mineral: 'Пайдалы қазба', region: 'Өңір', grain: 'Кезеңдер', any: 'Барлығы',
    apply: 'Қолдану', reset: 'Тазалау', loading: 'Жүктелуде…', empty: 'Деректер жоқ', download: 'Жүктеп алу:',
    failed: 'Жүктеу сәтсіз аяқталды', table: 'Кесте', noRegion: 'Облыстардан тыс',
  },
  ru: {
    title: 'Аналитика', filters: 'Фильтры', since: 'С', until: 'По', at: 'По состоянию на',
    authority: 'Уполномоченный орган', mineral: 'Полезное ископаемое', region: 'Регион', grain: 'Периоды', any: 'Все',
    apply: 'Применить', reset: 'Сбросить', loading: 'Загрузка…', empty: 'Нет данных', download: 'Скачать:',
    failed: 'Не удалось загрузить', table: 'Таблица', noRegion: 'Вне областей',
  },
  en: {
    title: 'Analytics', filters: 'Filters', since: 'From', until: 'To', at: 'As of',
    authority: 'Competent authority', mineral: 'Mineral', region: 'Region', grain: 'Periods', any: 'All',
    apply: 'Apply', reset: 'Reset', loading: 'Loading…', empty: 'No data', download: 'Download:',
    failed: 'Loading failed', table: 'Table', noRegion: 'Outside the regions',
  },
};
const VIEWERS = ['officer', 'auditor', 'admin'];
const PALETTE = ['#0057b8', '#f0b429', '#2f8132', '#b30000', '#7b5ea7', '#00897b', '#8d6e63'];
// What each chart draws: the label of a row and the columns that are its series.
const DRAW = {
  licences_by_authority: { label: (r) => r.name, series: ['licences'] },
  licences_by_mineral: { label: (r) => r.name, series: ['licences'] },
  licences_by_region: { label: (r) => r.name, series: ['licences'] },
  licences_by_status: { label: (r) => r.name, series: ['licences'] },
  licences_by_year: { label: (r) => String(r.year), series: ['licences', 'blocks'] },
  blocks_over_time: { label: (r) => r.period, series: ['blocks'] },
  applications: { label: (r) => r.period, series: ['received', 'granted', 'refused'] },
  stages_on_time: { label: (r) => `${r.authority || '—'} · ${r.name}`, series: ['on_time_pct'] },
  obligations: { label: (r) => r.name, series: ['open', 'overdue'] },
  auction_revenue: { label: (r) => String(r.year), series: ['bonus', 'paid'] },
};
const FILTER_KEYS = ['since', 'until', 'at', 'authority', 'mineral', 'region', 'grain'];

class AnalyticsSection {
  constructor(section) {
    this.section = section;
    this.lang = (window.cabinet && window.cabinet.lang) || document.documentElement.lang || 'en';
    this.catalog = null;
    this.filters = {};
    this.instances = {};
    this.results = {};
    this.regionsLoaded = false;
    this.ready = Promise.resolve();
  }

  t(key) {
    return (UI[this.lang] || UI.en)[key];
  }

  query(extra = {}) {
    const params = new URLSearchParams();
    for (const [k, v] of Object.entries({ ...this.filters, ...extra })) if (v) params.set(k, v);
    params.set('lang', this.lang);
    return params.toString();
  }

  async getJson(url) {
    const response = await fetch(url, { headers: { 'Accept-Language': this.lang } });
    if (!response.ok) throw new Error(await problemText(response));
    return response.json();
  }

  async load() {
    this.catalog = await this.getJson(`/api/analytics?lang=${this.lang}`);
  }

  filterForm() {
    const choices = this.catalog.choices;
    const select = (name) => el('select', { name, 'data-filter': name },
      ...(name === 'grain' ? [] : [el('option', { value: '' }, this.t('any'))]),
      ...choices[name].map((c) => el('option', { value: c.id, selected: this.filters[name] === c.id ? '' : null }, c.name)));
    const date = (name) => el('input', { type: 'date', name, 'data-filter': name, value: this.filters[name] || '' });
    const field = (name, input) => el('label', { class: 'an-field' }, el('span', {}, this.t(name)), input);
    const form = el('form', { id: 'an-filters' },
      field('since', date('since')), field('until', date('until')), field('at', date('at')),
      field('authority', select('authority')), field('mineral', select('mineral')), field('region', select('region')),
      field('grain', select('grain')),
      el('button', { type: 'submit' }, this.t('apply')),
      el('button', { type: 'button', onclick: () => { this.filters = {}; this.render(); } }, this.t('reset')));
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      const next = {};
      for (const input of form.querySelectorAll('[data-filter]')) if (input.value) next[input.name] = input.value;
      this.filters = next;
      this.render();
    });
    return form;
  }

  table(chart, rows) {
    if (!rows.length) return el('p', { class: 'an-empty' }, this.t('empty'));
    return el('table', { class: 'an-table', 'data-chart': chart.id },
      el('thead', {}, el('tr', {}, ...chart.columns.map((c) => el('th', {}, c.title)))),
      el('tbody', {}, ...rows.map((r) => el('tr', {}, ...chart.columns.map((c) => el('td', {
        class: typeof r[c.key] === 'number' ? 'num' : null,
      }, r[c.key] === null || r[c.key] === undefined ? '—'
        : typeof r[c.key] === 'number' ? r[c.key].toLocaleString(this.lang) : String(r[c.key])))))));
  }

  option(chart, rows) {
    const draw = DRAW[chart.id] || { label: (r) => String(Object.values(r)[0]), series: [] };
    const title = (key) => (chart.columns.find((c) => c.key === key) || { title: key }).title;
    if (chart.kind === 'pie') {
      return { color: PALETTE, tooltip: { trigger: 'item' }, legend: { bottom: 0 },
        series: [{ type: 'pie', radius: ['35%', '65%'], data: rows.map((r) => ({ name: draw.label(r), value: r[draw.series[0]] })) }] };
    }
    if (chart.kind === 'map') {
      const values = rows.filter((r) => r.region).map((r) => ({ name: r.region, value: r.licences, label: r.name }));
      const max = Math.max(1, ...values.map((v) => v.value));
      return {
        tooltip: { trigger: 'item', formatter: (p) => `${(p.data && p.data.label) || p.name}: ${Number.isFinite(p.value) ? p.value : 0}` },
        visualMap: { min: 0, max, left: 'left', bottom: 0, calculable: true, inRange: { color: ['#e6eef8', '#0057b8'] } },
        series: [{ type: 'map', map: 'kz-regions', nameProperty: 'code', roam: true, data: values,
          emphasis: { label: { show: false } } }],
      };
    }
    return {
      color: PALETTE, tooltip: { trigger: 'axis' }, legend: { top: 0 },
      grid: { left: 8, right: 8, top: 30, bottom: 8, containLabel: true },
      xAxis: { type: 'category', data: rows.map(draw.label), axisLabel: { hideOverlap: true } },
      yAxis: { type: 'value' },
      series: draw.series.map((key) => ({ type: chart.kind === 'line' ? 'line' : 'bar', name: title(key),
        data: rows.map((r) => r[key]), showSymbol: false })),
    };
  }

  async ensureRegions() {
    if (this.regionsLoaded) return;
    const regions = await this.getJson(`/api/basemap/regions.geojson?lang=${this.lang}`);
    echarts.registerMap('kz-regions', regions);
    this.regionsLoaded = true;
  }

  async drawChart(chart, box, generation) {
    const [plot, table, status] = [box.querySelector('.an-plot'), box.querySelector('.an-table-box'), box.querySelector('.an-status')];
    status.textContent = this.t('loading');
    try {
      if (chart.kind === 'map') await this.ensureRegions();
      const body = await this.getJson(`/api/analytics/${chart.id}?${this.query()}`);
      // A later render (the profile and the language arrive close together) replaced this one's
      // boxes: drawing now would land in a detached element and leave the visible one blank.
      if (generation !== this.generation) return;
      this.results[chart.id] = body.rows;
      status.textContent = '';
      table.replaceChildren(this.table(chart, body.rows));
      const instance = echarts.getInstanceByDom(plot) || echarts.init(plot, null, { renderer: 'canvas' });
      this.instances[chart.id] = instance;
      instance.setOption(this.option(chart, body.rows), true);
      box.dataset.ready = 'true';
    } catch (error) {
      if (generation !== this.generation) return;
      status.textContent = `${this.t('failed')}: ${error.message}`;
      status.classList.add('error');
      box.dataset.ready = 'error';
    }
  }

  chartBox(chart) {
    const links = ['csv', 'xlsx'].map((f) => el('a', {
      href: `/api/analytics/${chart.id}.${f}?${this.query()}`, 'data-format': f, download: '',
    }, f.toUpperCase()));
    return el('div', { class: 'an-chart', id: `an-${chart.id}`, 'data-chart': chart.id },
      el('h3', {}, chart.title), el('p', { class: 'an-range' }, chart.range),
      el('div', { class: 'an-plot', style: `height: ${chart.kind === 'map' ? 380 : 260}px` }),
      el('p', { class: 'an-status', role: 'status' }),
      el('p', { class: 'an-links' }, this.t('download'), ' ', links[0], ' ', links[1]),
      el('details', { class: 'an-details', open: '' }, el('summary', {}, this.t('table')),
        el('div', { class: 'an-table-box' })));
  }

  render() {
    this.generation = (this.generation || 0) + 1;
    const generation = this.generation;
    for (const instance of Object.values(this.instances)) instance.dispose();
    this.instances = {};
    const boxes = this.catalog.charts.map((chart) => [chart, this.chartBox(chart)]);
    this.section.replaceChildren(el('h2', {}, this.t('title')), el('h3', {}, this.t('filters')), this.filterForm(),
      ...boxes.map(([, box]) => box));
    this.ready = Promise.all(boxes.map(([chart, box]) => this.drawChart(chart, box, generation)));
    return this.ready;
  }

  async show(profile) {
    const sees = Boolean(profile && profile.roles.some((r) => VIEWERS.includes(r)));
    this.section.hidden = !sees;
    if (!sees) {
      this.section.replaceChildren();
      return;
    }
    await this.load();
    await this.render();
  }

  setLang(lang) {
    if (!UI[lang] || lang === this.lang) return;
    this.lang = lang;
    this.regionsLoaded = false;
    if (!this.section.hidden) this.load().then(() => this.render());
  }
}

mountSection('analytics', AnalyticsSection, 'geoserviceAnalytics');
