// A month calendar whose days with recordings are marked.

import { button, clear, duration, h, ymd } from './dom.js';

const WEEKDAYS = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'];

/** monthGrid lists the days shown for a month: leading blanks (null) to start on Monday, then 1..n. */
export function monthGrid(year, month) {
  const first = new Date(year, month, 1);
  const lead = (first.getDay() + 6) % 7; // Monday first
  const n = new Date(year, month + 1, 0).getDate();
  const out = new Array(lead).fill(null);
  for (let d = 1; d <= n; d++) out.push(new Date(year, month, d));
  return out;
}

export class Calendar {
  /**
   * @param {{onPick: (day: Date) => void, onMonth: (month: Date) => void}} opts
   * onPick is called with a day's local midnight; onMonth when the shown month changes.
   */
  constructor(opts) {
    this.onPick = opts.onPick;
    this.onMonth = opts.onMonth;
    const now = new Date();
    this.month = new Date(now.getFullYear(), now.getMonth(), 1);
    this.selected = null;
    this.days = new Map();
    this.title = h('h2', { class: 'cal-title', attrs: { 'aria-live': 'polite' } });
    this.grid = h('div', { class: 'cal-grid', attrs: { role: 'group', 'aria-label': 'Days' } });
    this.el = h('section', { class: 'panel calendar', attrs: { 'aria-label': 'Calendar' } },
      h('div', { class: 'row spread' },
        button('‹', () => this.shift(-1), { class: 'icon', attrs: { 'aria-label': 'Previous month' } }),
        this.title,
        button('›', () => this.shift(1), { class: 'icon', attrs: { 'aria-label': 'Next month' } })),
      this.grid,
      h('p', { class: 'hint' }, h('span', { class: 'cal-key', attrs: { 'aria-hidden': 'true' } }), ' has recordings'));
    this.render();
  }

  shift(n) {
    this.month = new Date(this.month.getFullYear(), this.month.getMonth() + n, 1);
    this.days = new Map();
    this.render();
    this.onMonth(this.month);
  }

  /** setMonth shows the month holding d (without calling onMonth). */
  setMonth(d) {
    this.month = new Date(d.getFullYear(), d.getMonth(), 1);
    this.render();
  }

  /** setDays marks days: [{day: "YYYY-MM-DD", seconds, segments}]. */
  setDays(list) {
    this.days = new Map(list.map((d) => [d.day, d]));
    this.render();
  }

  setSelected(day) {
    this.selected = day ? ymd(day) : null;
    this.render();
  }

  render() {
    this.title.textContent = this.month.toLocaleDateString(undefined, { year: 'numeric', month: 'long' });
    const hadFocus = this.grid.contains(document.activeElement) ? document.activeElement.dataset.day : null;
    clear(this.grid);
    for (const w of WEEKDAYS) this.grid.append(h('span', { class: 'cal-wd', attrs: { 'aria-hidden': 'true' } }, w));
    const today = ymd(new Date());
    for (const d of monthGrid(this.month.getFullYear(), this.month.getMonth())) {
      if (!d) {
        this.grid.append(h('span', { class: 'cal-blank' }));
        continue;
      }
      const key = ymd(d);
      const info = this.days.get(key);
      const label = `${d.toLocaleDateString(undefined, { weekday: 'long', day: 'numeric', month: 'long' })}${info ? `, ${duration(info.seconds)} recorded` : ', no recordings'}`;
      this.grid.append(button(String(d.getDate()), () => { this.setSelected(d); this.onPick(d); }, {
        class: ['cal-day', info && info.seconds > 0 ? 'has-rec' : '', key === today ? 'today' : ''],
        dataset: { day: key },
        attrs: { 'aria-label': label, 'aria-pressed': String(key === this.selected), title: label },
      }));
    }
    if (hadFocus) {
      const el = this.grid.querySelector(`[data-day="${hadFocus}"]`);
      if (el) el.focus();
    }
  }
}
