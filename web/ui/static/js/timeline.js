// The timeline of one day: recorded ranges, the play position, a marker
// that follows the pointer (or the arrow keys), and zoom. Clicking, or Enter
// on the marker, asks to play from that time.

import { button, clear, h, hms } from './dom.js';

const HOUR = 3600 * 1000;
// The room a time label needs on the bar.
const LABEL_PX = 46;
/** The zoom levels: the visible span and the distance between labels. */
export const ZOOMS = [
  { span: 24 * HOUR, tick: 2 * HOUR, minor: HOUR },
  { span: 6 * HOUR, tick: HOUR, minor: 15 * 60 * 1000 },
  { span: HOUR, tick: 10 * 60 * 1000, minor: 5 * 60 * 1000 },
];

/** clampView keeps a view [start, start+span) inside [dayStart, dayEnd]. */
export function clampView(start, span, dayStart, dayEnd) {
  if (span >= dayEnd - dayStart) return dayStart;
  return Math.min(Math.max(start, dayStart), dayEnd - span);
}

/** ticks lists the label times of a view, aligned on step from dayStart. */
export function ticks(viewStart, viewEnd, dayStart, step) {
  const out = [];
  const first = dayStart + Math.ceil((viewStart - dayStart) / step) * step;
  for (let t = first; t <= viewEnd; t += step) out.push(t);
  return out;
}

export class Timeline {
  /** @param {{onSeek: (t: Date) => void}} opts */
  constructor(opts) {
    this.onSeek = opts.onSeek;
    this.dayStart = 0;
    this.dayEnd = 0;
    this.ranges = [];
    this.cursor = null;
    this.marker = null;
    this.zoom = 0;
    this.viewStart = 0;

    this.track = h('div', { class: 'tl-track' });
    this.rangeLayer = h('div', { class: 'tl-ranges' });
    this.cursorEl = h('div', { class: 'tl-cursor', hidden: true });
    this.markerEl = h('div', { class: 'tl-marker', hidden: true });
    this.tip = h('div', { class: 'tl-tip', hidden: true });
    this.tickLayer = h('div', { class: 'tl-ticks', attrs: { 'aria-hidden': 'true' } });
    this.track.append(this.rangeLayer, this.cursorEl, this.markerEl, this.tip);
    this.bar = h('div', {
      class: 'tl-bar', tabIndex: 0,
      attrs: { role: 'slider', 'aria-label': 'Time of day (arrows move, Enter plays)', 'aria-valuemin': 0, 'aria-valuemax': 86400 },
    }, this.track, this.tickLayer);
    this.zoomLabel = h('span', { class: 'muted' });
    this.el = h('div', { class: 'timeline' },
      h('div', { class: 'row spread tl-tools' },
        h('div', { class: 'row' },
          button('◀', () => this.pan(-0.5), { class: 'icon', attrs: { 'aria-label': 'Earlier' } }),
          button('▶', () => this.pan(0.5), { class: 'icon', attrs: { 'aria-label': 'Later' } })),
        h('div', { class: 'row' },
          this.zoomLabel,
          button('−', () => this.setZoom(this.zoom - 1), { class: 'icon', attrs: { 'aria-label': 'Zoom out' } }),
          button('+', () => this.setZoom(this.zoom + 1), { class: 'icon', attrs: { 'aria-label': 'Zoom in' } }))),
      this.bar);

    this.bar.addEventListener('pointermove', (e) => this.hover(e));
    this.bar.addEventListener('pointerleave', () => { if (document.activeElement !== this.bar) this.showMarker(null); });
    this.bar.addEventListener('click', (e) => {
      const t = this.timeAt(e.clientX);
      if (t !== null) this.seek(t);
    });
    this.bar.addEventListener('keydown', (e) => this.key(e));
    this.bar.addEventListener('blur', () => this.showMarker(null));
    // Labels depend on the bar's width.
    this.lastWidth = 0;
    this.resize = new ResizeObserver(() => {
      const w = this.track.clientWidth;
      if (w !== this.lastWidth) {
        this.lastWidth = w;
        this.render();
      }
    });
    this.resize.observe(this.track);
  }

  destroy() {
    this.resize.disconnect();
  }

  /** setDay shows [start, end) (a local day: 23 to 25 hours). */
  setDay(start, end) {
    this.dayStart = start.getTime();
    this.dayEnd = end.getTime();
    this.bar.setAttribute('aria-valuemax', String(Math.round((this.dayEnd - this.dayStart) / 1000)));
    this.viewStart = this.dayStart;
    this.zoom = 0;
    this.ranges = [];
    this.cursor = null;
    this.marker = null;
    this.render();
  }

  /** setRanges draws recorded ranges: [{start: Date, end: Date}]. */
  setRanges(ranges) {
    this.ranges = ranges.map((r) => ({ start: r.start.getTime(), end: r.end.getTime() }));
    this.render();
  }

  /** setCursor moves the play position (a Date, or null to hide it). */
  setCursor(t) {
    this.cursor = t ? t.getTime() : null;
    if (this.cursor !== null && this.zoom > 0) {
      const span = this.span();
      // Keep the play position in view while zoomed in.
      if (this.cursor < this.viewStart || this.cursor > this.viewStart + span) {
        this.viewStart = clampView(this.cursor - span / 4, span, this.dayStart, this.dayEnd);
        this.render();
        return;
      }
    }
    this.place(this.cursorEl, this.cursor);
    if (this.marker === null) this.aria(this.cursor);
  }

  span() {
    return Math.min(ZOOMS[this.zoom].span, this.dayEnd - this.dayStart);
  }

