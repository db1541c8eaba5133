// The devices page: the list with online state and channels, adding RTSP,
// ONVIF and GB28181 devices, ONVIF discovery, catalog sync and delete.

import { api } from './api.js';
import { button, clear, dateTime, errorBox, errorText, field, h, toast } from './dom.js';
import { isPlayable } from './channels.js';
import { assignToWall } from './wall.js';

const REFRESH_MS = 10000;

const TYPE_NAMES = { rtsp: 'RTSP', onvif: 'ONVIF', gb28181: 'GB28181' };

/** deviceState is what the State column shows: a word, a style and details. */
export function deviceState(d) {
  if (d.type === 'gb28181' || d.type === 'onvif') {
    if (!d.online) return { text: 'offline', cls: 'bad', detail: d.last_keepalive ? `last seen ${dateTime(d.last_keepalive)}` : 'never seen' };
    return { text: d.status === 'online' ? 'online, streaming' : 'online', cls: 'good', detail: d.last_error || '' };
  }
  switch (d.status) {
    case 'online': return { text: 'streaming', cls: 'good', detail: '' };
    case 'connecting': return { text: 'connecting', cls: 'warn', detail: '' };
    case 'error': return { text: 'error', cls: 'bad', detail: d.last_error || '' };
    default: return { text: 'idle', cls: 'idle', detail: d.always_on ? '' : 'connects when watched' };
  }
}

function channelState(ch) {
  if (ch.status === 'OFF') return { text: 'offline', cls: 'bad' };
  switch (ch.stream_status) {
    case 'online': return { text: 'streaming', cls: 'good' };
    case 'connecting': return { text: 'connecting', cls: 'warn' };
    case 'error': return { text: 'error', cls: 'bad' };
    default: return { text: ch.status === 'ON' ? 'on, idle' : 'idle', cls: 'idle' };
  }
}

function badge(st) {
  return h('span', { class: ['badge', st.cls] }, st.text);
}

function address(d) {
  switch (d.type) {
    case 'rtsp': return d.url || '';
    case 'onvif': return d.xaddr || '';
    case 'gb28181': return [d.gb_id, d.remote_addr ? `@ ${d.remote_addr}` : '', d.transport ? `(${d.transport})` : ''].filter(Boolean).join(' ');
    default: return '';
  }
}

class DevicesView {
  constructor(root) {
    this.root = root;
    this.expanded = new Set();
    this.channelsOf = new Map();
    this.timer = 0;
    this.destroyed = false;
    this.loading = false;
  }

  init() {
    this.msg = h('div', { class: 'msg' });
    this.tbody = h('tbody');
    this.count = h('span', { class: 'muted' });
    clear(this.root).append(
      h('div', { class: 'toolbar' },
        h('h1', {}, 'Devices'), this.count,
        button('Refresh', () => this.load(), { class: 'small' })),
      this.msg,
      this.addPanel(),
      this.discoverPanel(),
      h('div', { class: 'table-wrap' },
        h('table', { class: 'devices responsive' },
          h('thead', {}, h('tr', {}, ['Name', 'Type', 'State', 'Channels', 'Address', 'Actions'].map((t) => h('th', { attrs: { scope: 'col' } }, t)))),
          this.tbody)));
    this.load();
    this.timer = setInterval(() => { if (!document.hidden) this.load(true); }, REFRESH_MS);
  }

  async load(quiet = false) {
    if (this.loading) return;
    this.loading = true;
    try {
      const res = await api.devices();
      const expanded = [...this.expanded];
      const chans = await Promise.all(expanded.map((id) => api.deviceChannels(id).then((r) => r.items || [], () => null)));
      if (this.destroyed) return;
      expanded.forEach((id, i) => { if (chans[i]) this.channelsOf.set(id, chans[i]); else this.expanded.delete(id); });
      clear(this.msg);
      this.render(res.items || []);
      this.count.textContent = `${res.total ?? (res.items || []).length} device(s)`;
    } catch (err) {
      if (this.destroyed) return;
      if (!quiet || !this.msg.firstChild) clear(this.msg).append(errorBox(err, 'Loading devices'));
    } finally {
      this.loading = false;
    }
  }

