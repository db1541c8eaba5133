// The playback page: a channel, a day from the calendar, its recorded
// ranges on a timeline; a click plays from that time and a range can be
// downloaded as MP4.
//
// Playing uses the export route (…/recordings/export.mp4?start=&end=): one
// progressive MP4 that starts exactly at start and that every browser plays
// with Range requests, where the HLS VOD playlist would need hls.js outside
// Safari and starts at a segment's first keyframe. Long stretches are
// played as consecutive pieces of at most CHUNK_MS.

import { api, asError, session, withToken } from './api.js';
import { clear, duration, errorBox, errorText, field, h, hms, toast, ym, ymd } from './dom.js';
import { channelLabel, loadChannels } from './channels.js';
import { Calendar } from './calendar.js';
import { Timeline } from './timeline.js';

const CHUNK_MS = 30 * 60 * 1000;
// The export route's limit (web/recordings.go maxExportSpan).
const MAX_EXPORT_MS = 6 * 3600 * 1000;
const DEFAULT_DOWNLOAD_MS = 10 * 60 * 1000;
const TODAY_REFRESH_MS = 30000;
// The channel last played back, for a visit without ?channel=.
const LAST_KEY = 'nvr.playback.channel';

function lastChannel() {
  try { return Number(localStorage.getItem(LAST_KEY)) || null; } catch { return null; }
}

/**
 * planChunk finds what to play for a request to play from t: the range
 * holding t, or the next one. It returns {start, end, jumped} (ms) or null
 * when nothing is recorded at or after t. ranges are sorted {start, end} in ms.
 */
export function planChunk(ranges, t, chunkMs = CHUNK_MS) {
  for (const r of ranges) {
    if (r.end <= t) continue;
    const start = Math.max(t, r.start);
    // Less than a second left in a range is not worth a request: take the next.
    if (r.end - start < 1000) continue;
    return { start, end: Math.min(r.end, start + chunkMs), jumped: start > t };
  }
  return null;
}

/** dayBounds returns the local midnight of a day and of the next one. */
export function dayBounds(d) {
  const start = new Date(d.getFullYear(), d.getMonth(), d.getDate());
  return [start, new Date(d.getFullYear(), d.getMonth(), d.getDate() + 1)];
}

/** timeOnDay reads an <input type=time> value (HH:MM or HH:MM:SS) on a day. */
export function timeOnDay(day, value) {
  const m = /^(\d{1,2}):(\d{2})(?::(\d{2}))?/.exec(value || '');
  if (!m) return null;
  return new Date(day.getFullYear(), day.getMonth(), day.getDate(), Number(m[1]), Number(m[2]), Number(m[3] || 0));
}

class PlaybackView {
  constructor(root, params) {
    this.root = root;
    this.channelId = Number(params.get('channel')) || lastChannel();
    this.channels = [];
    this.day = dayBounds(new Date())[0];
    this.ranges = [];
    this.chunk = null;
    this.destroyed = false;
    this.timer = 0;
    this.loadSeq = 0;
  }

  init() {
    this.select = h('select', { id: 'pb-channel' });
    this.select.addEventListener('change', () => this.setChannel(Number(this.select.value)));
    this.msg = h('div', { class: 'msg' });
    this.status = h('p', { class: 'pb-status', attrs: { 'aria-live': 'polite' } }, 'Pick a day and click the timeline to play.');
    // The play position changes every few hundred ms: not a live region.
    this.clock = h('span', { class: 'pb-clock', attrs: { 'aria-hidden': 'true' } });
    this.video = h('video', { controls: true, playsInline: true, preload: 'metadata', attrs: { playsinline: true } });
    this.video.addEventListener('timeupdate', () => this.onTime());
    this.video.addEventListener('ended', () => this.onEnded());
    this.video.addEventListener('error', () => this.onVideoError());
    this.calendar = new Calendar({ onPick: (d) => this.setDay(d), onMonth: (m) => this.loadMonth(m) });
    this.timeline = new Timeline({ onSeek: (t) => this.play(t.getTime()) });
    this.dayTitle = h('h2', {});

    this.from = h('input', { type: 'time', step: 1, id: 'pb-from' });
    this.to = h('input', { type: 'time', step: 1, id: 'pb-to' });
    this.dlMsg = h('div', { class: 'msg' });
    this.dlBtn = h('button', { type: 'submit' }, 'Download MP4');
    const download = h('form', { class: 'panel download', attrs: { 'aria-label': 'Download' }, on: { submit: (e) => { e.preventDefault(); this.download(); } } },
      h('h2', {}, 'Download'),
      h('div', { class: 'form-grid' }, field('From', this.from), field('To', this.to)),
      h('div', { class: 'row' }, this.dlBtn, h('small', { class: 'hint' }, 'At most 6 hours, on the selected day.')),
      this.dlMsg);

    const tz = Intl.DateTimeFormat().resolvedOptions().timeZone || 'local time';
    clear(this.root).append(
      h('div', { class: 'toolbar' },
        h('h1', {}, 'Playback'),
        h('label', { attrs: { for: 'pb-channel' } }, 'Channel'), this.select,
        h('span', { class: 'muted small' }, `Times in ${tz}`)),
      this.msg,
      h('div', { class: 'playback' },
        h('aside', { class: 'pb-side' }, this.calendar.el, download),
        h('div', { class: 'pb-main' },
          h('section', { class: 'panel', attrs: { 'aria-label': 'Player' } },
            this.dayTitle,
            h('div', { class: 'pb-video' }, this.video),
            h('div', { class: 'row spread' }, this.status, this.clock),
            this.timeline.el))));
    this.loadChannelList();
  }

