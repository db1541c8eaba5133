// The live wall: 1, 4, 9 or 16 tiles, each playing a channel, a channel
// list to fill the selected tile, and the PTZ panel of the selected tile.
// The layout and the tiles' channels are kept in localStorage (channel IDs
// only), so the wall comes back as it was.

import { button, clear, errorBox, h, icon } from './dom.js';
import { channelLabel, isOffline, loadChannels } from './channels.js';
import { LivePlayer, State, hlsAvailable } from './player.js';
import { PTZPanel } from './ptz.js';

const STORE_KEY = 'nvr.wall.v1';
const PLAYER_KEY = 'nvr.player';
export const LAYOUTS = [1, 4, 9, 16];
const MAX_TILES = 16;
const REFRESH_MS = 30000;

/** wallState reads the saved wall, or the default one. */
export function wallState(storage = localStorage) {
  const empty = { layout: 4, tiles: new Array(MAX_TILES).fill(null), selected: 0 };
  let saved;
  try { saved = JSON.parse(storage.getItem(STORE_KEY) || 'null'); } catch { saved = null; }
  if (!saved || typeof saved !== 'object') return empty;
  const layout = LAYOUTS.includes(saved.layout) ? saved.layout : empty.layout;
  const tiles = empty.tiles.map((_, i) => (Array.isArray(saved.tiles) && Number.isInteger(saved.tiles[i]) ? saved.tiles[i] : null));
  const selected = Number.isInteger(saved.selected) && saved.selected >= 0 && saved.selected < layout ? saved.selected : 0;
  return { layout, tiles, selected };
}

function saveWall(st, storage = localStorage) {
  try { storage.setItem(STORE_KEY, JSON.stringify(st)); } catch { /* private mode: not kept */ }
}

/**
 * assignToWall puts a channel into the first empty tile of the saved wall
 * (or the selected one when all are taken); the wall shows it when opened.
 */
export function assignToWall(channelId, storage = localStorage) {
  const st = wallState(storage);
  let i = st.tiles.slice(0, st.layout).indexOf(null);
  if (i < 0) i = st.selected;
  st.tiles[i] = channelId;
  st.selected = i;
  saveWall(st, storage);
}

const STATE_TEXT = {
  [State.idle]: 'idle',
  [State.connecting]: 'connecting…',
  [State.playing]: 'playing',
  [State.offline]: 'offline',
  [State.error]: 'error',
};

/** Tile is one cell of the wall. */
class Tile {
  constructor(view, index) {
    this.view = view;
    this.index = index;
    this.channel = null;
    this.player = null;
    this.video = h('video', { muted: true, autoplay: true, playsInline: true, attrs: { muted: true, playsinline: true, 'aria-hidden': 'true' } });
    this.video.disablePictureInPicture = true;
    this.name = h('span', { class: 'tile-name' });
    this.stateText = h('span', { class: 'tile-state' });
    this.detail = h('span', { class: 'tile-detail' });
    this.retryBtn = button('Retry', (e) => { e.stopPropagation(); if (this.player) this.player.retryNow(); }, { class: 'small', hidden: true });
    this.fullBtn = button(icon('fullscreen'), (e) => { e.stopPropagation(); this.fullscreen(); }, { class: 'icon', attrs: { 'aria-label': `Tile ${index + 1}: full screen`, title: 'Full screen' } });
    this.closeBtn = button('×', (e) => { e.stopPropagation(); this.view.assign(this.index, null); }, { class: 'icon', attrs: { 'aria-label': `Tile ${index + 1}: close`, title: 'Close' } });
    this.empty = h('div', { class: 'tile-empty' }, `Tile ${index + 1}: pick a channel from the list`);
    this.el = h('div', {
      class: 'tile', tabIndex: 0,
      attrs: { role: 'group', 'aria-label': `Tile ${index + 1}` },
      dataset: { index: String(index), state: State.idle },
      on: {
        click: () => this.view.select(this.index),
        focus: () => this.view.select(this.index),
        keydown: (e) => this.onKey(e),
      },
    },
    this.video,
    this.empty,
    h('div', { class: 'tile-bar' },
      h('span', { class: 'tile-label' }, this.name, ' ', this.stateText),
      this.retryBtn, this.fullBtn, this.closeBtn),
    this.detail);
    this.render();
  }

  onKey(e) {
    if (e.target !== this.el) return;
    if (e.key === 'Delete' || e.key === 'Backspace') {
      e.preventDefault();
      this.view.assign(this.index, null);
    } else if (e.key === 'f') {
      this.fullscreen();
    }
  }

  /** show plays ch in the tile (null empties it). */
  show(ch) {
    if (this.channel && ch && this.channel.id === ch.id) {
      this.channel = ch; // fresher status, same stream
      this.render();
      return;
    }
    if (this.player) this.player.stop();
    this.player = null;
    this.channel = ch;
    if (ch) {
      this.player = new LivePlayer(this.video, ch, (state, message) => this.onState(state, message), this.view.playerPref);
      this.player.start();
    } else {
      this.onState(State.idle, '');
    }
    this.render();
  }

