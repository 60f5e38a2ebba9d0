'use strict';
// ---------------------------------------------------------------- basics
const KEY_STORE = 'smsleopard.apiKey';
const PAGE_SIZE = 20;
const CAMPAIGN_STATUSES = ['draft', 'scheduled', 'sending', 'paused', 'sent', 'failed', 'cancelled'];
const MESSAGE_STATUSES = ['pending', 'sending', 'sent', 'failed', 'cancelled', 'suppressed'];
const FIELDS = ['first_name', 'last_name', 'phone', 'location', 'preferred_product'];
const CHANNELS = {sms: 'SMS', whatsapp: 'WhatsApp'};
const main = document.getElementById('main');
const numberFormat = new Intl.NumberFormat();
const relative = new Intl.RelativeTimeFormat(undefined, {numeric: 'auto'});
const num = n => (n == null ? '—' : numberFormat.format(n));
const plural = (n, word) => num(n) + ' ' + word + (n === 1 ? '' : 's');
const cap = s => s.charAt(0).toUpperCase() + s.slice(1).replace(/_/g, ' ');
// Percentages are rounded down, as progress is: 100% only when all is done, and the same figure wherever it shows.
const percentOf = (part, whole) => (whole ? Math.floor(100 * part / whole) : 0);
// From the counts, not the API's percent: that one is rounded to a tenth, so 1,999 of 2,000 would say 100%.
const settledPercent = s => percentOf(s.total - s.pending - s.sending, s.total);

// h('tag', {attr: value, onclick: fn}, ...children): DOM built safely, text is never parsed as HTML.
function h(tag, attrs, ...kids) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v == null || v === false) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (k === 'class') el.className = v;
    else if (k === 'value' || k === 'checked' || k === 'selected') el[k] = v;
    else el.setAttribute(k, v === true ? '' : v);
  }
  for (const kid of kids.flat(Infinity)) if (kid != null && kid !== false) el.append(kid.nodeType ? kid : String(kid));
  return el;
}

// svg('tag', {attr: value}, ...children): the same for SVG, whose elements need their namespace.
function svg(tag, attrs, ...kids) {
  const el = document.createElementNS('http://www.w3.org/2000/svg', tag);
  for (const [k, v] of Object.entries(attrs || {})) if (v != null) el.setAttribute(k, v);
  for (const kid of kids.flat(Infinity)) if (kid != null && kid !== false) el.append(kid.nodeType ? kid : String(kid));
  return el;
}

// A table whose cells carry their column's name: on a phone each row stands as a card of labelled values.
function table(attrs, heads, rows) {
  const names = heads.map(hd => (typeof hd === 'string' ? hd : hd.label));
  for (const tr of rows) [...tr.children].forEach((td, i) => { if (names[i]) td.setAttribute('data-label', names[i]); });
  return h('table', Object.assign({class: 'stack'}, attrs),
    h('thead', {}, h('tr', {}, heads.map(hd => (typeof hd === 'string' ? h('th', {}, hd) :
      h('th', {class: hd.cls || null}, hd.hidden ? h('span', {class: 'sr-only'}, hd.label) : hd.label))))),
    h('tbody', {}, rows));
}

// The browser's time zone, said with every time a person types or reads: "Africa/Nairobi (UTC+3)".
const ZONE = Intl.DateTimeFormat().resolvedOptions().timeZone || 'local time';
function zoneLabel() {
  if (ZONE === 'UTC') return 'UTC';
  const minutes = -new Date().getTimezoneOffset(), sign = minutes < 0 ? '−' : '+', a = Math.abs(minutes);
  return ZONE + ' (UTC' + (minutes ? sign + Math.floor(a / 60) + (a % 60 ? ':' + String(a % 60).padStart(2, '0') : '') : '') + ')';
}

// What the service is set up with (quiet hours, daily cap), read once from GET /overview.
let serviceSettings = null;
async function settings() {
  if (!serviceSettings) serviceSettings = (await api('GET', '/overview')).settings;
  return serviceSettings;
}

function uuid() {
  if (crypto.randomUUID) return crypto.randomUUID();
  return Array.from(crypto.getRandomValues(new Uint8Array(16)), b => b.toString(16).padStart(2, '0')).join('');
}