  render(devices) {
    // Keep the focus on the same control across the refresh, if it is still there.
    const focusKey = document.activeElement && document.activeElement.dataset ? document.activeElement.dataset.key : '';
    clear(this.tbody);
    if (devices.length === 0) {
      this.tbody.append(h('tr', {}, h('td', { colSpan: 6, class: 'muted' }, 'No devices yet. Add one above, or let GB28181 devices register.')));
    }
    for (const d of devices) {
      const st = deviceState(d);
      const open = this.expanded.has(d.id);
      const rowId = `dev-${d.id}-channels`;
      let ident = [d.manufacturer, d.model].filter(Boolean).join(' ');
      if (ident === d.name) ident = ''; // ONVIF cameras are named after it
      this.tbody.append(h('tr', { dataset: { testid: 'device-row', deviceId: String(d.id) } },
        h('td', { attrs: { 'data-label': 'Name' } }, h('strong', {}, d.name || `Device ${d.id}`), ident ? h('div', { class: 'muted small' }, ident) : null),
        h('td', { attrs: { 'data-label': 'Type' } }, h('span', { class: 'tag' }, TYPE_NAMES[d.type] || d.type)),
        h('td', { attrs: { 'data-label': 'State' } }, badge(st), st.detail ? h('div', { class: 'muted small' }, st.detail) : null),
        h('td', { attrs: { 'data-label': 'Channels' } },
          button(`${open ? '▾' : '▸'} ${d.channel_count}`, () => this.toggle(d.id), {
            class: 'small', dataset: { key: `toggle-${d.id}` },
            attrs: { 'aria-expanded': String(open), 'aria-controls': rowId, 'aria-label': `${open ? 'Hide' : 'Show'} the ${d.channel_count} channel(s) of ${d.name}` },
          })),
        h('td', { attrs: { 'data-label': 'Address' }, class: 'addr' }, address(d)),
        h('td', { attrs: { 'data-label': 'Actions' }, class: 'actions' },
          d.type !== 'rtsp' ? button('Sync', (e) => this.sync(d, e.currentTarget), { class: 'small', dataset: { key: `sync-${d.id}` }, attrs: { title: d.type === 'onvif' ? 'Read the media profiles again' : 'Fetch the catalog now' } }) : null,
          button('Delete', () => this.remove(d), { class: 'small danger', dataset: { key: `del-${d.id}` }, attrs: { 'aria-label': `Delete ${d.name}` } }))));
      if (open) this.tbody.append(this.channelRow(d, rowId));
    }
    if (focusKey) {
      const el = this.tbody.querySelector(`[data-key="${CSS.escape(focusKey)}"]`);
      if (el) el.focus();
    }
  }

  channelRow(d, rowId) {
    const chans = this.channelsOf.get(d.id) || [];
    const body = chans.length === 0
      ? h('p', { class: 'muted' }, 'No channels.')
      : h('table', { class: 'channels responsive' },
        h('thead', {}, h('tr', {}, ['Channel', 'State', 'Details', 'Watch'].map((t) => h('th', { attrs: { scope: 'col' } }, t)))),
        h('tbody', {}, chans.map((ch) => {
          const st = channelState(ch);
          const info = [ch.gb_id, ch.codec, ch.width ? `${ch.width}×${ch.height}` : '', ch.fps ? `${ch.fps} fps` : '', ch.role, ch.kind && ch.kind !== 'channel' ? ch.kind : '']
            .filter(Boolean).join(' · ');
          const playable = isPlayable(ch);
          return h('tr', { dataset: { channelId: String(ch.id) } },
            h('td', { attrs: { 'data-label': 'Channel' } }, ch.name),
            h('td', { attrs: { 'data-label': 'State' } }, badge(st), ch.last_error ? h('div', { class: 'muted small' }, ch.last_error) : null),
            h('td', { attrs: { 'data-label': 'Details' }, class: 'small' }, info),
            h('td', { attrs: { 'data-label': 'Watch' }, class: 'actions' },
              playable ? button('Live', () => { assignToWall(ch.id); location.hash = '#/wall'; }, { class: 'small', attrs: { 'aria-label': `Watch ${ch.name} live` } }) : null,
              playable ? button('Playback', () => { location.hash = `#/playback?channel=${ch.id}`; }, { class: 'small', attrs: { 'aria-label': `Recordings of ${ch.name}` } }) : null));
        })));
    return h('tr', { id: rowId, class: 'sub' }, h('td', { colSpan: 6 }, body));
  }