  setZoom(z) {
    const zoom = Math.max(0, Math.min(ZOOMS.length - 1, z));
    if (zoom === this.zoom) return;
    const center = this.marker ?? this.cursor ?? (this.viewStart + this.span() / 2);
    this.zoom = zoom;
    this.viewStart = clampView(center - this.span() / 2, this.span(), this.dayStart, this.dayEnd);
    this.render();
  }

  pan(frac) {
    const span = this.span();
    this.viewStart = clampView(this.viewStart + frac * span, span, this.dayStart, this.dayEnd);
    this.render();
  }

  pct(t) {
    return ((t - this.viewStart) / this.span()) * 100;
  }

  place(el, t) {
    const visible = t !== null && t >= this.viewStart && t <= this.viewStart + this.span();
    el.hidden = !visible;
    if (visible) el.style.left = `${this.pct(t)}%`;
  }

  timeAt(clientX) {
    if (!this.dayEnd) return null;
    const r = this.track.getBoundingClientRect();
    if (r.width <= 0) return null;
    const frac = Math.min(1, Math.max(0, (clientX - r.left) / r.width));
    return Math.min(this.dayEnd - 1000, this.viewStart + frac * this.span());
  }

  hover(e) {
    const t = this.timeAt(e.clientX);
    this.showMarker(t);
  }

  showMarker(t) {
    this.marker = t;
    this.place(this.markerEl, t);
    this.tip.hidden = t === null || this.markerEl.hidden;
    if (!this.tip.hidden) {
      this.tip.textContent = hms(new Date(t));
      const p = Math.min(92, Math.max(8, this.pct(t)));
      this.tip.style.left = `${p}%`;
    }
    this.aria(t ?? this.cursor);
  }

  aria(t) {
    if (t === null || !this.dayEnd) {
      this.bar.removeAttribute('aria-valuenow');
      this.bar.setAttribute('aria-valuetext', 'no time selected');
      return;
    }
    this.bar.setAttribute('aria-valuenow', String(Math.round((t - this.dayStart) / 1000)));
    this.bar.setAttribute('aria-valuetext', `${hms(new Date(t))}${this.recordedAt(t) ? ', recorded' : ', not recorded'}`);
  }

  recordedAt(t) {
    return this.ranges.some((r) => t >= r.start && t < r.end);
  }

  key(e) {
    if (!this.dayEnd) return;
    const base = this.marker ?? this.cursor ?? this.viewStart;
    const step = (e.shiftKey ? 10 : 1) * 60 * 1000;
    let t = null;
    switch (e.key) {
      case 'ArrowLeft': case 'ArrowDown': t = base - step; break;
      case 'ArrowRight': case 'ArrowUp': t = base + step; break;
      case 'PageUp': t = base - HOUR; break;
      case 'PageDown': t = base + HOUR; break;
      case 'Home': t = this.dayStart; break;
      case 'End': t = this.dayEnd - 1000; break;
      case 'Enter': case ' ':
        e.preventDefault();
        this.seek(base);
        return;
      case '+': this.setZoom(this.zoom + 1); return;
      case '-': this.setZoom(this.zoom - 1); return;
      default: return;
    }
    e.preventDefault();
    t = Math.min(this.dayEnd - 1000, Math.max(this.dayStart, t));
    const span = this.span();
    if (t < this.viewStart || t > this.viewStart + span) {
      this.viewStart = clampView(t - span / 2, span, this.dayStart, this.dayEnd);
      this.render();
    }
    this.showMarker(t);
  }

  seek(t) {
    this.showMarker(null);
    this.onSeek(new Date(t));
  }

  render() {
    clear(this.rangeLayer);
    clear(this.tickLayer);
    if (!this.dayEnd) return;
    const span = this.span();
    const viewEnd = this.viewStart + span;
    this.zoomLabel.textContent = `${hms(new Date(this.viewStart)).slice(0, 5)}–${hms(new Date(viewEnd)).slice(0, 5) === '00:00' ? '24:00' : hms(new Date(viewEnd)).slice(0, 5)}`;
    for (const r of this.ranges) {
      const s = Math.max(r.start, this.viewStart);
      const e = Math.min(r.end, viewEnd);
      if (e <= s) continue;
      const el = h('div', { class: 'tl-range', title: `${hms(new Date(r.start))} – ${hms(new Date(r.end))}` });
      el.style.left = `${this.pct(s)}%`;
      el.style.width = `${Math.max(0.15, this.pct(e) - this.pct(s))}%`;
      this.rangeLayer.append(el);
    }
    const z = ZOOMS[this.zoom];
    // On a narrow bar (a phone) only every other or third label fits.
    const width = this.track.clientWidth || 800;
    const stride = Math.max(1, Math.ceil((span / z.tick) / Math.max(2, Math.floor(width / LABEL_PX))));
    for (const t of ticks(this.viewStart, viewEnd, this.dayStart, z.minor)) {
      if (t >= viewEnd) continue; // a label at the right edge would stick out of the bar
      const n = (t - this.dayStart) / z.tick;
      const major = Number.isInteger(n);
      const label = major && n % stride === 0;
      const el = h('span', { class: ['tl-tick', major ? 'major' : ''] }, label ? labelOf(t, this.dayStart) : '');
      el.style.left = `${this.pct(t)}%`;
      this.tickLayer.append(el);
    }
    this.place(this.cursorEl, this.cursor);
    this.place(this.markerEl, this.marker);
  }
}

function labelOf(t, dayStart) {
  // Hours since midnight, not the clock: a DST day shows 0–25, which is what
  // the bar covers.
  const s = Math.round((t - dayStart) / 1000);
  const hh = Math.floor(s / 3600);
  const mm = Math.floor(s / 60) % 60;
  return `${String(hh).padStart(2, '0')}:${String(mm).padStart(2, '0')}`;
}
