// The /ui dashboard (docs/ui.md). It reads only the gateway's JSON routes, with the master key the
// user enters (kept in sessionStorage, sent as a Bearer header), and refreshes itself. Everything
// is built with DOM calls and textContent: no innerHTML, no inline script or style (the CSP in
// src/routes/ui_handler.cpp forbids both).
'use strict';

const KEY_STORAGE = 'claudegate.masterKey';
const REFRESH_MS = 30000;
const SVG = 'http://www.w3.org/2000/svg';
const SERIES_CLASSES = 8;  // .s0 … .s7 in app.css

let refreshTimer = null;

// ---- small DOM helpers ----------------------------------------------------------------------

function $(id) { return document.getElementById(id); }

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (name === 'class') node.className = value;
    else node.setAttribute(name, value);
  }
  for (const child of children) {
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

function svg(tag, attrs = {}) {
  const node = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attrs)) node.setAttribute(name, String(value));
  return node;
}

const numberFormat = new Intl.NumberFormat('en-US');
function formatNumber(n) { return numberFormat.format(Math.round(n)); }
function formatUsd(n) {
  if (n === 0) return '$0';
  if (n < 0.01) return '$' + n.toPrecision(2);  // a cheap model's few requests still show
  return '$' + n.toFixed(n < 1 ? 4 : 2);
}
function formatPercent(ratio) { return (ratio * 100).toFixed(ratio < 0.1 ? 1 : 0) + '%'; }

