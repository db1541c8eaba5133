// The PTZ panel: a direction pad and zoom buttons that move while held
// (pointer or Space/Enter) and stop on release, a speed, and presets.
// Commands are sent one after another, so a stop never overtakes its move.

import { api } from './api.js';
import { button, clear, errorBox, h, toast, errorText } from './dom.js';
import { ptzSupport, channelLabel } from './channels.js';

const PAD = [
  ['up_left', '↖', 'Up left'], ['up', '↑', 'Up'], ['up_right', '↗', 'Up right'],
  ['left', '←', 'Left'], ['stop', '■', 'Stop'], ['right', '→', 'Right'],
  ['down_left', '↙', 'Down left'], ['down', '↓', 'Down'], ['down_right', '↘', 'Down right'],
];

export class PTZPanel {
  constructor() {
    this.channel = null;
    this.chain = Promise.resolve();
    this.releases = [];
    this.controls = [];
    this.build();
    this.setChannel(null);
  }

  build() {
    this.title = h('span', { class: 'ptz-target' });
    this.note = h('p', { class: 'note' });
    this.msg = h('div', { class: 'msg' });

    const pad = h('div', { class: 'ptz-pad', attrs: { role: 'group', 'aria-label': 'Pan and tilt (hold to move)' } });
    for (const [action, glyph, label] of PAD) {
      pad.append(action === 'stop'
        ? this.control(button(glyph, () => this.send({ action: 'stop' }), { class: 'ptz-btn stop', attrs: { 'aria-label': label, title: label } }))
        : this.holdButton(glyph, action, label));
    }
    const zoom = h('div', { class: 'ptz-zoom', attrs: { role: 'group', 'aria-label': 'Zoom (hold)' } },
      this.holdButton('−', 'zoom_out', 'Zoom out'),
      h('span', { class: 'ptz-zoom-label', attrs: { 'aria-hidden': 'true' } }, 'Zoom'),
      this.holdButton('+', 'zoom_in', 'Zoom in'));

    this.speed = this.control(h('input', { type: 'range', min: 1, max: 255, value: 128, id: 'ptz-speed' }));
    this.speedOut = h('output', { attrs: { for: 'ptz-speed' } }, '128');
    this.speed.addEventListener('input', () => { this.speedOut.textContent = this.speed.value; });

    this.presetList = h('ul', { class: 'preset-list' });
    this.presetNo = this.control(h('input', { type: 'number', min: 1, max: 255, value: 1, id: 'ptz-preset-no', class: 'narrow' }));
    const presets = h('div', { class: 'presets' },
      h('div', { class: 'row spread' },
        h('h3', {}, 'Presets'),
        this.control(button('Refresh', () => this.loadPresets(), { class: 'small' }))),
      this.presetList,
      h('form', { class: 'row', on: { submit: (e) => { e.preventDefault(); this.savePreset(); } } },
        h('label', { attrs: { for: 'ptz-preset-no' } }, 'Save position as preset'),
        this.presetNo,
        this.control(h('button', { type: 'submit', class: 'small' }, 'Save'))));

    this.el = h('section', { class: 'panel ptz', attrs: { 'aria-label': 'PTZ control' } },
      h('h2', {}, 'PTZ ', this.title),
      this.note,
      h('div', { class: 'ptz-controls' }, pad,
        h('div', { class: 'ptz-side' }, zoom,
          h('div', { class: 'field' }, h('label', { attrs: { for: 'ptz-speed' } }, 'Speed ', this.speedOut), this.speed))),
      presets,
      this.msg);
  }

  control(el) {
    this.controls.push(el);
    return el;
  }