  onState(state, message) {
    this.el.dataset.state = state;
    this.stateText.textContent = this.channel ? STATE_TEXT[state] || state : '';
    this.detail.textContent = message || '';
    this.detail.hidden = !message;
    this.retryBtn.hidden = !(state === State.error || state === State.offline);
  }

  render() {
    const ch = this.channel;
    this.el.classList.toggle('has-channel', !!ch);
    this.empty.hidden = !!ch;
    this.name.textContent = ch ? channelLabel(ch) : '';
    this.closeBtn.hidden = !ch;
    this.fullBtn.hidden = !ch;
    if (ch) {
      this.el.setAttribute('aria-label', `Tile ${this.index + 1}: ${channelLabel(ch)}`);
      this.el.dataset.channelId = String(ch.id);
      if (isOffline(ch) && this.el.dataset.state === State.connecting) this.detail.textContent = 'device reported offline';
    } else {
      this.el.setAttribute('aria-label', `Tile ${this.index + 1}: empty`);
      delete this.el.dataset.channelId;
    }
  }

  /** restart plays the tile's channel again with a new player. */
  restart() {
    const ch = this.channel;
    this.show(null);
    this.show(ch);
  }

  fullscreen() {
    if (document.fullscreenElement) {
      document.exitFullscreen().catch(() => {});
    } else if (this.el.requestFullscreen) {
      this.el.requestFullscreen().catch(() => {});
    } else if (this.video.webkitEnterFullscreen) {
      this.video.webkitEnterFullscreen(); // iPhone: the video alone
    }
  }

  destroy() {
    if (this.player) this.player.stop();
    this.player = null;
    this.el.remove();
  }
}

/** WallView is the live page. */
class WallView {
  constructor(root) {
    this.root = root;
    this.st = wallState();
    this.channels = new Map();
    this.tiles = [];
    this.ptz = new PTZPanel();
    this.timer = 0;
    this.filterText = '';
    this.destroyed = false;
    this.playerPref = '';
    try { this.playerPref = localStorage.getItem(PLAYER_KEY) === 'hls' ? 'hls' : ''; } catch { /* no storage */ }
  }

  build() {
    this.layoutBtns = LAYOUTS.map((n) => button(String(n), () => this.setLayout(n), {
      class: 'seg', attrs: { 'aria-pressed': String(this.st.layout === n), 'aria-label': `${n} tile${n > 1 ? 's' : ''}` },
    }));
    this.grid = h('div', { class: 'wall-grid', attrs: { role: 'region', 'aria-label': 'Video wall' } });
    this.list = h('ul', { class: 'chan-list' });
    this.msg = h('div', { class: 'msg' });
    const filter = h('input', { type: 'search', id: 'wall-filter', placeholder: 'Filter channels', autocomplete: 'off' });
    filter.addEventListener('input', () => { this.filterText = filter.value.trim().toLowerCase(); this.renderList(); });

    const side = h('aside', { class: 'wall-side' },
      h('section', { class: 'panel', attrs: { 'aria-label': 'Channels' } },
        h('div', { class: 'row spread' }, h('h2', {}, 'Channels'), button('Refresh', () => this.refresh(), { class: 'small' })),
        h('label', { class: 'sr-only', attrs: { for: 'wall-filter' } }, 'Filter channels'),
        filter,
        h('p', { class: 'hint' }, 'Select a tile, then a channel to show in it.'),
        this.list),
      this.ptz.el);

    // Where the browser also plays HLS itself, it can be chosen over MSE, e.g.
    // behind a proxy that does not pass WebSockets.
    let mode = null;
    if (window.MediaSource && hlsAvailable()) {
      const sel = h('select', { id: 'player-mode' },
        h('option', { value: '' }, 'MSE over WebSocket'),
        h('option', { value: 'hls' }, 'HLS'));
      sel.value = this.playerPref;
      sel.addEventListener('change', () => {
        this.playerPref = sel.value;
        try { localStorage.setItem(PLAYER_KEY, sel.value); } catch { /* not kept */ }
        for (const t of this.tiles) if (t.channel) t.restart();
      });
      mode = h('span', { class: 'row' }, h('label', { class: 'muted', attrs: { for: 'player-mode' } }, 'Player'), sel);
    }
    clear(this.root).append(
      h('div', { class: 'toolbar' },
        h('h1', {}, 'Live'),
        h('div', { class: 'seg-group', attrs: { role: 'group', 'aria-label': 'Layout' } }, h('span', { class: 'muted' }, 'Layout'), this.layoutBtns),
        button('Close all', () => this.closeAll(), { class: 'small', dataset: { action: 'close-all' } }),
        mode),
      this.msg,
      h('div', { class: 'wall' }, h('div', { class: 'wall-main' }, this.grid), side));
  }