  async toggle(id) {
    if (this.expanded.has(id)) {
      this.expanded.delete(id);
    } else {
      this.expanded.add(id);
    }
    await this.load();
  }

  async sync(d, btn) {
    btn.disabled = true;
    const old = btn.textContent;
    btn.textContent = 'Syncing…';
    try {
      const r = await api.syncDevice(d.id);
      toast(`${d.name}: ${r.total} channel(s); ${r.added} added, ${r.updated} updated, ${r.removed} removed${r.complete === false ? ' (catalog incomplete)' : ''}`, 'ok');
      this.load();
    } catch (err) {
      clear(this.msg).append(errorBox(err, `Sync ${d.name}`));
    } finally {
      btn.disabled = false;
      btn.textContent = old;
    }
  }

  async remove(d) {
    if (!window.confirm(`Delete ${d.name} and its ${d.channel_count} channel(s)?`)) return;
    try {
      await api.deleteDevice(d.id);
      this.expanded.delete(d.id);
      toast(`${d.name} deleted`, 'ok');
      this.load();
    } catch (err) {
      clear(this.msg).append(errorBox(err, `Delete ${d.name}`));
    }
  }

  addPanel() {
    const type = h('select', { id: 'add-type' },
      h('option', { value: 'rtsp' }, 'RTSP camera'),
      h('option', { value: 'onvif' }, 'ONVIF camera'),
      h('option', { value: 'gb28181' }, 'GB28181 device (before it registers)'));
    const input = (id, props = {}) => h('input', { id, autocomplete: 'off', ...props });
    const f = {
      name: input('add-name', { placeholder: 'e.g. Gate' }),
      url: input('add-url', { placeholder: 'rtsp://user:password@192.0.2.10:554/stream1', type: 'text', spellcheck: false }),
      address: input('add-address', { placeholder: '192.0.2.10, host:port or the device service URL', spellcheck: false }),
      username: input('add-username', { autocomplete: 'off' }),
      password: input('add-password', { type: 'password', autocomplete: 'new-password' }),
      gbId: input('add-gbid', { placeholder: '34020000001320000001', inputMode: 'numeric', pattern: '[0-9]{20}', maxLength: 20 }),
      transport: h('select', { id: 'add-transport' }, ['udp', 'tcp-passive', 'tcp-active'].map((v) => h('option', { value: v }, v))),
      alwaysOn: h('input', { type: 'checkbox', id: 'add-always' }),
    };
    this.addForm = f;
    f.type = type;
    // Built on every switch: a control can sit in one wrapper at a time.
    const groups = {
      rtsp: () => [field('Name', f.name), field('RTSP URL', f.url, 'Credentials go in the URL; they are never shown again.')],
      onvif: () => [field('Address', f.address), field('Username', f.username), field('Password', f.password), field('Name (optional)', f.name)],
      gb28181: () => [field('Device ID (20 digits)', f.gbId), field('Name (optional)', f.name), field('Password (empty: sip.password)', f.password), field('Stream transport', f.transport)],
    };
    const fieldsBox = h('div', { class: 'form-grid' });
    const always = h('div', { class: 'field check' }, f.alwaysOn, h('label', { attrs: { for: 'add-always' } }, 'Always on (keep connected and ready)'));
    const msg = h('div', { class: 'msg' });
    const submit = h('button', { type: 'submit' }, 'Add');
    const show = () => {
      clear(fieldsBox).append(...groups[type.value]());
      always.hidden = type.value === 'gb28181';
      clear(msg);
    };
    type.addEventListener('change', show);
    show();
    const form = h('form', { class: 'stack', on: { submit: async (e) => {
      e.preventDefault();
      const t = type.value;
      let body;
      if (t === 'rtsp') body = { type: t, name: f.name.value.trim(), url: f.url.value.trim(), always_on: f.alwaysOn.checked };
      else if (t === 'onvif') body = { type: t, address: f.address.value.trim(), username: f.username.value, password: f.password.value, name: f.name.value.trim(), always_on: f.alwaysOn.checked };
      else body = { type: t, gb_id: f.gbId.value.trim(), name: f.name.value.trim(), password: f.password.value, stream_transport: f.transport.value };
      submit.disabled = true;
      submit.textContent = t === 'onvif' ? 'Probing the camera…' : 'Adding…';
      clear(msg);
      try {
        const d = await api.createDevice(body);
        toast(`${d.name || 'Device'} added with ${d.channel_count} channel(s)`, 'ok');
        for (const k of ['name', 'url', 'address', 'username', 'password', 'gbId']) f[k].value = '';
        this.expanded.add(d.id);
        this.load();
      } catch (err) {
        msg.append(errorBox(err, 'Add device'));
      } finally {
        submit.disabled = false;
        submit.textContent = 'Add';
      }
    } } }, h('div', { class: 'form-grid' }, field('Type', type)), fieldsBox, always, h('div', { class: 'row' }, submit), msg);
    this.addDetails = h('details', { class: 'panel', id: 'add-device' }, h('summary', {}, 'Add a device'), form);
    return this.addDetails;
  }