function when(iso) {
  if (!iso) return '—';
  const seconds = (new Date(iso) - Date.now()) / 1000, a = Math.abs(seconds);
  const [n, unit] = a < 45 ? [0, 'second'] : a < 3570 ? [seconds / 60, 'minute'] : a < 86400 ? [seconds / 3600, 'hour'] : [seconds / 86400, 'day'];
  if (unit === 'day' && a > 30 * 86400) return absolute(iso);
  return unit === 'second' ? (seconds > 0 ? 'in a moment' : 'just now') : relative.format(Math.round(n), unit);
}
const absolute = iso => (iso ? new Date(iso).toLocaleString(undefined, {year: 'numeric', month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', timeZoneName: 'short'}) : '—');
// To the second where it tells apart times less than an hour apart: a 45-second campaign's ends differ.
const clockTime = (d, seconds) => d.toLocaleTimeString(undefined, {hour: '2-digit', minute: '2-digit', second: seconds ? '2-digit' : undefined});
const timeEl = iso => h('time', {datetime: iso || '', title: absolute(iso)}, when(iso));

const duration = s => (s == null ? '—' : s === 0 ? 'done' : s < 60 ? Math.max(1, Math.round(s)) + ' s' :
  s < 3600 ? Math.round(s / 60) + ' min' : (s / 3600).toFixed(1) + ' h');

const badge = (status, label) => h('span', {class: 'badge b-' + status, 'data-status': status}, label || cap(status));
const customerName = c => [c.first_name, c.last_name].filter(x => x && x.trim()).join(' ');

function bar(percent, status, label) {
  const p = Math.max(0, Math.min(100, percent || 0));
  return h('div', {class: 'bar s-' + status, role: 'progressbar', 'aria-label': label,
    'aria-valuemin': 0, 'aria-valuemax': 100, 'aria-valuenow': Math.floor(p), 'aria-valuetext': Math.floor(p) + '%'},
  h('span', {style: 'width:' + p + '%'}));
}

function field(id, label, control, hint) {
  control.id = id;
  return h('div', {class: 'field'}, h('label', {for: id}, label), control, hint && h('p', {class: 'hint'}, hint));
}
const options = (pairs, chosen) => pairs.map(([v, t]) => h('option', {value: v, selected: String(v) === String(chosen)}, t));

// Replace a region's content, keeping keyboard focus on the "same" control (data-fk) across re-renders.
function swap(region, ...nodes) {
  const active = document.activeElement;
  const fk = active && region.contains(active) ? active.getAttribute('data-fk') : null;
  region.replaceChildren(...nodes.flat(Infinity).filter(n => n != null && n !== false));
  if (fk) {
    const again = region.querySelector('[data-fk="' + fk + '"]') || region.querySelector('button, a, select, input');
    if (again) again.focus();
  }
}

function toast(message, kind) {
  const box = document.getElementById('toasts');
  if ([...box.children].some(t => t.firstChild.textContent === message)) return;  // a failing poll says it once
  const item = h('div', {class: 'toast ' + (kind || ''), role: kind === 'error' ? 'alert' : null, 'data-testid': 'toast'},
    h('span', {}, message), h('button', {type: 'button', 'aria-label': 'Dismiss', onclick: () => item.remove()}, '×'));
  box.append(item);
  setTimeout(() => item.remove(), kind === 'error' ? 10000 : 5000);
}

// ---------------------------------------------------------------- API
class ApiError extends Error {
  constructor(status, code, message, errors) { super(message); Object.assign(this, {status, code, errors: errors || []}); }
}

async function api(method, path, body, opts) {
  opts = opts || {};
  const headers = {Accept: 'application/json'};
  const key = sessionStorage.getItem(KEY_STORE);
  if (key) headers.Authorization = 'Bearer ' + key;
  if (opts.idempotencyKey) headers['Idempotency-Key'] = opts.idempotencyKey;
  if (body !== undefined) headers['Content-Type'] = opts.csv ? 'text/csv' : 'application/json';
  let response;
  try {
    response = await fetch(path, {method, headers, body: body === undefined ? undefined : opts.csv ? body : JSON.stringify(body)});
  } catch (e) {
    throw new ApiError(0, 'NETWORK', 'Cannot reach the SMSLeopard service. Check that it is running.');
  }
  if (response.status === 204) return null;
  let data = null;
  try { data = await response.json(); } catch (e) { data = null; }
  if (!response.ok) {
    const err = (data && data.error) || {};
    const failure = new ApiError(response.status, err.code || 'HTTP_' + response.status, err.message || response.statusText || 'Request failed', err.errors);
    if (response.status === 401) {
      const rejected = sessionStorage.getItem(KEY_STORE);
      sessionStorage.removeItem(KEY_STORE);
      askForKey(rejected ? 'That key was not accepted: ' + failure.message : null);
    }
    throw failure;
  }
  return data;
}

function fail(e) {
  if (e.status === 401) return;  // the key prompt is on screen
  toast(e.message, 'error');
}

// ---------------------------------------------------------------- routing and polling
const view = {id: 0};
const poll = {timer: null, fn: null};
function live() { const id = view.id; return () => id === view.id; }
// Of overlapping loads in one view only the newest may draw: an older answer arriving late is dropped.
function newestOnly(isLive) { let n = 0; return () => { const mine = ++n; return () => isLive() && mine === n; }; }

function setPoll(fn, ms) {
  clearTimeout(poll.timer);
  poll.fn = ms == null ? null : fn;
  if (ms != null && !document.hidden) poll.timer = setTimeout(fn, ms);
}
document.addEventListener('visibilitychange', () => {
  clearTimeout(poll.timer);
  if (!document.hidden && poll.fn) poll.fn();
});

// Sending (or due to start) refreshes every second; a later schedule wakes the page at its time; else nothing.
function nextPoll(campaigns) {
  let next = null;
  for (const c of campaigns) {
    if (c.status === 'sending' || (c.stats && c.stats.sending > 0)) return 1000;
    if (c.status === 'scheduled' && c.scheduled_at && c.stats.total > 0) {
      const wait = Math.max(1000, new Date(c.scheduled_at) - Date.now() + 500);
      next = Math.min(next == null ? Infinity : next, wait, 2147483000);
    }
  }
  return next;
}

function route() {
  view.id++;
  setPoll(null, null);
  const parts = location.hash.replace(/^#[/]?/, '').split('/').filter(Boolean);
  const section = parts[0] === 'customers' ? 'customers' : parts[0] === 'campaigns' ? 'campaigns' : 'overview';
  for (const name of ['overview', 'campaigns', 'customers']) {
    document.getElementById('nav-' + name).toggleAttribute('aria-current', false);
    if (name === section) document.getElementById('nav-' + name).setAttribute('aria-current', 'page');
  }
  document.getElementById('key-status').hidden = !sessionStorage.getItem(KEY_STORE);
  if (parts[0] === 'customers') return showCustomers();
  if (parts[0] === 'campaigns' && parts[1] === 'new') return showCompose(null);
  if (parts[0] === 'campaigns' && /^[0-9]+$/.test(parts[1] || '')) return parts[2] === 'edit' ? showCompose(+parts[1]) : showCampaign(+parts[1]);
  if (!parts.length) return showOverview();
  if (parts[0] !== 'campaigns') return showMessage('Page not found', 'There is nothing at this address.');
  return showCampaigns();
}
window.addEventListener('hashchange', route);

function page(title, ...nodes) {
  document.title = title + ' · SMSLeopard';
  main.replaceChildren(...nodes);
}
function focusHeading() { const h1 = main.querySelector('h1'); if (h1) { h1.tabIndex = -1; h1.focus({preventScroll: true}); } }

function showMessage(title, text) {
  page(title, h('div', {class: 'card center-card empty'}, h('strong', {}, title), h('p', {}, text),
    h('a', {class: 'btn', href: '#/campaigns'}, 'Back to campaigns')));
}

// Paging: a cursor for each page reached by "Next" (it continues after the last row seen), a page number otherwise.
const newPager = () => ({page: 1, cursors: {}});
function listQuery(pager, filters, size) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(filters)) if (v) q.set(k, v);
  q.set('page_size', size || PAGE_SIZE);
  if (pager.cursors[pager.page]) q.set('cursor', pager.cursors[pager.page]);
  else if (pager.page > 1) q.set('page', pager.page);
  return q.toString();
}
function pagerBar(pager, pagination, noun, prefix, go) {
  if (pagination.next_cursor) pager.cursors[pager.page + 1] = pagination.next_cursor;
  const total = pagination.total_count;
  return h('div', {class: 'pager'},
    h('span', {id: prefix + '-page-info'}, 'Page ' + num(pager.page) + ' of ' + num(Math.max(1, pagination.total_pages)) + ' · ' + num(total) + ' ' + noun),
    h('div', {class: 'actions'},
      h('button', {type: 'button', class: 'btn small', id: prefix + '-prev', 'data-fk': prefix + '-prev', disabled: pager.page <= 1,
        onclick: () => { pager.page--; go(); }}, '← Previous'),
      h('button', {type: 'button', class: 'btn small', id: prefix + '-next', 'data-fk': prefix + '-next', disabled: !pagination.next_cursor,
        onclick: () => { pager.page++; go(); }}, 'Next →')));
}

// ---------------------------------------------------------------- API key
// Shown on the first 401: the key goes to sessionStorage (this tab only) and the view loads again with it.
let askingForKey = false;
function askForKey(problem) {
  if (askingForKey) return;
  askingForKey = true;
  view.id++;
  setPoll(null, null);
  const input = h('input', {type: 'password', autocomplete: 'off', required: true});
  const error = h('div', {id: 'key-error', role: 'alert'}, problem && h('p', {class: 'alert error'}, problem));
  const form = h('form', {id: 'key-form', novalidate: true}, h('h1', {}, 'Enter your API key'),
    h('p', {class: 'hint', style: 'margin-bottom:14px'}, 'This SMSLeopard service asks for an API key. It is kept for this browser tab only.'),
    error, field('api-key-input', 'API key', input), h('button', {type: 'submit', class: 'btn primary', id: 'api-key-submit'}, 'Continue'));
  form.addEventListener('submit', event => {
    event.preventDefault();
    if (!input.value.trim()) return error.replaceChildren(h('p', {class: 'alert error'}, 'Enter the API key.'));
    sessionStorage.setItem(KEY_STORE, input.value.trim());
    askingForKey = false;
    route();
  });
  page('API key', h('div', {class: 'card center-card'}, form));
  document.getElementById('key-status').hidden = true;
  input.focus();
}
document.getElementById('forget-key').addEventListener('click', () => { sessionStorage.removeItem(KEY_STORE); askForKey(); });

// ---------------------------------------------------------------- charts
// Drawn here as SVG, from the API's numbers; each has a caption that says what it shows in words, and
// "Show the numbers" opens them as a table (what a screen reader reads instead of the picture).
const fmt1 = n => (n == null ? '—' : n.toLocaleString(undefined, {maximumFractionDigits: n < 10 ? 1 : 0}));

function chartFigure(id, caption, drawing, heads, rows) {
  const capId = id + '-caption';
  drawing.setAttribute('role', 'img');
  drawing.setAttribute('aria-labelledby', capId);
  return h('figure', {class: 'chart', id},
    drawing, h('figcaption', {id: capId, class: 'sub'}, caption),
    h('details', {}, h('summary', {}, 'Show the numbers'),
      h('div', {class: 'numbers'}, table({}, heads, rows.map(r => h('tr', {}, r.map(c => h('td', {}, c))))))));
}

// Bars of one series over time: values, with where each bar starts and ends on a 0..1 scale.
function barsSvg(bars, colour, height) {
  const top = Math.max(...bars.map(b => b.value), 0);
  const scale = top ? (height - 4) / top : 0;
  return svg('svg', {viewBox: '0 0 1000 ' + height, preserveAspectRatio: 'none', class: 'bars', height},
    [0.25, 0.5, 0.75].map(f => svg('line', {x1: 0, x2: 1000, y1: height * f, y2: height * f, class: 'grid'})),
    bars.map(b => svg('rect', {x: (b.from * 1000).toFixed(2), width: Math.max(1, (b.to - b.from) * 1000 - 0.5).toFixed(2),
      y: (height - b.value * scale).toFixed(2), height: (b.value * scale).toFixed(2), fill: b.colour || colour})));
}

// Stacked areas of cumulative counts over time (x on a 0..1 scale).
function areasSvg(points, series, height) {
  const top = Math.max(1, ...points.map(pt => series.reduce((sum, one) => sum + pt[one.key], 0)));
  const y = v => (height - v * (height - 4) / top).toFixed(2);
  let below = points.map(() => 0);
  const shapes = series.map(one => {
    const upper = points.map((pt, i) => below[i] + pt[one.key]);
    const path = points.map((pt, i) => (i ? 'L' : 'M') + (pt.x * 1000).toFixed(2) + ' ' + y(upper[i])).join(' ') + ' ' +
      points.map((pt, i) => points.length - 1 - i).map(i => 'L' + (points[i].x * 1000).toFixed(2) + ' ' + y(below[i])).join(' ') + ' Z';
    below = upper;
    return svg('path', {d: path, fill: one.colour});
  });
  return svg('svg', {viewBox: '0 0 1000 ' + height, preserveAspectRatio: 'none', class: 'bars', height},
    [0.25, 0.5, 0.75].map(f => svg('line', {x1: 0, x2: 1000, y1: height * f, y2: height * f, class: 'grid'})), shapes);
}

const pointTime = pt => new Date(pt.at).getTime();

// A campaign's timeline as steps of attempts per second (a retried message makes several), each at least
// a second long: over less, a rate claims more than was made (13 attempts in 18 ms are not 722/s), so a
// point closer than that to the step's start is passed over and the step runs on to the next. While the
// campaign runs, what follows the last whole step is the second in progress, its outcomes still being
// recorded: it is left out, as an operator reads a last bar as the current rate, not as a drop to 0/s.
// Once the campaign is over, that rest joins the step before it, or alone counts as one second.
function attemptSteps(points, over) {
  const step = (a, b) => ({from: pointTime(a), to: Math.max(pointTime(b), pointTime(a) + 1000), start: a, end: b,
    value: Math.max(0, b.attempts - a.attempts) / Math.max(1, (pointTime(b) - pointTime(a)) / 1000)});
  const steps = [];
  let start = points[0];
  for (const pt of points.slice(1)) {
    if (pointTime(pt) - pointTime(start) < 1000) continue;
    steps.push(step(start, pt));
    start = pt;
  }
  const last = points[points.length - 1];
  if (over && last !== start) steps.push(step(steps.length ? steps.pop().start : start, last));
  return steps;
}

function axis(left, right, top) {
  return h('div', {class: 'axis', 'aria-hidden': 'true'}, h('span', {}, left), top ? h('span', {}, top) : null, h('span', {}, right));
}

// ---------------------------------------------------------------- overview
const GATEWAY_NAMES = {mock: 'Mock provider', generic: 'HTTP provider', twilio: 'Twilio', africastalking: 'Africa’s Talking',
  infobip: 'Infobip', kannel: 'Kannel', smpp: 'SMPP', whatsapp: 'WhatsApp Cloud API'};

// Text to paste elsewhere: read-only, selected whole on focus, and a button that copies it.
function copyField(id, label, value) {
  const input = h('input', {id, class: 'mono', readonly: true, value, spellcheck: 'false', 'data-fk': id, onfocus: () => input.select()});
  async function copy() {
    input.focus(); input.select();
    try { await navigator.clipboard.writeText(value); } catch (e) {  // no clipboard API outside https and localhost
      if (!document.execCommand('copy')) return toast('Press Ctrl+C (⌘C) to copy the selected ' + label.toLowerCase() + '.');
    }
    toast(label + ' copied.');
  }
  return h('div', {class: 'field copy'}, h('label', {for: id}, label), h('div', {class: 'copy-row'}, input,
    h('button', {type: 'button', class: 'btn small', 'data-fk': id + '-copy', 'aria-label': 'Copy ' + label.toLowerCase(), onclick: copy}, 'Copy')));
}

// GET /providers: each gateway, its state, and what to paste into its console (never a password, key or secret).
function gatewaysSection(providers) {
  const channels = g => g.channels.map(c => CHANNELS[c] || c).join(', ');
  const setup = providers.map((g, n) => {
    const cb = g.callbacks || {}, id = 'gw' + n, name = GATEWAY_NAMES[g.kind] || g.kind;
    if (g.kind === 'mock') return null;
    const urls = cb.receipts && cb.receipts === cb.inbound ? [['webhook', 'Callback URL (statuses and messages)', cb.receipts]]
      : [['receipts', 'Delivery reports URL', cb.receipts], ['inbound', 'Incoming messages URL', cb.inbound]].filter(u => u[2]);
    const rows = urls.map(([key, label, url]) => h('div', {'data-testid': 'callback-' + key + '-' + g.kind}, copyField(id + '-' + key, label, url)));
    if (g.verify_token) rows.push(h('div', {'data-testid': 'verify-token-' + g.kind}, copyField(id + '-verify', 'Verify token', g.verify_token)));
    const twin = providers.filter(other => other.kind === g.kind).length > 1;
    return h('div', {class: 'gateway-setup', 'data-testid': 'setup-' + g.kind}, h('h3', {}, name + (twin ? ' (' + channels(g) + ')' : '') + ': paste into its console'),
      rows.length ? rows : h('p', {class: 'hint'}, 'No callback URLs: start the service with --public-url (and --receipt-secret for gateways that do not sign ' +
        'their callbacks) to get delivery reports and replies.'));
  }).filter(Boolean);
  return [h('h2', {id: 'gw-h'}, 'Gateways'),
    table({id: 'gateways-table'}, ['Channels', 'Gateway', 'Host', 'State'], providers.map(g => h('tr', {'data-testid': 'gateway-' + g.channels.join('-')},
      h('td', {}, channels(g)), h('td', {}, GATEWAY_NAMES[g.kind] || g.kind), h('td', {class: 'sub'}, g.host || 'in this process'),
      h('td', {}, badge(g.state === 'up' ? 'up' : 'down', cap(g.state)), g.reason && h('div', {class: 'err-text'}, g.reason))))),
    setup.length ? h('div', {id: 'gateway-setup'}, setup, h('p', {class: 'hint'}, 'Where each goes in the gateway’s console: docs/gateways.md.'))
      : h('p', {class: 'hint', id: 'gateway-setup'}, 'The mock provider runs inside this service: there is nothing to set up.')];
}

function showOverview() {
  const isLive = live();
  const body = h('div', {id: 'overview'}, h('div', {class: 'empty'}, 'Loading…'));
  // Drawn again only when the answer changes: a URL being selected or copied is left alone by the polling.
  const gateways = h('section', {class: 'card', id: 'gateways', 'aria-labelledby': 'gw-h'}, h('h2', {id: 'gw-h'}, 'Gateways'));
  let shownGateways = '';
  page('Overview', h('div', {class: 'page-head'}, h('div', {}, h('h1', {}, 'Overview'),
    h('div', {class: 'meta'}, h('span', {id: 'overview-updated'}, 'Today is the UTC day; times are ' + zoneLabel()))),
  h('a', {class: 'btn primary', href: '#/campaigns/new'}, '+ New campaign')), body, gateways);
  focusHeading();
  const begin = newestOnly(isLive);
  async function load() {
    const current = begin();
    try {
      const [o, providers] = await Promise.all([api('GET', '/overview'), api('GET', '/providers')]);
      if (!current()) return;
      serviceSettings = o.settings;
      swap(body, render(o));
      if (JSON.stringify(providers.data) !== shownGateways) {
        shownGateways = JSON.stringify(providers.data);
        swap(gateways, gatewaysSection(providers.data));
      }
      const busy = o.attempts_in_flight > 0 || o.queue_depth > 0 || o.campaigns.sending > 0;
      setPoll(load, busy ? 1000 : 5000);
    } catch (e) {
      if (!current()) return;
      fail(e);
      swap(body, h('div', {class: 'empty'}, h('strong', {}, 'Could not load the overview'), e.message));
      if (e.status !== 401) setPoll(load, 5000);
    }
  }
  function tile(id, label, value, note, bad) {
    return h('div', {class: 'stat' + (bad ? ' warn' : ''), id}, h('div', {class: 'v'}, value), h('div', {class: 'k'}, label), note && h('div', {class: 'sub'}, note));
  }
  function render(o) {
    const today = h('section', {class: 'card', 'aria-labelledby': 'today-h', id: 'overview-today'},
      h('h2', {id: 'today-h'}, 'Today', h('span', {class: 'sub'}, ' · since ' + clockTime(new Date(o.today.since)) + ' (midnight UTC)')),
      h('div', {class: 'channels'}, o.today.channels.map(c => {
        const total = c.sent + c.failed;
        return h('div', {class: 'channel', 'data-testid': 'today-' + c.channel},
          h('h3', {}, CHANNELS[c.channel]),
          h('dl', {class: 'facts'}, h('dt', {}, 'Sent'), h('dd', {'data-testid': 'today-' + c.channel + '-sent'}, num(c.sent)),
            h('dt', {}, 'Delivered'), h('dd', {'data-testid': 'today-' + c.channel + '-delivered'}, num(c.delivered) + (c.sent ? ' (' + percentOf(c.delivered, c.sent) + '% of sent)' : '')),
            h('dt', {}, 'Failed'), h('dd', {'data-testid': 'today-' + c.channel + '-failed', class: c.failed ? 'bad' : null}, num(c.failed))),
          h('div', {class: 'bar', 'aria-hidden': 'true'}, h('span', {class: 'seg-sent', style: 'width:' + (total ? 100 * c.sent / total : 0) + '%'}),
            h('span', {class: 'seg-failed', style: 'width:' + (total ? 100 * c.failed / total : 0) + '%'})));
      })));
    // The API's last point is the step still in progress: left out, as it would show as a drop (a second into
    // a 10-second step it holds a tenth of its attempts); the chart ends at the last whole step, seconds ago.
    const series = o.attempts_per_second.slice(0, -1), n = series.length, current = o.attempts_per_second[n];
    const peak = series.reduce((best, pt) => (pt.per_second > best.per_second ? pt : best), series[0] || {per_second: 0});
    const lastMinute = series.slice(-6).reduce((sum, pt) => sum + pt.per_second, 0) / Math.max(1, Math.min(6, n));
    const caption = peak.per_second ? 'Attempts per second over the last hour, in ' + o.step_seconds + '-second steps: peak ' + fmt1(peak.per_second) + ' at ' +
      clockTime(new Date(peak.at), true) + '; ' + fmt1(lastMinute) + ' a second over the last minute.' :
      current && current.per_second ? 'Attempts began in the last ' + o.step_seconds + ' seconds: they show when the step is over.' : 'No attempts in the last hour.';
    const chart = h('section', {class: 'card', 'aria-labelledby': 'rate-h'}, h('h2', {id: 'rate-h'}, 'Attempts per second, last hour'),
      chartFigure('attempts-chart', caption, barsSvg(series.map((pt, i) => ({from: i / n, to: (i + 1) / n, value: pt.per_second})), '#b45309', 140),
        ['Time', {label: 'Attempts/s', cls: 'num'}], series.filter(pt => pt.per_second).map(pt => [clockTime(new Date(pt.at), true), fmt1(pt.per_second)])),
      axis(n ? clockTime(new Date(series[0].at)) : '', 'now', 'peak ' + fmt1(peak.per_second) + '/s'),
      h('p', {class: 'hint'}, 'Counted by this service process; with several processes, each shows its own.'));
    const pr = o.provider;
    const tiles = h('section', {class: 'card', 'aria-labelledby': 'now-h'}, h('h2', {id: 'now-h'}, 'Right now'),
      h('div', {class: 'stats tiles'},
        tile('tile-pending', 'Messages pending', num(o.messages_pending), 'not sent yet, in all campaigns'),
        tile('tile-queue', 'Queue depth', num(o.queue_depth), o.queue_depth == null ? 'queue unreachable' : 'jobs waiting', o.queue_depth == null),
        tile('tile-in-flight', 'In flight', num(o.attempts_in_flight), 'attempts at the provider'),
        tile('tile-latency', 'Provider latency', pr.median_ms == null ? '—' : fmt1(pr.median_ms) + ' ms', pr.p95_ms == null ? 'no attempts in 5 min' : 'median · p95 ' + fmt1(pr.p95_ms) + ' ms'),
        tile('tile-error-rate', 'Error rate', pr.error_rate == null ? '—' : (100 * pr.error_rate).toLocaleString(undefined, {maximumFractionDigits: 1}) + '%',
          num(pr.errors) + ' of ' + plural(pr.attempts, 'attempt') + ' in 5 min' + (pr.throttled ? ' · ' + num(pr.throttled) + ' throttled' : ''), pr.error_rate > 0.1),
        tile('tile-outbox', 'Webhook outbox', num(o.webhook_outbox_depth), 'events not delivered yet', o.webhook_outbox_depth > 1000)));
    const counts = h('section', {class: 'card', 'aria-labelledby': 'camp-h'}, h('h2', {id: 'camp-h'}, 'Campaigns'),
      h('ul', {class: 'counts'}, CAMPAIGN_STATUSES.map(st => h('li', {}, h('a', {href: '#/campaigns', onclick: () => { listState.status = st; listState.pager = newPager(); }}, badge(st)), ' ', h('strong', {}, num(o.campaigns[st]))))),
      h('p', {class: 'hint'}, 'Quiet hours: ' + (o.settings.quiet_hours ? o.settings.quiet_hours + ' in each customer’s time zone' : 'off') +
        ' · daily cap: ' + (o.settings.max_per_customer_per_day ? num(o.settings.max_per_customer_per_day) + ' per customer' : 'none') + '.'));
    return [today, chart, h('div', {class: 'split'}, tiles, counts)];
  }
  load();
}

// ---------------------------------------------------------------- campaign list
const listState = {status: '', channel: '', pager: newPager()};

function showCampaigns() {
  const isLive = live();
  const body = h('div', {id: 'campaigns-body'}, h('div', {class: 'empty'}, 'Loading campaigns…'));
  const filter = (id, label, pairs, key) => field(id, label, h('select', {onchange: e => {
    listState[key] = e.target.value; listState.pager = newPager(); load();
  }}, options(pairs, listState[key])));
  page('Campaigns',
    h('div', {class: 'page-head'}, h('h1', {}, 'Campaigns'), h('a', {class: 'btn primary', href: '#/campaigns/new', id: 'new-campaign'}, '+ New campaign')),
    h('div', {class: 'card flush'},
      h('div', {class: 'toolbar'},
        filter('filter-status', 'Status', [['', 'All statuses'], ...CAMPAIGN_STATUSES.map(s => [s, cap(s)])], 'status'),
        filter('filter-channel', 'Channel', [['', 'All channels'], ...Object.entries(CHANNELS)], 'channel')),
      body));
  focusHeading();

  const begin = newestOnly(isLive);
  async function load() {
    const current = begin();
    try {
      const answer = await api('GET', '/campaigns?' + listQuery(listState.pager, {status: listState.status, channel: listState.channel}));
      if (!current()) return;
      if (!answer.data.length && listState.pager.page > 1) { listState.pager = newPager(); return load(); }
      swap(body, answer.data.length ? campaignTable(answer) : campaignsEmpty());
      setPoll(load, nextPoll(answer.data));
    } catch (e) {
      if (!current()) return;
      fail(e);
      swap(body, h('div', {class: 'empty'}, h('strong', {}, 'Could not load campaigns'), e.message));
      if (e.status !== 401) setPoll(load, 5000);
    }
  }
  function campaignTable(answer) {
    return h('div', {},
      table({id: 'campaigns-table'}, ['Campaign', 'Status', 'Progress', {label: 'Sent', cls: 'num'}, {label: 'Failed', cls: 'num'}, 'Created'],
        answer.data.map(c => h('tr', {'data-testid': 'campaign-row-' + c.id, 'data-status': c.status},
          h('td', {}, h('a', {class: 'name-link', href: '#/campaigns/' + c.id, 'data-fk': 'c' + c.id}, c.name),
            h('div', {class: 'sub'}, CHANNELS[c.channel] + ' · #' + c.id + (c.status === 'scheduled' ? ' · starts ' + when(c.scheduled_at) : ''))),
          h('td', {}, badge(c.status)),
          h('td', {}, h('div', {class: 'progress-cell'}, bar(settledPercent(c.stats), c.status, 'Progress of ' + c.name),
            h('span', {class: 'pct'}, settledPercent(c.stats) + '%'))),
          h('td', {class: 'num'}, num(c.stats.sent), h('span', {class: 'sub'}, ' / ' + num(c.stats.total))),
          h('td', {class: 'num' + (c.stats.failed ? ' bad' : '')}, num(c.stats.failed)),
          h('td', {class: 'sub'}, timeEl(c.created_at))))),
      pagerBar(listState.pager, answer.pagination, 'campaigns', 'campaigns', load));
  }
  function campaignsEmpty() {
    if (listState.status || listState.channel) {
      return h('div', {class: 'empty'}, h('strong', {}, 'No campaigns match these filters'),
        h('button', {type: 'button', class: 'btn', onclick: () => { listState.status = listState.channel = ''; listState.pager = newPager(); route(); }}, 'Clear filters'));
    }
    return h('div', {class: 'empty', id: 'campaigns-empty'}, h('strong', {}, 'No campaigns yet — create one'),
      'Write a message once; SMSLeopard personalises it for every customer.',
      h('div', {}, h('a', {class: 'btn primary', href: '#/campaigns/new'}, '+ New campaign')));
  }
  load();
}

// ---------------------------------------------------------------- one campaign
const CAN = {
  edit: ['draft', 'scheduled', 'paused'], send: ['draft', 'scheduled', 'sending', 'paused'], pause: ['sending'],
  resume: ['paused'], cancel: ['draft', 'scheduled', 'sending', 'paused'], retry: ['sending', 'paused', 'sent', 'failed'],
};

function confirmDialog(title, text, okLabel) {
  const dialog = document.getElementById('confirm-dialog');
  document.getElementById('confirm-title').textContent = title;
  document.getElementById('confirm-text').textContent = text;
  document.getElementById('confirm-ok').textContent = okLabel;
  return new Promise(resolve => {
    const done = answer => { dialog.onclose = null; if (dialog.open) dialog.close(); resolve(answer); };
    document.getElementById('confirm-ok').onclick = () => done(true);
    document.getElementById('confirm-cancel').onclick = () => done(false);
    dialog.onclose = () => done(false);
    dialog.showModal();
    document.getElementById('confirm-cancel').focus();
  });
}

function showCampaign(id) {
  const isLive = live();
  const st = {campaign: null, msgStatus: '', delivery: '', pager: newPager(), sendShown: false};
  const title = h('h1', {id: 'campaign-name'}, 'Campaign #' + id);
  const meta = h('div', {class: 'meta'});
  const actions = h('div', {class: 'actions', id: 'campaign-actions'});
  const head = h('div', {class: 'page-head'}, h('div', {}, title, meta), actions);
  const progress = h('section', {class: 'card', id: 'progress-card', 'aria-label': 'Progress'}, 'Loading…');
  const lifeCard = h('section', {class: 'card', id: 'life-card', 'aria-labelledby': 'life-h'}, h('h2', {id: 'life-h'}, 'Over its life'));
  const sendCard = h('section', {class: 'card', id: 'send-panel', 'aria-labelledby': 'send-h', hidden: true});
  const aboutCard = h('section', {class: 'card', 'aria-labelledby': 'about-h'});
  const errorsBody = h('div', {});
  const msgsBody = h('div', {});
  const msgFilter = (fid, label, pairs, key) => field(fid, label, h('select', {onchange: e => { st[key] = e.target.value; st.pager = newPager(); refresh(); }}, options(pairs, '')));
  page('Campaign #' + id, h('div', {class: 'crumbs'}, h('a', {href: '#/campaigns'}, 'Campaigns'), ' / #' + id), head, progress, lifeCard,
    h('div', {class: 'split'}, h('div', {}, sendCard,
      h('section', {class: 'card flush', 'aria-labelledby': 'errors-h'}, h('div', {class: 'toolbar'}, h('h2', {id: 'errors-h', style: 'margin:0'}, 'Errors')), errorsBody)),
    aboutCard),
    h('section', {class: 'card flush', 'aria-labelledby': 'messages-h'},
      h('div', {class: 'toolbar'}, h('h2', {id: 'messages-h', style: 'margin:0 auto 6px 0'}, 'Messages'),
        msgFilter('messages-status-filter', 'Status', [['', 'All statuses'], ...MESSAGE_STATUSES.map(s => [s, cap(s)])], 'msgStatus'),
        msgFilter('messages-delivery-filter', 'Delivery', [['', 'Any delivery'], ['delivered', 'Delivered'], ['undelivered', 'Undelivered']], 'delivery')),
      msgsBody));
  focusHeading();

  const begin = newestOnly(isLive);
  async function refresh() {
    const current = begin();
    try {
      const [c, errors, msgs, life, service] = await Promise.all([
        api('GET', '/campaigns/' + id), api('GET', '/campaigns/' + id + '/errors?page_size=20'),
        api('GET', '/campaigns/' + id + '/messages?' + listQuery(st.pager, {status: st.msgStatus, delivery_status: st.delivery})),
        api('GET', '/campaigns/' + id + '/timeline'), settings()]);
      if (!current()) return;
      st.campaign = c; st.errors = errors;
      renderHead(c); renderProgress(c); renderLife(c, life); renderAbout(c, service); renderSend(c); renderErrors(errors); renderMessages(msgs);
      setPoll(refresh, nextPoll([c]));
    } catch (e) {
      if (!current()) return;
      if (e.status === 404 && !st.campaign) return showMessage('Campaign not found', e.message);
      fail(e);
      if (e.status !== 401) setPoll(refresh, 5000);
    }
  }

  function renderHead(c) {
    document.title = c.name + ' · SMSLeopard';
    title.textContent = c.name;
    swap(meta, h('span', {id: 'campaign-status'}, badge(c.status)), h('span', {}, CHANNELS[c.channel]),
      h('span', {}, 'created ', timeEl(c.created_at)), c.scheduled_at && c.status === 'scheduled' && h('span', {}, 'starts ', timeEl(c.scheduled_at)),
      c.finished_at && h('span', {}, 'finished ', timeEl(c.finished_at)));
    const button = (action, label, cls, onclick) => h('button', {type: 'button', class: 'btn ' + (cls || ''), id: 'action-' + action, 'data-fk': action, onclick}, label);
    const s = c.status;
    swap(actions,
      CAN.edit.includes(s) && h('a', {class: 'btn', href: '#/campaigns/' + c.id + '/edit', id: 'action-edit', 'data-fk': 'edit'}, 'Edit'),
      CAN.pause.includes(s) && h('button', {type: 'button', class: 'btn', id: 'action-pause', 'data-fk': 'toggle', onclick: () => act('pause')}, 'Pause'),
      CAN.resume.includes(s) && h('button', {type: 'button', class: 'btn primary', id: 'action-resume', 'data-fk': 'toggle', onclick: () => act('resume')}, 'Resume'),
      CAN.retry.includes(s) && c.stats.failed > 0 && button('retry', 'Retry ' + num(c.stats.failed) + ' failed', '', () => act('retry-failed')),
      CAN.cancel.includes(s) && button('cancel', 'Cancel campaign', 'danger', () => act('cancel')),
      s === 'draft' && c.stats.total === 0 && button('delete', 'Delete', 'danger', () => act('delete')));
  }

  // What a retry would do: failures that came before the retries ran out were the provider's final word.
  async function retryWarning(c) {
    if (!(await settings()).max_retries) return null;  // without retries every failure comes at the first attempt
    const failed = await api('GET', '/campaigns/' + c.id + '/messages?status=failed&page_size=100');
    const early = failed.data.filter(m => m.retry_count === 0 && m.last_error);
    if (!early.length) return null;
    const reasons = [...new Set(early.map(m => m.last_error))].slice(0, 3).join('; ');
    const some = failed.pagination.total_count > failed.data.length ? ' (of the first ' + num(failed.data.length) + ')' : '';
    return num(early.length) + ' of ' + plural(c.stats.failed, 'failed message') + some + ' failed at the first attempt, a permanent refusal (' +
      reasons + '): trying them again will not help. The others are tried again.';
  }

  async function act(action) {
    let c = st.campaign;
    if (action === 'cancel') {
      try { c = st.campaign = await api('GET', '/campaigns/' + c.id); } catch (e) { return fail(e); }
      const flying = c.stats.sending ? ' ' + plural(c.stats.sending, 'attempt') + ' already at the provider finish first; any of them that must be retried is cancelled too.' : '';
      if (!await confirmDialog('Cancel “' + c.name + '”?', (c.stats.pending ? plural(c.stats.pending, 'pending message') + ' will be cancelled, never sent.' : 'No message is pending.') +
        flying + ' This cannot be undone.', 'Cancel campaign')) return;
    }
    if (action === 'retry-failed') {
      let warning = null;
      try { warning = await retryWarning(c); } catch (e) { return fail(e); }
      if (warning && !await confirmDialog('Retry failed messages of “' + c.name + '”?', warning, 'Retry anyway')) return;
    }
    if (action === 'delete' && !await confirmDialog('Delete “' + c.name + '”?', 'The draft is removed for good.', 'Delete draft')) return;
    if (st.busy) return;
    st.busy = true;
    try {
      if (action === 'delete') {
        await api('DELETE', '/campaigns/' + c.id, undefined, {idempotencyKey: uuid()});
        toast('Deleted “' + c.name + '”.');
        location.hash = '#/campaigns';
        return;
      }
      const answer = await api('POST', '/campaigns/' + c.id + '/' + action, undefined, {idempotencyKey: uuid()});
      toast(action === 'retry-failed' ? plural(answer.messages_requeued, 'failed message') + ' queued again.' :
        action === 'cancel' ? '“' + c.name + '” is cancelled: ' + plural(answer.stats.cancelled - c.stats.cancelled, 'message') + ' cancelled.' :
          '“' + c.name + '” is ' + answer.status + '.');
    } catch (e) { fail(e); }
    st.busy = false;
    if (isLive()) refresh();
  }

  function renderProgress(c) {
    const s = c.stats, total = s.total || 0, pct = settledPercent(s);
    const share = n => (total ? (100 * n / total) : 0) + '%';
    const stat = (key, label) => h('div', {class: 'stat ' + key + (s[key] ? ' some' : ''), 'data-testid': 'stat-' + key}, h('div', {class: 'v'}, num(s[key])), h('div', {class: 'k'}, label));
    const settled = h('div', {class: 'bar big', id: 'campaign-progress', role: 'progressbar', 'aria-label': 'Messages settled',
      'aria-valuemin': 0, 'aria-valuemax': 100, 'aria-valuenow': pct, 'aria-valuetext': pct + '% settled'},
    h('span', {class: 'seg-sent', style: 'width:' + share(s.sent)}), h('span', {class: 'seg-failed', style: 'width:' + share(s.failed)}),
    h('span', {class: 'seg-other', style: 'width:' + share(s.suppressed + s.cancelled)}));
    const rate = c.progress.rate_per_second;
    swap(progress,
      h('div', {class: 'prog-head'}, h('div', {}, h('span', {class: 'big', id: 'progress-percent'}, pct + '%'), h('span', {class: 'sub'}, ' settled')),
        h('div', {class: 'sub', id: 'progress-rate'}, (rate ? rate.toLocaleString(undefined, {maximumFractionDigits: 1}) + ' messages/s · ' : '') +
          'time left: ' + (c.progress.eta_seconds == null ? (c.status === 'paused' ? 'paused' : '—') : duration(c.progress.eta_seconds)))),
      settled,
      h('div', {class: 'legend'}, h('span', {}, h('i', {class: 'seg-sent', style: 'background:#16a34a'}), 'sent'),
        h('span', {}, h('i', {style: 'background:#dc2626'}), 'failed'), h('span', {}, h('i', {style: 'background:#9aa4b2'}), 'suppressed or cancelled')),
      h('div', {class: 'stats'}, stat('total', 'Messages'), stat('sent', 'Sent'), stat('delivered', 'Delivered'), stat('failed', 'Failed'),
        stat('pending', 'Pending'), stat('sending', 'At the provider'), stat('suppressed', 'Suppressed'), stat('cancelled', 'Cancelled')));
  }

  // The campaign's life from GET /campaigns/{id}/timeline, and its funnel from its stats.
  function renderLife(c, life) {
    const steps = attemptSteps(life.points, !!c.finished_at);
    let charts;
    if (!steps.length) {
      charts = h('p', {class: 'hint', id: 'life-empty'}, c.started_at ? 'The chart fills in as messages settle.' : 'Not started yet: the chart shows once it sends.');
    } else {
      const from = steps[0].from, to = steps[steps.length - 1].to, x = ms => (ms - from) / (to - from);
      // The outcomes go on to the last point, held level to the end of a campaign shorter than a second.
      const now = life.points[life.points.length - 1], end = Math.max(to, pointTime(now));
      const time = ms => clockTime(new Date(ms), end - from < 3600e3);
      const peak = Math.max(...steps.map(one => one.value)), last = steps[steps.length - 1];
      const rate = chartFigure('rate-chart', 'Attempts per second over ' + duration((to - from) / 1000) + ': peak ' + fmt1(peak) + '/s' +
        (c.finished_at ? '.' : '; ' + fmt1(last.value) + '/s in the last ' + duration((last.to - last.from) / 1000) + '.'),
      barsSvg(steps.map(one => ({from: x(one.from), to: x(one.to), value: one.value})), '#b45309', 110),
      ['Time', {label: 'Attempts/s', cls: 'num'}, {label: 'Sent', cls: 'num'}, {label: 'Failed', cls: 'num'}, {label: 'Suppressed', cls: 'num'}],
      steps.map(one => [time(one.to), fmt1(one.value), num(one.end.sent), num(one.end.failed), num(one.end.suppressed)]));
      const outcomes = chartFigure('outcomes-chart', 'Outcomes so far: ' + num(now.sent) + ' sent, ' + num(now.failed) + ' failed, ' +
        num(now.suppressed + now.cancelled) + ' suppressed or cancelled.',
      areasSvg([...life.points, Object.assign({}, now, {at: new Date(end).toISOString()})].map(pt =>
        Object.assign({x: (pointTime(pt) - from) / (end - from), other: pt.suppressed + pt.cancelled}, pt)),
      [{key: 'sent', colour: '#16a34a'}, {key: 'failed', colour: '#dc2626'}, {key: 'other', colour: '#9aa4b2'}], 110), ['Time', {label: 'Sent', cls: 'num'}], []);
      charts = h('div', {class: 'two'}, h('div', {}, h('h3', {}, 'Attempts per second'), rate, axis(time(from), time(to))),
        h('div', {}, h('h3', {}, 'Outcomes'), outcomes, axis(time(from), time(end))));
      outcomes.querySelector('details').remove();  // the first chart's table holds these numbers too
    }
    const s = c.stats, total = s.total || 0;
    const awaiting = s.sent - s.delivered - s.undelivered;
    const step = (key, label, value, cls, depth) => h('li', {class: 'step' + (depth ? ' sub-step' : ''), 'data-testid': 'funnel-' + key},
      h('span', {class: 'label'}, label), h('span', {class: 'track', 'aria-hidden': 'true'}, h('span', {class: cls, style: 'width:' + (total ? 100 * value / total : 0) + '%'})),
      h('span', {class: 'value'}, num(value), total ? h('span', {class: 'sub'}, ' ' + percentOf(value, total) + '%') : null));
    const funnel = h('ol', {class: 'funnel', id: 'funnel', 'aria-label': 'Funnel: what became of the messages'},
      step('queued', 'Queued', total, 'seg-queued'), step('sent', 'Sent', s.sent, 'seg-sent'),
      step('delivered', 'Delivered', s.delivered, 'seg-sent', 1), step('undelivered', 'Undelivered', s.undelivered, 'seg-failed', 1),
      awaiting > 0 && step('awaiting', 'No receipt yet', awaiting, 'seg-other', 1),
      step('failed', 'Failed', s.failed, 'seg-failed'), step('suppressed', 'Suppressed', s.suppressed, 'seg-other'),
      s.cancelled > 0 && step('cancelled', 'Cancelled', s.cancelled, 'seg-other'),
      s.pending + s.sending > 0 && step('waiting', 'Still to go', s.pending + s.sending, 'seg-queued'));
    swap(lifeCard, h('h2', {id: 'life-h'}, 'Over its life'), h('div', {class: 'split'}, h('div', {}, charts), h('div', {}, h('h3', {}, 'Funnel'), funnel)));
  }

  function renderAbout(c, service) {
    swap(aboutCard, h('h2', {id: 'about-h'}, 'Message'), h('pre', {class: 'template', id: 'campaign-template'}, c.base_template),
      h('dl', {class: 'facts'}, h('dt', {}, 'Channel'), h('dd', {}, CHANNELS[c.channel]),
        c.channel === 'whatsapp' && [h('dt', {}, 'Template'), h('dd', {id: 'campaign-wa-template'}, templateFacts(c.whatsapp_template))],
        h('dt', {}, 'Rate limit'), h('dd', {}, c.rate_limit ? num(c.rate_limit) + ' messages/s' : 'Service default'),
        h('dt', {}, 'Quiet hours'), h('dd', {id: 'campaign-quiet'}, !service.quiet_hours ? 'Off: the service has none' :
          c.quiet_hours ? 'Respected (' + service.quiet_hours + ', the customer’s time)' : 'Ignored (transactional)'),
        h('dt', {}, 'Started'), h('dd', {}, absolute(c.started_at)), h('dt', {}, 'Finished'), h('dd', {}, absolute(c.finished_at))));
  }

  function templateFacts(t) {
    if (!t) return 'None: sent as text, which reaches a customer only within 24 hours of their last message';
    return [h('span', {class: 'mono'}, t.name), ' · ' + t.language, t.parameters.length ? h('ol', {class: 'wa-filled'},
      t.parameters.map((p, i) => h('li', {}, h('span', {class: 'sub'}, '{{' + (i + 1) + '}}'), h('span', {class: 'mono'}, p)))) : null];
  }

  // The send form is built once (what the person types survives the refreshes) and hidden when sending is over.
  function renderSend(c) {
    const can = CAN.send.includes(c.status);
    sendCard.hidden = !can;
    const later = c.status === 'scheduled' && new Date(c.scheduled_at) > Date.now();
    const label = c.status === 'draft' ? 'Send now' : later ? 'Queue for ' + absolute(c.scheduled_at) : 'Add recipients';
    if (st.sendSubmit) st.sendSubmit.textContent = label;
    if (st.sendStatus) st.sendStatus.textContent = c.status === 'paused' ? 'The campaign is paused: new recipients wait for Resume.' :
      c.status === 'sending' ? 'The campaign is sending.' : c.status === 'scheduled' ? 'The campaign starts ' + absolute(c.scheduled_at) + '.' : '';
    if (!can || st.sendShown) return;
    st.sendShown = true;
    let key = uuid();
    const renew = () => { key = uuid(); };
    const radio = (value, label) => h('label', {}, h('input', {type: 'radio', name: 'audience', value, id: 'send-mode-' + value, checked: value === 'all', onchange: show}), label);
    const location_ = h('input', {oninput: renew}), product = h('input', {oninput: renew}), ids = h('input', {oninput: renew, placeholder: 'e.g. 12, 15, 40'});
    const segment = h('div', {class: 'row-form', hidden: true}, field('send-location', 'Location', location_), field('send-product', 'Preferred product', product));
    const idsBox = h('div', {hidden: true}, field('send-ids', 'Customer IDs', ids, 'Separate the IDs with commas or spaces.'));
    const result = h('div', {id: 'send-result', role: 'status'});
    st.sendStatus = h('p', {class: 'hint', id: 'send-status'});
    const submit = st.sendSubmit = h('button', {type: 'submit', class: 'btn primary', id: 'send-submit'}, label);
    function show() {
      renew();
      const mode = sendCard.querySelector('input[name=audience]:checked').value;
      segment.hidden = mode !== 'segment'; idsBox.hidden = mode !== 'ids';
    }
    const form = h('form', {novalidate: true}, h('fieldset', {}, h('legend', {}, 'Audience'),
      h('div', {class: 'radios'}, radio('all', 'All customers'), radio('segment', 'A segment'), radio('ids', 'Chosen customers'))),
    segment, idsBox, result, st.sendStatus, submit);
    form.addEventListener('submit', async event => {
      event.preventDefault();
      const mode = form.querySelector('input[name=audience]:checked').value;
      let body = {all_customers: true};
      if (mode === 'segment') {
        const seg = {};
        if (location_.value.trim()) seg.location = location_.value.trim();
        if (product.value.trim()) seg.preferred_product = product.value.trim();
        if (!Object.keys(seg).length) { result.replaceChildren(h('p', {class: 'alert error'}, 'Give a location, a product or both.')); return; }
        body = {segment: seg};
      } else if (mode === 'ids') {
        const tokens = ids.value.split(/[^0-9a-zA-Z+.-]+/).filter(Boolean);
        const bad = tokens.find(t => !/^[0-9]+$/.test(t));
        if (!tokens.length || bad) { result.replaceChildren(h('p', {class: 'alert error'}, bad ? '“' + bad + '” is not a customer ID.' : 'Give at least one customer ID.')); return; }
        body = {customer_ids: tokens.map(Number)};
      }
      submit.disabled = true;
      try {
        if (mode === 'all') {
          const everyone = (await api('GET', '/customers?page_size=1')).pagination.total_count;
          const c = st.campaign;
          if (!await confirmDialog('Send “' + c.name + '” to all ' + plural(everyone, 'customer') + '?',
            'Each of the ' + num(everyone) + ' customers gets the message once (opted-out ones are suppressed)' +
            (c.status === 'draft' || (c.status === 'scheduled' && !later) ? '; sending starts now.' : '.'), 'Send to ' + num(everyone))) return;
        }
        const r = await api('POST', '/campaigns/' + id + '/send', body, {idempotencyKey: key});
        const text = 'Queued ' + plural(r.messages_queued, 'message') + (r.duplicates_skipped ? ' · ' + num(r.duplicates_skipped) + ' already had one' : '') +
          (r.suppressed ? ' · ' + num(r.suppressed) + ' opted out (suppressed)' : '') + '.';
        result.replaceChildren(h('p', {class: 'alert ok'}, text));
        toast(text);
        renew();
        refresh();
      } catch (e) {
        result.replaceChildren(h('p', {class: 'alert error'}, e.message));
        if (e.status === 401) fail(e);
      } finally { submit.disabled = false; }
    });
    sendCard.replaceChildren(h('h2', {id: 'send-h'}, 'Send'), h('p', {class: 'hint', style: 'margin:0 0 14px'},
      'Each customer gets the message once: sending to someone again is skipped. Opted-out customers are suppressed.'), form);
  }

  function renderErrors(answer) {
    swap(errorsBody, answer.data.length ? table({id: 'errors-table'}, ['Error', 'Status', {label: 'Messages', cls: 'num'}],
      answer.data.map(e => h('tr', {'data-testid': 'error-row'}, h('td', {class: 'err-text'}, e.last_error),
        h('td', {}, badge(e.status)), h('td', {class: 'num'}, num(e.count)))))
      : h('div', {class: 'empty', id: 'errors-empty'}, 'No errors: every attempt so far went through.'));
  }

  function renderMessages(answer) {
    const filtered = st.msgStatus || st.delivery;
    swap(msgsBody, answer.data.length ? h('div', {},
      table({id: 'messages-table'}, ['Message', 'Customer', 'Status', 'Content', {label: 'Retries', cls: 'num'}, 'Updated'],
        answer.data.map(m => h('tr', {'data-testid': 'message-row-' + m.id, 'data-status': m.status},
          h('td', {class: 'sub'}, '#' + m.id), h('td', {'data-testid': 'message-customer'}, m.customer_id == null ? h('span', {class: 'sub'}, 'erased') :
            [h('div', {}, m.customer_name || h('span', {class: 'sub'}, 'No name')), h('div', {class: 'sub'}, m.customer_phone)]),
          h('td', {}, badge(m.status), m.delivery_status ? [' ', badge(m.delivery_status)] : null),
          h('td', {}, m.rendered_content || h('span', {class: 'sub'}, 'Rendered when sent'), m.last_error && h('div', {class: 'err-text'}, m.last_error)),
          h('td', {class: 'num'}, num(m.retry_count)), h('td', {class: 'sub'}, timeEl(m.updated_at))))),
      pagerBar(st.pager, answer.pagination, 'messages', 'messages', refresh))
      : h('div', {class: 'empty', id: 'messages-empty'}, filtered ? 'No messages with this status.' : 'No messages yet: send the campaign to an audience.'));
  }
  refresh();
}

// ---------------------------------------------------------------- create and edit
function localInput(iso) {
  if (!iso) return '';
  const d = new Date(iso), p = n => String(n).padStart(2, '0');
  return d.getFullYear() + '-' + p(d.getMonth() + 1) + '-' + p(d.getDate()) + 'T' + p(d.getHours()) + ':' + p(d.getMinutes());
}

// A whatsapp campaign's approved template: its name, language and the parameters that fill its {{1}}, {{2}}, …
// (each written like the message, rendered per customer), or none: then it goes as text, which WhatsApp
// delivers only inside the customer's 24-hour window. The service checks it; its refusals show under the field.
const WA_MAX_PARAMETERS = 100;
function whatsappTemplateEditor(initial, useTemplate, onChange) {
  const start = initial || {name: '', language: 'en_US', parameters: []};
  const errorBox = id => h('div', {id, class: 'field-error', role: 'alert'});
  const radio = (value, label) => h('label', {}, h('input', {type: 'radio', name: 'wa-mode', value, id: 'wa-mode-' + value,
    checked: (value === 'template') === useTemplate, onchange: () => { show(); onChange(); }}), label);
  const name = h('input', {value: start.name, autocomplete: 'off', spellcheck: 'false', maxlength: 512, placeholder: 'e.g. order_update', oninput: onChange});
  const language = h('input', {value: start.language, autocomplete: 'off', spellcheck: 'false', maxlength: 20, placeholder: 'en_US', oninput: onChange});
  const errors = {name: errorBox('f-wa-name-error'), language: errorBox('f-wa-language-error'),
    parameters: errorBox('wa-parameters-error'), template: errorBox('wa-template-error')};
  const list = h('ol', {class: 'wa-params', id: 'wa-parameters', 'aria-labelledby': 'wa-parameters-label'});
  const add = h('button', {type: 'button', class: 'btn small', id: 'wa-add-parameter', onclick: () => {
    addRow(''); rows[rows.length - 1].input.focus(); onChange();
  }}, '+ Add parameter');
  const count = h('span', {class: 'sub', id: 'wa-parameter-count'});
  const rows = [];
  function addRow(text) {
    const row = {input: h('input', {class: 'mono', value: text, autocomplete: 'off', spellcheck: 'false', maxlength: 1024,
      placeholder: '{first_name}', oninput: onChange}), label: h('label', {}), error: errorBox(null)};
    row.remove = h('button', {type: 'button', class: 'btn small', onclick: () => removeRow(row)}, 'Remove');
    row.item = h('li', {'data-testid': 'wa-parameter'}, h('div', {class: 'wa-param'}, row.label, row.input, row.remove), row.error);
    rows.push(row);
    list.append(row.item);
    renumber();
  }
  function removeRow(row) {
    const at = rows.indexOf(row);
    rows.splice(at, 1);
    row.item.remove();
    renumber();
    (rows[at] || rows[at - 1] || {input: add}).input.focus();
    onChange();
  }
  function renumber() {
    rows.forEach((row, i) => {
      const n = i + 1;
      row.input.id = 'f-wa-param-' + n; row.error.id = 'f-wa-param-' + n + '-error';
      row.label.setAttribute('for', row.input.id);
      row.label.replaceChildren(h('span', {class: 'sr-only'}, 'Parameter '), '{{' + n + '}}');
      row.remove.setAttribute('aria-label', 'Remove parameter ' + n); row.remove.setAttribute('data-testid', 'wa-remove-' + n);
    });
    add.disabled = rows.length >= WA_MAX_PARAMETERS;
    count.textContent = rows.length >= WA_MAX_PARAMETERS ? ' 100 is the most a template takes.' : '';
  }
  start.parameters.forEach(addRow);
  renumber();

  const textHint = h('p', {class: 'hint', id: 'wa-text-hint'}, 'Without a template the message goes as text, which WhatsApp delivers only within 24 hours ' +
    'of the customer’s last message to you; outside that window it fails. Anything else needs an approved template.');
  const fields = h('div', {id: 'wa-template-fields'},
    h('div', {class: 'row-form'},
      h('div', {}, field('f-wa-name', 'Template name', name, 'As approved in WhatsApp Manager: lowercase letters, digits and _.'), errors.name),
      h('div', {}, field('f-wa-language', 'Language', language, 'The approved translation’s code: en, en_US, pt_BR.'), errors.language)),
    h('div', {class: 'field'}, h('span', {class: 'label', id: 'wa-parameters-label'}, 'Parameters'), list, errors.parameters,
      h('div', {}, add, count),
      h('p', {class: 'hint'}, 'They fill the template’s {{1}}, {{2}}, … in order, each written like the message: ',
        h('code', {}, '{first_name}'), ', ', h('code', {}, '{preferred_product|our shop}'), '. Up to 100.'),
      h('p', {class: 'hint'}, 'The customer gets the approved template filled in; the message above is what this page and the campaign’s messages show.')));
  const box = h('fieldset', {class: 'wa-template', id: 'wa-template'}, h('legend', {}, 'WhatsApp template'),
    h('div', {class: 'radios'}, radio('template', 'An approved template'), radio('text', 'Text, no template')), textHint, fields, errors.template);
  function templateChosen() { return box.querySelector('input[name=wa-mode]:checked').value === 'template'; }
  function show() { fields.hidden = !templateChosen(); textHint.hidden = templateChosen(); }
  show();

  // One refusal, under the field it names ("whatsapp_template name …", "whatsapp_template.parameters[1]: …").
  function mark(control, where, message) {
    where.replaceChildren(h('p', {class: 'alert error'}, message));
    control.setAttribute('aria-invalid', 'true'); control.setAttribute('aria-describedby', where.id);
    control.focus();
  }
  return {
    element: box,
    setChannel(channel) { box.hidden = channel !== 'whatsapp'; },
    // What the campaign's whatsapp_template becomes: null for text (or an SMS campaign).
    value(channel) {
      if (channel !== 'whatsapp' || !templateChosen()) return null;
      return {name: name.value.trim(), language: language.value.trim(), parameters: rows.map(r => r.input.value)};
    },
    clearErrors() {
      for (const e of [...Object.values(errors), ...rows.map(r => r.error)]) e.replaceChildren();
      for (const c of [name, language, ...rows.map(r => r.input)]) { c.removeAttribute('aria-invalid'); c.removeAttribute('aria-describedby'); }
    },
    // Before sending: an empty parameter is a slip (WhatsApp refuses it); say which.
    check(channel) {
      const empty = this.value(channel) ? rows.findIndex(r => !r.input.value.trim()) : -1;
      if (empty >= 0) mark(rows[empty].input, rows[empty].error, 'Write {{' + (empty + 1) + '}} or remove it.');
      return empty < 0;
    },
    // The service's error, shown by the field it is about; false when it is not about the template.
    showError(message) {
      const m = /^whatsapp_template(?:\.parameters\[(\d+)\]| (name|language|parameters))?/.exec(message);
      if (!m || box.hidden) return false;
      const row = m[1] != null && rows[Number(m[1])];
      if (row) mark(row.input, row.error, message);
      else if (m[2] === 'name' || m[2] === 'language') mark(m[2] === 'name' ? name : language, errors[m[2]], message);
      else if (m[2] === 'parameters' && templateChosen()) mark(rows.length ? rows[0].input : add, errors.parameters, message);
      else mark(box.querySelector('input[name=wa-mode]:checked'), errors.template, message);
      return true;
    },
  };
}

// The template's parameters for one customer, rendered by POST /preview one by one (nothing is saved), folded
// onto one line as the service sends them; each is {text, missing} or {error}.
async function renderParameters(parameters, customerId) {
  const asked = new Map();
  const render = p => api('POST', '/preview', {template: p, channel: 'whatsapp', customer_id: customerId}).then(
    r => ({text: r.rendered_message.split(/\s+/).filter(Boolean).join(' '), missing: r.missing_fields}),
    e => { if (e.status === 401) throw e; return {error: e.message}; });
  return Promise.all(parameters.map(p => {
    if (!p.trim()) return {text: '', missing: []};
    if (!asked.has(p)) asked.set(p, render(p));
    return asked.get(p);
  }));
}

async function showCompose(id) {
  const isLive = live();
  page(id ? 'Edit campaign' : 'New campaign', h('div', {class: 'empty'}, 'Loading…'));
  let campaign = null, customers = [], service = null;
  try {
    [campaign, customers, service] = await Promise.all([id ? api('GET', '/campaigns/' + id) : null, api('GET', '/customers?page_size=100').then(r => r.data), settings()]);
  } catch (e) {
    if (!isLive()) return;
    fail(e);
    return e.status === 401 ? null : showMessage(e.status === 404 ? 'Campaign not found' : 'Could not load', e.message);
  }
  if (!isLive()) return;
  if (campaign && !CAN.edit.includes(campaign.status)) {
    return showMessage('This campaign cannot be edited', '“' + campaign.name + '” is ' + campaign.status + '; only draft, scheduled and paused campaigns can be changed.');
  }
  const form = {createKey: uuid()};
  const paused = campaign && campaign.status === 'paused';
  const name = h('input', {value: campaign ? campaign.name : '', maxlength: 200, required: true, autocomplete: 'off'});
  const channel = h('select', {disabled: paused}, options(Object.entries(CHANNELS), campaign ? campaign.channel : 'sms'));
  const template = h('textarea', {class: 'mono', rows: 6, value: campaign ? campaign.base_template : '', maxlength: 2000, required: true, placeholder: 'Hi {first_name|there}, …'});
  const schedule = h('input', {type: 'datetime-local', value: localInput(campaign && campaign.scheduled_at), disabled: paused});
  const rate = h('input', {type: 'number', min: 0, step: 'any', value: campaign && campaign.rate_limit != null ? campaign.rate_limit : '', placeholder: 'No limit'});
  // Without quiet hours on the service the box has nothing to respect: it shows "off", and the campaign keeps its setting.
  const quietOff = !service.quiet_hours;
  const quiet = h('input', {type: 'checkbox', id: 'f-quiet', checked: !quietOff && (campaign ? campaign.quiet_hours : true), disabled: quietOff});
  const formError = h('div', {id: 'form-error', role: 'alert'});
  // A campaign turned from SMS to WhatsApp starts with a template, as a new one does; a WhatsApp one keeps its choice.
  const wa = whatsappTemplateEditor(campaign && campaign.whatsapp_template,
    !campaign || campaign.channel !== 'whatsapp' || campaign.whatsapp_template != null, () => schedulePreview());
  wa.setChannel(channel.value);
  for (const type of ['input', 'change']) channel.addEventListener(type, () => wa.setChannel(channel.value));
  const insert = f => h('button', {type: 'button', class: 'chip', 'aria-label': 'Insert ' + f, onclick: () => {
    const at = template.selectionStart, text = '{' + f + '}';
    template.setRangeText(text, at, template.selectionEnd, 'end'); template.focus(); schedulePreview();
  }}, '{' + f + '}');

  const customerSelect = h('select', {}, customers.length ? customers.map(c => h('option', {value: c.id},
    (customerName(c) || 'No name') + ' · ' + c.phone)) : h('option', {value: ''}, 'No customers yet'));
  const out = {
    text: h('div', {class: 'bubble placeholder', id: 'preview-text', 'data-testid': 'preview-text'}, 'Type a message to see it as the customer will.'),
    missing: h('dd', {id: 'preview-missing'}, '—'), encoding: h('dd', {id: 'preview-encoding'}, '—'),
    chars: h('dd', {id: 'preview-characters'}, '—'), segments: h('dd', {id: 'preview-segments'}, '—'),
    wa: h('section', {id: 'preview-wa', 'aria-label': 'WhatsApp template, filled in', hidden: true}),
    error: h('div', {id: 'preview-error', role: 'alert'}), note: h('p', {class: 'hint', id: 'preview-note'}, 'Nothing is saved until you press Save.'),
  };
  const previewCard = h('aside', {class: 'card', 'aria-labelledby': 'preview-h', id: 'preview-panel'},
    h('h2', {id: 'preview-h'}, 'Live preview'),
    field('preview-customer', 'Preview for', customerSelect, customers.length ? null : h('a', {href: '#/customers'}, 'Import customers first')),
    h('div', {class: 'phone'}, out.text), out.wa, out.error,
    h('dl', {class: 'facts'}, h('dt', {}, 'Missing fields'), out.missing, h('dt', {}, 'SMS encoding'), out.encoding,
      h('dt', {}, 'Characters'), out.chars, h('dt', {}, 'SMS segments'), out.segments), out.note);

  const save = h('button', {type: 'submit', class: 'btn primary', id: 'save-campaign'}, id ? 'Save changes' : 'Save campaign');
  // Nothing is saved before Save: Cancel only leaves.
  const cancel = h('button', {type: 'button', class: 'btn', id: 'cancel-compose', onclick: () => {
    clearTimeout(timer); seq++;
    location.hash = id ? '#/campaigns/' + id : '#/campaigns';
  }}, 'Cancel');
  const editor = h('form', {class: 'card', id: 'campaign-form', novalidate: true},
    formError,
    field('f-name', 'Campaign name', name),
    h('div', {class: 'row-form'}, field('f-channel', 'Channel', channel, paused ? 'Fixed while paused.' : null),
      field('f-rate', 'Rate limit (messages per second)', rate)),
    field('f-template', 'Message', template),
    h('div', {class: 'chips', role: 'group', 'aria-label': 'Insert a customer field'}, FIELDS.map(insert)),
    h('p', {class: 'hint', style: 'margin-bottom:14px'}, 'Use {field|fallback} for a default when a customer has no value, and {{ or }} for a literal brace.'),
    wa.element,
    h('div', {class: 'row-form'}, field('f-schedule', 'Schedule (optional), ' + zoneLabel(), schedule,
      paused ? 'Fixed while paused.' : 'Your time zone, ' + ZONE + '. Leave empty to send when you choose.'),
    h('div', {class: 'field', style: 'justify-content:flex-end'}, h('label', {class: 'check', for: 'f-quiet'}, quiet,
      quietOff ? 'Quiet hours: off' : 'Respect quiet hours (' + service.quiet_hours + ')'),
    h('p', {class: 'hint', id: 'quiet-hint'}, quietOff ? 'This service has no quiet hours (its --quiet-hours setting is empty).' :
      'In each customer’s time zone. Untick for transactional messages.'))),
    h('div', {class: 'actions'}, save, cancel));

  page(id ? 'Edit ' + campaign.name : 'New campaign',
    h('div', {class: 'crumbs'}, h('a', {href: '#/campaigns'}, 'Campaigns'), id ? [' / ', h('a', {href: '#/campaigns/' + id}, campaign.name)] : null),
    h('div', {class: 'page-head'}, h('h1', {}, id ? 'Edit campaign' : 'New campaign')),
    h('div', {class: 'split'}, editor, previewCard));
  focusHeading();

  function values() {
    const v = {name: name.value.trim(), base_template: template.value, rate_limit: rate.value === '' ? null : Number(rate.value),
      whatsapp_template: wa.value(channel.value)};
    if (!quietOff) v.quiet_hours = quiet.checked;
    if (!paused) {
      v.channel = channel.value;
      const unchanged = campaign && schedule.value === localInput(campaign.scheduled_at);
      v.scheduled_at = unchanged ? campaign.scheduled_at : schedule.value ? new Date(schedule.value).toISOString() : null;
    }
    return v;
  }

  let timer = null, seq = 0;
  function schedulePreview() { clearTimeout(timer); timer = setTimeout(preview, 250); }
  async function preview() {
    const mine = ++seq;
    const text = template.value, spec = wa.value(channel.value);
    if (!customerSelect.value || !text.trim()) {
      out.text.className = 'bubble placeholder';
      out.text.textContent = customers.length ? 'Type a message to see it as the customer will.' : 'Add customers to preview a message.';
      out.error.replaceChildren();
      out.wa.hidden = true;
      return;
    }
    try {
      const who = Number(customerSelect.value);
      const [p, filled] = await Promise.all([api('POST', '/preview', {template: text, channel: channel.value, customer_id: who}),
        spec ? renderParameters(spec.parameters, who) : null]);
      if (mine !== seq || !isLive()) return;
      out.error.replaceChildren();
      out.text.className = 'bubble' + (channel.value === 'whatsapp' ? ' wa' : '');
      out.text.textContent = p.rendered_message;
      showFilled(spec, filled);
      const missing = [...new Set([...p.missing_fields, ...(filled || []).flatMap(f => f.missing || [])])];
      out.missing.replaceChildren(missing.length ? h('span', {class: 'chips'}, missing.map(f => h('span', {class: 'chip miss'}, f))) : 'None');
      const sms = channel.value === 'sms' ? p.sms : null;
      out.encoding.textContent = sms ? sms.encoding : (channel.value === 'sms' ? 'Save to see SMS figures' : 'Not SMS');
      out.chars.textContent = sms ? num(sms.characters) : num(p.rendered_message.length);
      out.segments.textContent = sms ? num(sms.segments) : '—';
      if (p.channel_limit_problem) out.error.replaceChildren(h('p', {class: 'alert error'}, p.channel_limit_problem));
    } catch (e) {
      if (mine !== seq || !isLive()) return;
      if (e.status === 401) return;
      out.error.replaceChildren(h('p', {class: 'alert error', 'data-testid': 'preview-error'}, e.message));
    }
  }
  // The approved template's name and language, and each parameter as this customer gets it.
  function showFilled(spec, filled) {
    out.wa.hidden = !spec;
    if (!spec) return;
    swap(out.wa, h('h3', {}, 'Template ', h('span', {class: 'mono'}, spec.name || '(no name yet)'), h('span', {class: 'sub'}, ' · ' + (spec.language || '?'))),
      filled.length ? h('ol', {class: 'wa-filled', id: 'preview-wa-parameters'}, filled.map((f, i) => h('li', {'data-testid': 'preview-wa-parameter'},
        h('span', {class: 'sub'}, '{{' + (i + 1) + '}}'), f.error ? h('span', {class: 'err-text'}, f.error) : f.text || h('span', {class: 'sub'}, '(empty)'))))
        : h('p', {class: 'hint'}, 'No parameters: the template is sent as approved.'));
  }
  for (const el of [template, channel]) el.addEventListener('input', schedulePreview);
  channel.addEventListener('change', schedulePreview);  // what a script's choice fires (a person's fires both)
  customerSelect.addEventListener('change', schedulePreview);

  editor.addEventListener('submit', async event => {
    event.preventDefault();
    formError.replaceChildren();
    wa.clearErrors();
    const v = values();
    if (!v.name || !v.base_template.trim()) {
      formError.replaceChildren(h('p', {class: 'alert error'}, 'Give the campaign a name and a message.'));
      return (v.name ? template : name).focus();
    }
    if (!wa.check(channel.value)) return;
    save.disabled = true;
    clearTimeout(timer); seq++;
    try {
      let saved;
      if (campaign) {
        const changes = {};
        for (const [k, value] of Object.entries(v)) if (JSON.stringify(value) !== JSON.stringify(campaign[k])) changes[k] = value;
        saved = Object.keys(changes).length ? await api('PATCH', '/campaigns/' + campaign.id, changes, {idempotencyKey: uuid()}) : campaign;
      } else {
        if (v.rate_limit == null) delete v.rate_limit;
        if (v.scheduled_at == null) delete v.scheduled_at;
        if (v.whatsapp_template == null) delete v.whatsapp_template;
        saved = await api('POST', '/campaigns', v, {idempotencyKey: form.createKey});
      }
      toast('Saved “' + saved.name + '”' + (saved.status === 'scheduled' ? ', scheduled for ' + absolute(saved.scheduled_at) : '') + '.');
      location.hash = '#/campaigns/' + saved.id;
    } catch (e) {
      if (e.status !== 401 && !wa.showError(e.message)) formError.replaceChildren(h('p', {class: 'alert error', 'data-testid': 'form-error'}, e.message));
    } finally { save.disabled = false; }
  });
  if (template.value) schedulePreview();
}

// ---------------------------------------------------------------- customers
const customerState = {location: '', preferred_product: '', pager: newPager()};

function showCustomers() {
  const isLive = live();
  const body = h('div', {}, h('div', {class: 'empty'}, 'Loading customers…'));
  const loc = h('input', {value: customerState.location, placeholder: 'e.g. Nairobi'});
  const product = h('input', {value: customerState.preferred_product, placeholder: 'e.g. Smartphone'});
  const search = h('form', {class: 'toolbar', role: 'search', id: 'customer-search', novalidate: true},
    field('customer-filter-location', 'Location', loc), field('customer-filter-product', 'Preferred product', product),
    h('button', {type: 'submit', class: 'btn', id: 'customer-search-submit'}, 'Search'),
    h('button', {type: 'button', class: 'btn', id: 'customer-search-clear', onclick: () => { loc.value = product.value = ''; apply(); }}, 'Clear'));
  function apply(event) {
    if (event) event.preventDefault();
    customerState.location = loc.value.trim(); customerState.preferred_product = product.value.trim(); customerState.pager = newPager();
    load();
  }
  search.addEventListener('submit', apply);

  // CSV import: a chosen file is read into the text box, so what is sent is what the person sees.
  const file = h('input', {type: 'file', accept: '.csv,text/csv'});
  const text = h('textarea', {class: 'mono', rows: 7, placeholder: 'phone,first_name,last_name,location' + String.fromCharCode(10) + '+254712000300,Baraka,Otieno,Mombasa', spellcheck: 'false'});
  const conflict = h('select', {}, options([['error', 'Stop: import nothing'], ['skip', 'Skip those rows'], ['update', 'Update those customers']], 'error'));
  const result = h('div', {id: 'csv-result', role: 'status'});
  const importButton = h('button', {type: 'submit', class: 'btn primary', id: 'csv-import'}, 'Import customers');
  file.addEventListener('change', async () => {
    if (file.files[0]) { text.value = await file.files[0].text(); result.replaceChildren(h('p', {class: 'hint'}, 'Loaded ' + file.files[0].name + '.')); }
  });
  const importer = h('form', {class: 'card', id: 'csv-form', 'aria-labelledby': 'import-h', novalidate: true},
    h('h2', {id: 'import-h'}, 'Import customers'),
    field('csv-file', 'CSV file', file), field('csv-text', 'or paste CSV', text, 'A header row names the columns: phone (required), first_name, last_name, location, preferred_product, timezone.'),
    field('csv-conflict', 'When a phone already exists', conflict), result, importButton);
  importer.addEventListener('submit', async event => {
    event.preventDefault();
    if (!text.value.trim()) { result.replaceChildren(h('div', {class: 'alert error', id: 'csv-errors'}, 'Choose a CSV file or paste its rows.')); return; }
    importButton.disabled = true;
    try {
      const r = await api('POST', '/customers?on_conflict=' + conflict.value, text.value, {csv: true, idempotencyKey: uuid()});
      result.replaceChildren(h('p', {class: 'alert ok', 'data-testid': 'csv-counts'},
        'Imported: ' + num(r.created) + ' created, ' + num(r.updated) + ' updated, ' + num(r.skipped) + ' skipped.'));
      text.value = ''; file.value = '';
      customerState.pager = newPager();
      load(true);
    } catch (e) {
      if (e.status === 401) return;
      result.replaceChildren(h('div', {class: 'alert error', id: 'csv-errors'}, h('strong', {}, e.message),
        e.errors.length ? h('ul', {}, e.errors.map(x => h('li', {'data-testid': 'csv-error-line'}, 'Line ' + x.line + (x.field ? ' (' + x.field + ')' : '') + ': ' + x.message))) : null));
    } finally { importButton.disabled = false; }
  });

  // One form adds a customer, or edits the one chosen in the list.
  const cf = {editing: null};
  const inputs = {phone: h('input', {autocomplete: 'off', placeholder: '+254712345678', required: true}), first_name: h('input', {autocomplete: 'off'}),
    last_name: h('input', {autocomplete: 'off'}), location: h('input', {autocomplete: 'off'}), preferred_product: h('input', {autocomplete: 'off'}),
    timezone: h('input', {autocomplete: 'off', placeholder: 'e.g. Africa/Nairobi'})};
  const cfTitle = h('h2', {id: 'customer-form-h'}, 'Add a customer');
  const cfError = h('div', {id: 'customer-error', role: 'alert'});
  const cfSave = h('button', {type: 'submit', class: 'btn primary', id: 'customer-save'}, 'Add customer');
  const cfCancel = h('button', {type: 'button', class: 'btn', id: 'customer-cancel', hidden: true, onclick: () => editCustomer(null)}, 'Cancel');
  const customerForm = h('form', {class: 'card', id: 'customer-form', 'aria-labelledby': 'customer-form-h', novalidate: true}, cfTitle, cfError,
    field('c-phone', 'Phone', inputs.phone, 'E.164: + and 8 to 15 digits.'),
    h('div', {class: 'row-form'}, field('c-first', 'First name', inputs.first_name), field('c-last', 'Last name', inputs.last_name)),
    h('div', {class: 'row-form'}, field('c-location', 'Location', inputs.location), field('c-product', 'Preferred product', inputs.preferred_product)),
    field('c-timezone', 'Time zone', inputs.timezone, 'Where they live, for quiet hours. Empty: the service’s default.'),
    h('div', {class: 'actions'}, cfSave, cfCancel));
  function editCustomer(c) {
    cf.editing = c;
    cfError.replaceChildren();
    for (const [k, input] of Object.entries(inputs)) input.value = c ? c[k] || '' : '';
    cfTitle.textContent = c ? 'Edit ' + (customerName(c) || c.phone) : 'Add a customer';
    cfSave.textContent = c ? 'Save changes' : 'Add customer';
    cfCancel.hidden = !c;
    if (c) { customerForm.scrollIntoView({block: 'nearest'}); inputs.phone.focus(); }
  }
  customerForm.addEventListener('submit', async event => {
    event.preventDefault();
    cfError.replaceChildren();
    const values = {};
    for (const [k, input] of Object.entries(inputs)) {
      const v = input.value.trim();
      if (cf.editing ? v !== (cf.editing[k] || '') : v) values[k] = v || null;
    }
    if (!cf.editing && !values.phone) return cfError.replaceChildren(h('p', {class: 'alert error'}, 'Give the phone number.'));
    if (values.timezone === null) delete values.timezone;  // a time zone is kept; it can change, not go
    if (cf.editing && !Object.keys(values).length) return editCustomer(null);
    cfSave.disabled = true;
    try {
      const saved = cf.editing ? await api('PATCH', '/customers/' + cf.editing.id, values, {idempotencyKey: uuid()})
        : await api('POST', '/customers', values, {idempotencyKey: uuid()});
      toast((customerName(saved) || saved.phone) + (cf.editing ? ' is saved.' : ' is added as customer #' + saved.id + '.'));
      const added = !cf.editing;
      editCustomer(null);
      load(added);
    } catch (e) {
      if (e.status !== 401) cfError.replaceChildren(h('p', {class: 'alert error', 'data-testid': 'customer-error'}, e.message));
    } finally { cfSave.disabled = false; }
  });

  page('Customers', h('div', {class: 'page-head'}, h('h1', {}, 'Customers')),
    h('div', {class: 'split'}, h('div', {class: 'card flush'}, search, body), h('div', {}, customerForm, importer)));
  focusHeading();

  const begin = newestOnly(isLive);
  async function load(newest) {
    const current = begin();
    try {
      const filters = {location: customerState.location, preferred_product: customerState.preferred_product};
      let answer = await api('GET', '/customers?' + listQuery(customerState.pager, filters));
      if (newest && answer.pagination.total_pages > 1) {  // the list is oldest first: show the page the import ended on
        customerState.pager = {page: answer.pagination.total_pages, cursors: {}};
        answer = await api('GET', '/customers?' + listQuery(customerState.pager, filters));
      }
      if (!current()) return;
      swap(body, answer.data.length ? customerTable(answer) : h('div', {class: 'empty', id: 'customers-empty'},
        h('strong', {}, filters.location || filters.preferred_product ? 'No customers match this search' : 'No customers yet — import a CSV file'),
        filters.location || filters.preferred_product ? 'Location and product match exactly, in any case.' : 'Use the import form to add your customer list.'));
    } catch (e) {
      if (!current()) return;
      fail(e);
      swap(body, h('div', {class: 'empty'}, h('strong', {}, 'Could not load customers'), e.message));
    }
  }
  function customerTable(answer) {
    return h('div', {}, table({id: 'customers-table'}, ['Customer', 'Location', 'Product', 'Consent', {label: 'Actions', hidden: true}],
      answer.data.map(customerRow)),
    pagerBar(customerState.pager, answer.pagination, 'customers', 'customers', load));
  }
  async function erase(c, row) {
    const who = customerName(c) || c.phone;
    if (!await confirmDialog('Erase ' + who + '?', 'Their name, phone and the text of their messages are deleted for good; their pending messages are cancelled. Campaign counts stay.', 'Erase')) return;
    try {
      await api('DELETE', '/customers/' + c.id, undefined, {idempotencyKey: uuid()});
      toast(who + ' is erased.');
      if (cf.editing && cf.editing.id === c.id) editCustomer(null);
      row.remove();
      load();
    } catch (e) { fail(e); }
  }
  function customerRow(c) {
    const out = !!c.opted_out_at;
    const row = h('tr', {'data-testid': 'customer-row-' + c.id, 'data-opted-out': String(out)},
      h('td', {}, h('div', {}, customerName(c) || h('span', {class: 'sub'}, 'No name')), h('div', {class: 'sub'}, c.phone + ' · #' + c.id)),
      h('td', {}, c.location || h('span', {class: 'sub'}, '—')), h('td', {}, c.preferred_product || h('span', {class: 'sub'}, '—')),
      h('td', {}, out ? h('span', {title: absolute(c.opted_out_at)}, badge('opted-out', 'Opted out'), h('div', {class: 'sub'}, when(c.opted_out_at))) : badge('subscribed', 'Subscribed')),
      h('td', {class: 'num row-actions'}, h('div', {class: 'actions end'}, h('button', {type: 'button', class: 'btn small', 'data-testid': (out ? 'optin-' : 'optout-') + c.id,
        'data-fk': 'opt' + c.id, 'aria-label': (out ? 'Opt in ' : 'Opt out ') + (customerName(c) || c.phone), onclick: async () => {
          if (row.busy) return;
          row.busy = true;
          try {
            const updated = await api('POST', '/customers/' + c.id + (out ? '/opt-in' : '/opt-out'), undefined, {idempotencyKey: uuid()});
            toast((customerName(updated) || updated.phone) + (updated.opted_out_at ? ' is opted out: no campaign will reach them.' : ' is opted in again.'));
            const fresh = customerRow(updated);
            [...fresh.children].forEach((td, i) => td.setAttribute('data-label', row.children[i].getAttribute('data-label') || ''));
            swap(row.parentNode, ...[...row.parentNode.children].map(r => (r === row ? fresh : r)));
          } catch (e) { fail(e); row.busy = false; }
        }}, out ? 'Opt in' : 'Opt out'),
      h('button', {type: 'button', class: 'btn small', 'data-testid': 'edit-' + c.id, 'data-fk': 'edit' + c.id, 'aria-label': 'Edit ' + (customerName(c) || c.phone),
        onclick: () => editCustomer(c)}, 'Edit'),
      h('button', {type: 'button', class: 'btn small danger', 'data-testid': 'erase-' + c.id, 'data-fk': 'erase' + c.id, 'aria-label': 'Erase ' + (customerName(c) || c.phone),
        onclick: () => erase(c, row)}, 'Erase'))));
    return row;
  }
  load();
}

route();