  /** holdButton sends action while held and stop when released. */
  holdButton(glyph, action, label) {
    const b = this.control(h('button', { type: 'button', class: 'ptz-btn', attrs: { 'aria-label': label, title: label } }, glyph));
    let active = false;
    const begin = () => {
      if (active || b.disabled) return;
      active = true;
      b.classList.add('active');
      this.send({ action, speed: Number(this.speed.value) });
    };
    const end = () => {
      if (!active) return;
      active = false;
      b.classList.remove('active');
      this.send({ action: 'stop' });
    };
    b.addEventListener('pointerdown', (e) => {
      if (e.button !== 0) return;
      e.preventDefault();
      b.focus();
      try { b.setPointerCapture(e.pointerId); } catch { /* not capturable */ }
      begin();
    });
    b.addEventListener('pointerup', end);
    b.addEventListener('pointercancel', end);
    b.addEventListener('lostpointercapture', end);
    b.addEventListener('keydown', (e) => {
      if (e.key !== ' ' && e.key !== 'Enter') return;
      e.preventDefault();
      if (!e.repeat) begin();
    });
    b.addEventListener('keyup', (e) => {
      if (e.key !== ' ' && e.key !== 'Enter') return;
      e.preventDefault();
      end();
    });
    b.addEventListener('blur', end);
    b.addEventListener('contextmenu', (e) => e.preventDefault()); // a long touch is a hold, not a menu
    this.releases.push(end);
    return b;
  }

  /** release stops every held control. */
  release() {
    for (const end of this.releases) end();
  }

  /** setChannel points the panel at a channel (or none). */
  setChannel(ch) {
    if (this.channel && ch && this.channel.id === ch.id) return;
    this.release();
    this.channel = ch;
    clear(this.msg);
    this.title.textContent = ch ? `— ${channelLabel(ch)}` : '';
    const sup = ptzSupport(ch);
    this.note.textContent = ch ? (sup.why || '') : 'Select a tile to control its camera.';
    this.note.hidden = !this.note.textContent;
    for (const c of this.controls) c.disabled = !ch || sup.level === 'no';
    clear(this.presetList);
    if (ch && sup.level !== 'no') this.loadPresets();
  }

  /** send queues a PTZ command behind the ones already sent. */
  send(body) {
    const ch = this.channel;
    if (!ch) return Promise.resolve();
    this.chain = this.chain
      .then(() => api.ptz(ch.id, body))
      .then(() => clear(this.msg), (err) => this.showError(err, `PTZ ${body.action}`));
    return this.chain;
  }

  showError(err, what) {
    clear(this.msg);
    this.msg.append(errorBox(err, what));
  }

  async loadPresets() {
    const ch = this.channel;
    if (!ch) return;
    clear(this.presetList).append(h('li', { class: 'muted' }, 'Loading presets…'));
    let res;
    try {
      res = await api.presets(ch.id);
    } catch (err) {
      if (ch !== this.channel) return;
      clear(this.presetList).append(h('li', { class: 'muted' }, `Presets unavailable: ${errorText(err)}`));
      return;
    }
    if (ch !== this.channel) return;
    clear(this.presetList);
    const items = res.items || [];
    if (items.length === 0) this.presetList.append(h('li', { class: 'muted' }, 'No presets.'));
    for (const p of items) {
      const name = p.name || `Preset ${p.id}`;
      this.presetList.append(h('li', {},
        h('span', { class: 'preset-name' }, `${p.id}. ${name}`),
        button('Go', () => this.send({ action: 'preset_call', preset: p.id }), { class: 'small', attrs: { 'aria-label': `Go to ${name}` } }),
        button('Delete', () => this.deletePreset(p.id, name), { class: 'small danger', attrs: { 'aria-label': `Delete ${name}` } })));
    }
  }

  async savePreset() {
    const n = Number(this.presetNo.value);
    if (!Number.isInteger(n) || n < 1 || n > 255) {
      this.showError(new Error('a preset number is 1 to 255'), 'Save preset');
      return;
    }
    await this.send({ action: 'preset_set', preset: n });
    if (!this.msg.firstChild) toast(`Preset ${n} saved`, 'ok');
    this.loadPresets();
  }

  async deletePreset(id, name) {
    if (!window.confirm(`Delete preset ${name}?`)) return;
    await this.send({ action: 'preset_delete', preset: id });
    this.loadPresets();
  }

  destroy() {
    this.release();
    this.channel = null;
  }
}