  async loadChannelList() {
    try {
      this.channels = await loadChannels();
    } catch (err) {
      if (!this.destroyed) this.msg.append(errorBox(err, 'Loading channels'));
      return;
    }
    if (this.destroyed) return;
    clear(this.select);
    if (this.channels.length === 0) {
      this.select.append(h('option', { value: '' }, 'No channels'));
      this.select.disabled = true;
      return;
    }
    for (const ch of this.channels) this.select.append(h('option', { value: String(ch.id) }, channelLabel(ch)));
    const id = this.channels.some((c) => c.id === this.channelId) ? this.channelId : this.channels[0].id;
    this.select.value = String(id);
    this.setChannel(id);
  }

  setChannel(id) {
    this.channelId = id;
    // Keep the channel in the address without a new history entry (and without a remount).
    history.replaceState(null, '', `#/playback?channel=${id}`);
    try { localStorage.setItem(LAST_KEY, String(id)); } catch { /* not kept */ }
    this.stopVideo();
    this.calendar.setMonth(this.day);
    this.loadMonth(this.day);
    this.setDay(this.day);
  }

  async loadMonth(month) {
    const id = this.channelId;
    if (!id) return;
    try {
      const r = await api.recordingDays(id, ym(month));
      if (this.destroyed || id !== this.channelId || ym(month) !== ym(this.calendar.month)) return;
      this.calendar.setDays(r.days || []);
    } catch (err) {
      if (!this.destroyed) clear(this.msg).append(errorBox(err, 'Recorded days'));
    }
  }

  setDay(d) {
    this.day = dayBounds(d)[0];
    this.calendar.setSelected(this.day);
    const [start, end] = dayBounds(this.day);
    this.dayTitle.textContent = this.day.toLocaleDateString(undefined, { weekday: 'long', year: 'numeric', month: 'long', day: 'numeric' });
    this.timeline.setDay(start, end);
    this.stopVideo();
    this.loadDay();
    clearInterval(this.timer);
    if (ymd(this.day) === ymd(new Date())) this.timer = setInterval(() => { if (!document.hidden) this.loadDay(true); }, TODAY_REFRESH_MS);
  }

  async loadDay(quiet = false) {
    const id = this.channelId;
    if (!id) return;
    const seq = ++this.loadSeq;
    const [start, end] = dayBounds(this.day);
    try {
      const r = await api.recordings(id, start.toISOString(), end.toISOString());
      if (this.destroyed || seq !== this.loadSeq) return;
      this.ranges = (r.ranges || []).map((x) => ({ start: Date.parse(x.start), end: Date.parse(x.end) }));
      this.timeline.setRanges(this.ranges.map((x) => ({ start: new Date(x.start), end: new Date(x.end) })));
      if (!quiet) {
        clear(this.msg);
        const total = this.ranges.reduce((s, x) => s + x.end - x.start, 0);
        this.setStatus(this.ranges.length === 0
          ? 'No recordings on this day.'
          : `${this.ranges.length} recorded stretch(es), ${duration(total / 1000)} in all. Click the timeline to play.`);
      }
    } catch (err) {
      if (this.destroyed || seq !== this.loadSeq) return;
      clear(this.msg).append(errorBox(err, 'Recordings'));
    }
  }

  setStatus(text) {
    this.status.textContent = text;
  }

