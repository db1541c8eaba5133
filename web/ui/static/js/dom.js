// Small DOM helpers. Text always goes in through textContent, never through
// innerHTML, so names that come from devices cannot inject markup.

/**
 * h builds an element. props: class, text, attrs (aria-*, data-*, type…),
 * on (event listeners), and any DOM property (value, disabled, hidden…).
 * children: nodes, strings, numbers, arrays of them; null and false are skipped.
 */
export function h(tag, props = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(props || {})) {
    if (v === undefined || v === null) continue;
    if (k === 'class') el.className = Array.isArray(v) ? v.filter(Boolean).join(' ') : v;
    else if (k === 'text') el.textContent = String(v);
    else if (k === 'attrs') for (const [a, av] of Object.entries(v)) { if (av !== undefined && av !== null && av !== false) el.setAttribute(a, av === true ? '' : String(av)); }
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else if (k === 'on') for (const [ev, fn] of Object.entries(v)) el.addEventListener(ev, fn);
    else el[k] = v;
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

const SVG_NS = 'http://www.w3.org/2000/svg';
const ICONS = {
  // Four corners: full screen.
  fullscreen: 'M3 9V3h6M15 3h6v6M21 15v6h-6M9 21H3v-6',
};

/** icon builds a small stroked SVG icon (decorative: the button carries the name). */
export function icon(name) {
  const svg = document.createElementNS(SVG_NS, 'svg');
  svg.setAttribute('viewBox', '0 0 24 24');
  svg.setAttribute('width', '14');
  svg.setAttribute('height', '14');
  svg.setAttribute('aria-hidden', 'true');
  svg.setAttribute('class', 'icon-svg');
  const path = document.createElementNS(SVG_NS, 'path');
  path.setAttribute('d', ICONS[name] || '');
  svg.append(path);
  return svg;
}

/** clear removes every child of el and returns it. */
export function clear(el) {
  el.replaceChildren();
  return el;
}

/** button builds a <button type="button">. */
export function button(label, onClick, props = {}) {
  return h('button', { type: 'button', ...props, on: { click: onClick, ...(props.on || {}) } }, label);
}

/** field builds a labelled form control. */
export function field(label, control, hint) {
  const id = control.id || uid('f');
  control.id = id;
  return h('div', { class: 'field' },
    h('label', { attrs: { for: id } }, label),
    control,
    hint ? h('small', { class: 'hint' }, hint) : null);
}

let counter = 0;
// uid returns a document-unique id with the prefix.
function uid(prefix) {
  counter += 1;
  return `${prefix}-${counter}`;
}

/** errorText gives the message of an API error (code: message) or any error. */
export function errorText(err) {
  if (!err) return '';
  if (err.code && err.message) return `${err.message} (${err.code}${err.status ? ', HTTP ' + err.status : ''})`;
  return err.message || String(err);
}

/** errorBox builds an alert showing an error; dismissable. */
export function errorBox(err, title) {
  const box = h('div', { class: 'alert', attrs: { role: 'alert' } },
    title ? h('strong', {}, title + ': ') : null,
    h('span', { class: 'alert-text' }, errorText(err)));
  box.append(button('Dismiss', () => box.remove(), { class: 'link', attrs: { 'aria-label': 'Dismiss error' } }));
  return box;
}

/** toast shows a short notice in the live region. kind: info, ok, error. */
export function toast(message, kind = 'info', ms = 5000) {
  const host = document.getElementById('toasts');
  if (!host) return;
  const t = h('div', { class: ['toast', kind] }, message);
  host.append(t);
  setTimeout(() => t.remove(), kind === 'error' ? ms * 2 : ms);
}

const pad = (n, w = 2) => String(n).padStart(w, '0');

/** hms formats seconds since midnight (or a Date) as HH:MM:SS. */
export function hms(v) {
  if (v instanceof Date) return `${pad(v.getHours())}:${pad(v.getMinutes())}:${pad(v.getSeconds())}`;
  const s = Math.max(0, Math.floor(v));
  return `${pad(Math.floor(s / 3600))}:${pad(Math.floor(s / 60) % 60)}:${pad(s % 60)}`;
}

/** ymd formats a Date as YYYY-MM-DD in local time. */
export function ymd(d) {
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
}

/** ym formats a Date as YYYY-MM in local time. */
export function ym(d) {
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}`;
}

/** duration formats seconds as "2 h 05 min", "4 min 10 s" or "12 s". */
export function duration(sec) {
  const s = Math.round(sec);
  if (s >= 3600) return `${Math.floor(s / 3600)} h ${pad(Math.floor(s / 60) % 60)} min`;
  if (s >= 60) return `${Math.floor(s / 60)} min ${pad(s % 60)} s`;
  return `${s} s`;
}

/** dateTime formats an ISO time (or Date) for people, in local time. */
export function dateTime(v) {
  if (!v) return '—';
  const d = v instanceof Date ? v : new Date(v);
  if (Number.isNaN(d.getTime())) return '—';
  return `${ymd(d)} ${hms(d)}`;
}