function formatDuration(seconds) {
  if (seconds <= 0) return 'now';
  const d = Math.floor(seconds / 86400);
  const h = Math.floor((seconds % 86400) / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  if (d > 0) return `${d} d ${h} h`;
  if (h > 0) return `${h} h ${m} min`;
  if (m > 0) return `${m} min`;
  return `${Math.floor(seconds)} s`;
}

function allTokens(row) {
  return row.input_tokens + row.output_tokens + row.cache_read_tokens + row.cache_write_tokens;
}

// ---- the gateway's routes -------------------------------------------------------------------

class Unauthorized extends Error {}

async function getJson(path) {
  const key = sessionStorage.getItem(KEY_STORAGE);
  const response = await fetch(path, {
    headers: { Authorization: `Bearer ${key}` },
    cache: 'no-store',
    credentials: 'omit',
  });
  if (response.status === 401) throw new Unauthorized();
  const body = await response.json().catch(() => null);
  if (!response.ok) {
    const message = body && body.error && body.error.message;
    throw new Error(`${path}: ${response.status} ${message || ''}`.trim());
  }
  return body;
}

// ---- plan windows ---------------------------------------------------------------------------

function windowName(id) {
  if (id === '5h') return '5-hour session';
  if (id === '7d') return 'Weekly, all models';
  const weekly = /^7d[_-](.+)$/.exec(id);
  if (weekly) return `Weekly, ${weekly[1].replace(/[_-]/g, ' ')}`;
  return id;
}

function gauge(id, window) {
  const ratio = Math.max(0, Math.min(1, window.utilization ?? 0));
  const level = ratio >= 0.9 ? 'bad' : ratio >= 0.7 ? 'warn' : 'ok';
  const radius = 50;
  const circumference = 2 * Math.PI * radius;
  const picture = svg('svg', { viewBox: '0 0 120 120', 'aria-hidden': 'true', focusable: 'false' });
  picture.append(svg('circle', { cx: 60, cy: 60, r: radius, fill: 'none', class: 'track',
                                 'stroke-width': 12 }));
  picture.append(svg('circle', {
    cx: 60, cy: 60, r: radius, fill: 'none', class: level, 'stroke-width': 12,
    'stroke-linecap': 'round', transform: 'rotate(-90 60 60)',
    'stroke-dasharray': `${circumference * ratio} ${circumference}`,
  }));
  const reset = el('p', { class: 'gauge-reset' });
  if (window.reset) reset.dataset.reset = String(window.reset);
  const box = el('div', { class: 'gauge', role: 'group', 'data-window': id },
                 picture,
                 el('p', { class: 'gauge-label' }, windowName(id)),
                 el('p', { class: 'gauge-value' }, formatPercent(ratio)),
                 reset);
  box.setAttribute('aria-label', `${windowName(id)}: ${formatPercent(ratio)} used`);
  return box;
}

function updateCountdowns() {
  const now = Date.now() / 1000;
  // A plan window resets; an access token expires (and is refreshed before it does).
  for (const [attribute, verb] of [['reset', 'resets'], ['expires', 'expires']]) {
    for (const node of document.querySelectorAll(`[data-${attribute}]`)) {
      const at = Number(node.dataset[attribute]);
      const when = new Date(at * 1000);
      node.textContent = `${verb} in ${formatDuration(at - now)} (${when.toLocaleString()})`;
    }
  }
}

function renderPlan(plan) {
  const gauges = $('gauges');
  gauges.replaceChildren();
  if (!plan || !plan.reported) {
    $('plan-summary').textContent =
      'Anthropic has not reported the plan yet: the windows appear after the first request.';
    return;
  }
  const parts = [`Status: ${plan.status}`];
  if (plan.representative_claim) parts.push(`binding window: ${windowName(plan.representative_claim)}`);
  if (plan.overage_in_use) parts.push('extra usage (paid) in use');
  parts.push(`as of ${new Date(plan.updated_at).toLocaleTimeString()}`);
  $('plan-summary').textContent = parts.join(' · ');
  const ids = Object.keys(plan.windows || {}).sort();
  for (const id of ids) gauges.append(gauge(id, plan.windows[id]));
}

// ---- credentials ----------------------------------------------------------------------------

function fact(term, value, attrs = {}) {
  return el('div', {}, el('dt', {}, term), el('dd', attrs, value));
}

function renderCredentials(credentials) {
  const list = $('credentials');
  list.replaceChildren();
  list.append(fact('Source', credentials.source || 'unknown'));
  if ('logged_out' in credentials) {
    list.append(fact('State', credentials.logged_out ? 'logged out: run `claude` on the host to log in'
                                                     : 'logged in'));
  }
  if (credentials.subscription_type) list.append(fact('Plan', credentials.subscription_type));
  if (credentials.expires_at_ms) {
    const expiry = fact('Access token', '', { 'data-expires': String(credentials.expires_at_ms / 1000) });
    list.append(expiry);
  }
  if (credentials.kind) list.append(fact('Kind', credentials.kind));
  if (credentials.error) list.append(fact('Problem', credentials.error, { class: 'error' }));
}

// ---- usage: totals, charts, tables ----------------------------------------------------------

function renderTotals(totals) {
  const list = $('totals-24h');
  list.replaceChildren();
  const prompt = totals.input_tokens + totals.cache_read_tokens + totals.cache_write_tokens;
  const share = prompt > 0 ? totals.cache_read_tokens / prompt : 0;
  const rows = [
    ['Requests', formatNumber(totals.requests), 'requests'],
    ['Input tokens', formatNumber(totals.input_tokens), 'input'],
    ['Output tokens', formatNumber(totals.output_tokens), 'output'],
    ['Cache read tokens', formatNumber(totals.cache_read_tokens), 'cache-read'],
    ['Cache write tokens', formatNumber(totals.cache_write_tokens), 'cache-write'],
    ['Cache read share', formatPercent(share), 'cache-share'],
    ['Errors', formatNumber(totals.errors), 'errors'],
    ['Retries', formatNumber(totals.retries), 'retries'],
    ['At API prices', formatUsd(totals.cost_usd), 'cost'],
  ];
  for (const [term, value, id] of rows) list.append(fact(term, value, { 'data-total': id }));
}

// Series names in a stable order: biggest first.
function seriesOf(rows, name) {
  const sums = new Map();
  for (const row of rows) sums.set(row[name], (sums.get(row[name]) || 0) + allTokens(row));
  return [...sums.entries()].sort((a, b) => b[1] - a[1]).map(([series]) => series);
}

function periodLabel(iso, hourly) {
  const when = new Date(iso);
  return hourly ? when.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' })
                : when.toLocaleDateString([], { month: 'short', day: 'numeric' });
}

// Stacked bars: one bar per period, one colour per series; every period of the range is shown.
function barChart(container, rows, name, periods, hourly) {
  const series = seriesOf(rows, name);
  // Drawn at the container's own width, so labels keep their size on a phone.
  const width = Math.max(300, Math.round(container.clientWidth || 720));
  const height = 220, left = 56, right = 28, bottom = 24, top = 8;
  const totals = periods.map((period) => rows.filter((r) => r.period_start === period)
                                             .reduce((sum, r) => sum + allTokens(r), 0));
  const max = Math.max(1, ...totals);
  const chart = svg('svg', { viewBox: `0 0 ${width} ${height}`, role: 'img' });
  chart.setAttribute('aria-label', `${series.length} series over ${periods.length} periods; ` +
                     'the table below has the numbers');
  for (const fraction of [0, 0.5, 1]) {
    const y = top + (height - top - bottom) * (1 - fraction);
    chart.append(svg('line', { x1: left, x2: width - right, y1: y, y2: y, class: 'grid' }));
    const label = svg('text', { x: left - 6, y: y + 4, 'text-anchor': 'end', class: 'axis' });
    label.textContent = formatNumber(max * fraction);
    chart.append(label);
  }
  const slot = (width - left - right) / Math.max(1, periods.length);
  periods.forEach((period, i) => {
    let y = height - bottom;
    for (const [index, name_] of series.entries()) {
      const row = rows.find((r) => r.period_start === period && r[name] === name_);
      if (!row) continue;
      const h = (height - top - bottom) * allTokens(row) / max;
      y -= h;
      const bar = svg('rect', { x: left + i * slot + slot * 0.15, y, width: slot * 0.7,
                                height: Math.max(h, 0.5), class: `s${index % SERIES_CLASSES}` });
      const title = svg('title');
      title.textContent = `${periodLabel(period, hourly)} · ${name_ || 'none'}: ` +
                          `${formatNumber(allTokens(row))} tokens`;
      bar.append(title);
      chart.append(bar);
    }
    const every = Math.ceil(periods.length / Math.max(2, Math.floor((width - left) / 80)));
    if (i % every === 0) {
      const label = svg('text', { x: left + i * slot + slot / 2, y: height - 6,
                                  'text-anchor': 'middle', class: 'axis' });
      label.textContent = periodLabel(period, hourly);
      chart.append(label);
    }
  });
  const legend = el('ul', { class: 'legend' });
  series.forEach((name_, index) => legend.append(
      el('li', {}, el('span', { class: `swatch s${index % SERIES_CLASSES}`, 'aria-hidden': 'true' }),
         name_ || 'none')));
  container.replaceChildren(chart, legend);
}

// Totals per series as a table: the chart's numbers as text.
function seriesTable(table, rows, name, heading) {
  const sums = new Map();
  for (const row of rows) {
    const sum = sums.get(row[name]) || { requests: 0, errors: 0, input_tokens: 0, output_tokens: 0,
                                         cache_read_tokens: 0, cache_write_tokens: 0, cost_usd: 0 };
    for (const field of Object.keys(sum)) sum[field] += row[field];
    sums.set(row[name], sum);
  }
  const columns = [['Requests', 'requests'], ['Errors', 'errors'], ['Input', 'input_tokens'],
                   ['Output', 'output_tokens'], ['Cache read', 'cache_read_tokens'],
                   ['Cache write', 'cache_write_tokens']];
  const head = el('tr', {}, el('th', { scope: 'col' }, heading));
  for (const [label] of columns) head.append(el('th', { scope: 'col', class: 'num' }, label));
  head.append(el('th', { scope: 'col', class: 'num' }, 'At API prices'));
  const body = el('tbody');
  for (const series of seriesOf(rows, name)) {
    const sum = sums.get(series);
    const tr = el('tr', { 'data-series': series }, el('th', { scope: 'row' }, series || 'none'));
    for (const [, field] of columns) tr.append(el('td', { class: 'num' }, formatNumber(sum[field])));
    tr.append(el('td', { class: 'num' }, formatUsd(sum.cost_usd)));
    body.append(tr);
  }
  if (!body.children.length) {
    body.append(el('tr', {}, el('td', { colspan: columns.length + 2 }, 'No requests in this period.')));
  }
  table.replaceChildren(el('thead', {}, head), body);
}

// Every hour (or day) of the report's range, so quiet periods show as gaps.
function periodsOf(report, stepMs) {
  const periods = [];
  const end = Date.parse(report.end);
  for (let t = Math.floor(Date.parse(report.start) / stepMs) * stepMs; t < end; t += stepMs) {
    periods.push(new Date(t).toISOString().replace('.000Z', 'Z'));
  }
  return periods;
}

// ---- keys -----------------------------------------------------------------------------------

function renderKeys(list, weekByKey) {
  const table = $('keys');
  const head = el('tr', {});
  for (const label of ['Key', 'Models', 'RPM', 'TPM', 'Parallel', 'Budget', 'Spent', 'Requests (7 d)',
                       'Expires', 'State']) {
    head.append(el('th', { scope: 'col' }, label));
  }
  const requests = new Map();
  for (const row of weekByKey) requests.set(row.key, (requests.get(row.key) || 0) + row.requests);
  const body = el('tbody');
  for (const key of list.keys || []) {
    const name = key.key_alias || key.key_name;
    const budget = key.max_budget == null ? '—'
        : `${formatUsd(key.max_budget)}${key.budget_duration ? ' / ' + key.budget_duration : ''}`;
    const limit = (value) => (value == null ? '—' : formatNumber(value));
    body.append(el('tr', { 'data-key': name },
                   el('th', { scope: 'row' }, name),
                   el('td', {}, key.models && key.models.length ? key.models.join(', ') : 'all'),
                   el('td', {}, limit(key.rpm_limit)), el('td', {}, limit(key.tpm_limit)),
                   el('td', {}, limit(key.max_parallel_requests)), el('td', {}, budget),
                   el('td', {}, formatUsd(key.spend || 0)),
                   el('td', {}, formatNumber(requests.get(name) || 0)),
                   el('td', {}, key.expires ? new Date(key.expires).toLocaleString() : 'never'),
                   el('td', {}, key.blocked ? 'blocked' : 'active')));
  }
  if (!body.children.length) {
    body.append(el('tr', {}, el('td', { colspan: 10 },
                                'No virtual keys: POST /key/generate or `claudegate key generate` makes one.')));
  }
  table.replaceChildren(el('thead', {}, head), body);
}

// ---- the page -------------------------------------------------------------------------------

function showLogin(message) {
  clearInterval(refreshTimer);
  refreshTimer = null;
  $('dashboard').hidden = true;
  $('session-actions').hidden = true;
  $('login-section').hidden = false;
  $('login-error').textContent = message || '';
  $('master-key').focus();
}

async function load() {
  let health;
  try {
    health = await getJson('/health');
  } catch (error) {
    if (error instanceof Unauthorized) {
      sessionStorage.removeItem(KEY_STORAGE);
      showLogin('That key was refused. Enter the master key (LITELLM_MASTER_KEY).');
      return;
    }
    $('status').textContent = `The gateway did not answer: ${error.message}`;
    return;
  }
  $('login-section').hidden = true;
  $('dashboard').hidden = false;
  $('session-actions').hidden = false;
  $('version').textContent = `version ${health.version}`;
  renderPlan(health.plan);
  renderCredentials(health.credentials || {});
  const problems = [];
  try {
    const [hourly, dailyModel, dailyKey, keys] = await Promise.all([
      getJson('/usage/report?since=24h&group_by=hour,model'),
      getJson('/usage/report?group_by=day,model'),
      getJson('/usage/report?group_by=day,key'),
      getJson('/key/list?return_full_object=true&size=1000').catch((error) => {
        problems.push(`keys: ${error.message}`);
        return { keys: [] };
      }),
    ]);
    renderTotals(hourly.totals);
    barChart($('chart-hourly'), hourly.data, 'model', periodsOf(hourly, 3600000), true);
    seriesTable($('table-hourly'), hourly.data, 'model', 'Model');
    barChart($('chart-daily-model'), dailyModel.data, 'model', periodsOf(dailyModel, 86400000), false);
    seriesTable($('table-daily-model'), dailyModel.data, 'model', 'Model');
    barChart($('chart-daily-key'), dailyKey.data, 'key', periodsOf(dailyKey, 86400000), false);
    seriesTable($('table-daily-key'), dailyKey.data, 'key', 'Key');
    renderKeys(keys, dailyKey.data);
  } catch (error) {
    if (error instanceof Unauthorized) {
      sessionStorage.removeItem(KEY_STORAGE);
      showLogin('That key was refused.');
      return;
    }
    problems.push(`usage: ${error.message}`);
  }
  $('status').textContent = problems.join(' · ');
  updateCountdowns();
  $('updated').textContent = `Updated ${new Date().toLocaleTimeString()}`;
  document.body.dataset.loaded = String(Date.now());
  if (!refreshTimer) refreshTimer = setInterval(load, REFRESH_MS);
}

document.addEventListener('DOMContentLoaded', () => {
  $('login').addEventListener('submit', (event) => {
    event.preventDefault();
    const key = $('master-key').value.trim();
    if (!key) {
      $('login-error').textContent = 'Enter the master key.';
      return;
    }
    sessionStorage.setItem(KEY_STORAGE, key);
    $('master-key').value = '';
    load();
  });
  $('refresh').addEventListener('click', () => load());
  $('logout').addEventListener('click', () => {
    sessionStorage.removeItem(KEY_STORAGE);
    showLogin('');
  });
  setInterval(updateCountdowns, 1000);
  if (sessionStorage.getItem(KEY_STORAGE)) load();
  else showLogin('');
});