  /** play plays from t (ms), or from the next recording after it. */
  play(t) {
    const c = planChunk(this.ranges, t);
    this.fillDownload(t);
    if (!c) {
      this.stopVideo();
      this.timeline.setCursor(new Date(t));
      this.setStatus(`Nothing recorded at or after ${hms(new Date(t))} on this day.`);
      return;
    }
    this.chunk = c;
    this.chunkURL = api.exportURL(this.channelId, new Date(c.start).toISOString(), new Date(c.end).toISOString());
    this.video.src = withToken(this.chunkURL);
    this.timeline.setCursor(new Date(c.start));
    this.setStatus(`${c.jumped ? `Nothing recorded at ${hms(new Date(t))}; playing` : 'Playing'} from ${hms(new Date(c.start))}.`);
    const p = this.video.play();
    if (p) p.catch((err) => { if (err.name === 'NotAllowedError') this.setStatus('Press play to start.'); });
  }

  onTime() {
    if (!this.chunk) return;
    const t = this.chunk.start + this.video.currentTime * 1000;
    this.timeline.setCursor(new Date(t));
    this.clock.textContent = hms(new Date(t));
  }

  onEnded() {
    if (!this.chunk) return;
    const next = planChunk(this.ranges, this.chunk.end);
    if (!next) {
      this.setStatus(`End of the recordings of this day (${hms(new Date(this.chunk.end))}).`);
      return;
    }
    this.play(this.chunk.end);
  }

  async onVideoError() {
    if (!this.chunk || !this.video.error) return;
    const url = this.chunkURL;
    // The element tells nothing of why; ask the route for its error.
    let why = this.video.error.message || `media error ${this.video.error.code}`;
    try {
      const res = await fetch(url, { headers: { Authorization: `Bearer ${session.token}`, Range: 'bytes=0-0' }, cache: 'no-store' });
      if (!res.ok) why = errorText(await asError(res, url));
      else if (this.video.error.code === 4) why = 'this browser cannot play the recording (H.265 needs a browser that decodes it)';
      if (res.body) res.body.cancel().catch(() => {});
    } catch { /* keep the element's message */ }
    if (this.destroyed || url !== this.chunkURL) return;
    this.setStatus('');
    clear(this.msg).append(errorBox(new Error(why), 'Playback'));
  }

  stopVideo() {
    this.chunk = null;
    if (this.clock) this.clock.textContent = '';
    this.chunkURL = '';
    this.video.removeAttribute('src');
    this.video.load();
  }

  fillDownload(t) {
    const [, dayEnd] = dayBounds(this.day);
    const end = Math.min(dayEnd.getTime() - 1000, t + DEFAULT_DOWNLOAD_MS);
    this.from.value = hms(new Date(t));
    this.to.value = hms(new Date(end));
  }

  async download() {
    clear(this.dlMsg);
    const from = timeOnDay(this.day, this.from.value);
    const to = timeOnDay(this.day, this.to.value);
    if (!from || !to) {
      this.dlMsg.append(errorBox(new Error('enter a start and an end time'), 'Download'));
      return;
    }
    if (to <= from) {
      this.dlMsg.append(errorBox(new Error('the end must be after the start'), 'Download'));
      return;
    }
    if (to - from > MAX_EXPORT_MS) {
      this.dlMsg.append(errorBox(new Error('a download covers at most 6 hours'), 'Download'));
      return;
    }
    const url = api.exportURL(this.channelId, from.toISOString(), to.toISOString(), true);
    this.dlBtn.disabled = true;
    try {
      // Ask first, so that an error is shown here rather than saved as a file.
      const res = await fetch(url, { method: 'HEAD', headers: { Authorization: `Bearer ${session.token}` }, cache: 'no-store' });
      if (!res.ok) {
        const full = await fetch(url, { headers: { Authorization: `Bearer ${session.token}`, Range: 'bytes=0-0' }, cache: 'no-store' });
        throw full.ok ? new Error(`HTTP ${res.status}`) : await asError(full, url);
      }
      const a = h('a', { href: withToken(url), download: '', hidden: true });
      document.body.append(a);
      a.click();
      a.remove();
      toast('Download started', 'ok');
    } catch (err) {
      this.dlMsg.append(errorBox(err, 'Download'));
    } finally {
      this.dlBtn.disabled = false;
    }
  }

  unmount() {
    this.destroyed = true;
    clearInterval(this.timer);
    this.timeline.destroy();
    this.stopVideo();
  }
}

/** mount shows the playback page in root; params is the route's URLSearchParams. */
export function mount(root, params) {
  const v = new PlaybackView(root, params);
  v.init();
  return v;
}