  /** useDiscovered fills the ONVIF form with a found camera. */
  useDiscovered(cam) {
    const f = this.addForm;
    f.type.value = 'onvif';
    f.type.dispatchEvent(new Event('change'));
    f.address.value = (cam.xaddrs && cam.xaddrs[0]) || cam.from || '';
    f.name.value = cam.name || '';
    this.addDetails.open = true;
    f.username.focus();
  }

  discoverPanel() {
    const addrs = h('input', { id: 'disc-addrs', placeholder: 'optional: 192.0.2.10 192.0.2.11', spellcheck: false });
    const secs = h('input', { id: 'disc-timeout', type: 'number', min: 1, max: 30, value: 3, class: 'narrow' });
    const results = h('div', { class: 'disc-results' });
    const submit = h('button', { type: 'submit' }, 'Discover');
    const showCams = (items) => {
      clear(results);
      if (!items.length) {
        results.append(h('p', { class: 'muted' }, 'No camera answered.'));
        return;
      }
      results.append(h('table', { class: 'responsive' },
        h('thead', {}, h('tr', {}, ['Name', 'Hardware', 'Address', 'Found from', ''].map((t) => h('th', { attrs: { scope: 'col' } }, t)))),
        h('tbody', {}, items.map((c) => h('tr', {},
          h('td', { attrs: { 'data-label': 'Name' } }, c.name || '—'),
          h('td', { attrs: { 'data-label': 'Hardware' } }, c.hardware || '—'),
          h('td', { attrs: { 'data-label': 'Address' }, class: 'addr' }, (c.xaddrs || []).join(' ') || '—'),
          h('td', { attrs: { 'data-label': 'Found from' } }, c.from || '—'),
          h('td', { class: 'actions' }, c.added
            ? h('span', { class: 'muted' }, `added (device ${c.device_id})`)
            : button('Add…', () => this.useDiscovered(c), { class: 'small', attrs: { 'aria-label': `Add ${c.name || c.from}` } })))))));
    };
    const form = h('form', { class: 'stack', on: { submit: async (e) => {
      e.preventDefault();
      const list = addrs.value.split(/[\s,]+/).filter(Boolean);
      const timeout = Math.round(Number(secs.value) * 1000) || 3000;
      submit.disabled = true;
      submit.textContent = 'Searching…';
      clear(results);
      try {
        const r = await api.discover({ addresses: list, timeout_ms: timeout });
        showCams(r.items || []);
      } catch (err) {
        results.append(errorBox(err, 'ONVIF discovery'));
      } finally {
        submit.disabled = false;
        submit.textContent = 'Discover';
      }
    } } },
    h('div', { class: 'form-grid' },
      field('Unicast addresses', addrs, 'Empty: a multicast probe on every interface.'),
      field('Wait (seconds)', secs)),
    h('div', { class: 'row' }, submit),
    results);
    const details = h('details', { class: 'panel', id: 'discover' }, h('summary', {}, 'Find ONVIF cameras'), form);
    details.addEventListener('toggle', async () => {
      if (!details.open || results.firstChild) return;
      try {
        const r = await api.discovered();
        if ((r.items || []).length) showCams(r.items);
      } catch (err) {
        results.append(h('p', { class: 'muted' }, `Recently found cameras unavailable: ${errorText(err)}`));
      }
    });
    return details;
  }

  unmount() {
    this.destroyed = true;
    clearInterval(this.timer);
  }
}

/** mount shows the devices page in root. */
export function mount(root) {
  const v = new DevicesView(root);
  v.init();
  return v;
}