  async init() {
    this.build();
    this.renderTiles();
    await this.refresh();
    if (this.destroyed) return;
    this.timer = setInterval(() => { if (!document.hidden) this.refresh(); }, REFRESH_MS);
  }

  async refresh() {
    let list;
    try {
      list = await loadChannels();
    } catch (err) {
      if (this.destroyed) return;
      clear(this.msg).append(errorBox(err, 'Loading channels'));
      return;
    }
    if (this.destroyed) return;
    clear(this.msg);
    this.channels = new Map(list.map((c) => [c.id, c]));
    // Forget channels that were deleted.
    let changed = false;
    this.st.tiles = this.st.tiles.map((id) => {
      if (id !== null && !this.channels.has(id)) { changed = true; return null; }
      return id;
    });
    if (changed) saveWall(this.st);
    this.renderList();
    this.syncTiles();
  }

  renderList() {
    clear(this.list);
    const groups = new Map();
    for (const ch of this.channels.values()) {
      const text = `${ch.device_name} ${ch.name}`.toLowerCase();
      if (this.filterText && !text.includes(this.filterText)) continue;
      if (!groups.has(ch.device_id)) groups.set(ch.device_id, { name: ch.device_name, type: ch.device_type, items: [] });
      groups.get(ch.device_id).items.push(ch);
    }
    if (groups.size === 0) {
      this.list.append(h('li', { class: 'muted' }, this.channels.size ? 'No channel matches.' : 'No channels yet: add a device first.'));
      return;
    }
    for (const g of groups.values()) {
      this.list.append(h('li', { class: 'dev-group' },
        h('div', { class: 'dev-name' }, g.name, h('span', { class: 'tag' }, g.type)),
        h('ul', {}, g.items.map((ch) => h('li', {},
          button([h('span', { class: ['dot', statusClass(ch)], attrs: { 'aria-hidden': 'true' } }), ch.name],
            () => this.assign(this.st.selected, ch.id),
            { class: 'chan-btn', dataset: { channelId: String(ch.id) }, attrs: { title: `Show in tile ${this.st.selected + 1}` } }))))));
    }
  }

  renderTiles() {
    const n = this.st.layout;
    const cols = Math.sqrt(n);
    this.grid.style.setProperty('--cols', String(cols));
    this.grid.dataset.layout = String(n);
    while (this.tiles.length > n) this.tiles.pop().destroy();
    while (this.tiles.length < n) {
      const t = new Tile(this, this.tiles.length);
      this.tiles.push(t);
      this.grid.append(t.el);
    }
    for (const [i, b] of this.layoutBtns.entries()) b.setAttribute('aria-pressed', String(LAYOUTS[i] === n));
    if (this.st.selected >= n) this.st.selected = 0;
    this.syncTiles();
    this.select(this.st.selected);
  }

  syncTiles() {
    for (const t of this.tiles) {
      const id = this.st.tiles[t.index];
      t.show(id === null ? null : this.channels.get(id) || null);
    }
    this.ptz.setChannel(this.tiles[this.st.selected] ? this.tiles[this.st.selected].channel : null);
  }

  setLayout(n) {
    this.st.layout = n;
    saveWall(this.st);
    this.renderTiles();
  }

  select(i) {
    if (i >= this.tiles.length) return;
    this.st.selected = i;
    saveWall(this.st);
    for (const t of this.tiles) {
      t.el.classList.toggle('selected', t.index === i);
      t.el.setAttribute('aria-current', t.index === i ? 'true' : 'false');
    }
    this.ptz.setChannel(this.tiles[i].channel);
    for (const b of this.list.querySelectorAll('.chan-btn')) b.title = `Show in tile ${i + 1}`;
  }

  /** assign shows a channel (or nothing) in tile i; filling a tile selects the next. */
  assign(i, channelId) {
    this.st.tiles[i] = channelId;
    saveWall(this.st);
    const t = this.tiles[i];
    if (t) t.show(channelId === null ? null : this.channels.get(channelId) || null);
    // Filling a tile moves on to the next empty one, so a wall fills with a
    // click per channel; with none left the filled tile stays selected (PTZ).
    let next = i;
    if (channelId !== null) {
      for (let k = 1; k < this.tiles.length; k++) {
        const j = (i + k) % this.tiles.length;
        if (this.st.tiles[j] === null) { next = j; break; }
      }
    }
    this.select(next);
  }

  closeAll() {
    this.st.tiles = this.st.tiles.map(() => null);
    saveWall(this.st);
    this.syncTiles();
  }

  unmount() {
    this.destroyed = true;
    clearInterval(this.timer);
    for (const t of this.tiles) t.destroy();
    this.tiles = [];
    this.ptz.destroy();
  }
}

function statusClass(ch) {
  if (ch.status === 'OFF' || ch.stream_status === 'error') return 'bad';
  if (ch.status === 'ON' || ch.stream_status === 'online') return 'good';
  return 'idle';
}

/** mount shows the wall in root and returns the view (unmount to leave). */
export function mount(root) {
  const v = new WallView(root);
  v.init();
  return v;
}
