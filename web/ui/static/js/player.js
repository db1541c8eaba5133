// LivePlayer plays a channel's live stream in a <video>.
//
// Browsers have no FLV, so the player uses what they do have:
//  - Media Source Extensions, fed with the server's fMP4 over WebSocket
//    (/ws/live/{stream}.mp4): a TEXT message {"type":"init","mime":…}, the
//    init segment, then one fragment per frame (media/egress/fmp4). The mime
//    carries the codec string read from the init segment.
//  - native HLS (/live/{stream}/index.m3u8) where there is no MediaSource
//    (Safari on iPhone).
// A connection that ends or fails is retried with a doubling, jittered
// delay. stop() closes the connection, so that an on-demand stream stops
// once nobody watches.

import { api, withToken, wsURL } from './api.js';
import { errorText } from './dom.js';

/** The states a player reports. */
export const State = Object.freeze({
  idle: 'idle',
  connecting: 'connecting',
  playing: 'playing',
  offline: 'offline',
  error: 'error',
});

const BACKOFF_MIN_MS = 1000;
const BACKOFF_MAX_MS = 30000;
// A player that played this long starts its backoff from the beginning again.
const STEADY_MS = 15000;
// Not playing this long after connecting, or no data this long: reconnect.
const START_TIMEOUT_MS = 20000;
const STALL_MS = 10000;
// No new picture this long: show the tile as waiting (connecting) again.
const WAIT_MS = 2500;
// Live latency: further behind the newest frame than this, jump ahead.
const MAX_LATENCY_S = 3;
// Buffer kept behind the playhead; older media is removed every TRIM_EVERY_MS.
const KEEP_BEHIND_S = 10;
const TRIM_EVERY_MS = 5000;
// Fragments waiting for the SourceBuffer beyond this mean the browser
// cannot keep up: start again from the newest keyframe.
const MAX_QUEUE_BYTES = 16 * 1024 * 1024;

const HLS_TYPE = 'application/vnd.apple.mpegurl';

/** backoffDelay is the wait before attempt n (0-based), with ±25 % jitter. */
export function backoffDelay(attempt, rand = Math.random) {
  const base = Math.min(BACKOFF_MAX_MS, BACKOFF_MIN_MS * 2 ** Math.min(attempt, 16));
  return Math.round(base * (0.75 + rand() * 0.5));
}

/** codecsOf lists the codecs of a MIME type: video/mp4; codecs="avc1.4d401e,mp4a.40.2". */
export function codecsOf(mime) {
  const m = /codecs\s*=\s*"?([^";]+)"?/i.exec(mime || '');
  return m ? m[1].split(',').map((s) => s.trim()).filter(Boolean) : [];
}

/** describeCodecs names codecs for people: "H.264", "H.265", "AAC". */
export function describeCodecs(codecs) {
  return codecs.map((c) => {
    if (/^(avc1|avc3)/.test(c)) return 'H.264';
    if (/^(hvc1|hev1)/.test(c)) return 'H.265';
    if (/^mp4a/.test(c)) return 'AAC';
    return c;
  }).join(' + ');
}

/**
 * playMode picks how this browser plays live video: 'mse', 'hls' or ''.
 * preferred 'hls' chooses native HLS where the browser has it (a network
 * that blocks WebSockets); otherwise MSE comes first, HLS where it is missing.
 */
export function playMode(video, preferred) {
  const hls = Boolean(video && video.canPlayType(HLS_TYPE));
  if (preferred === 'hls' && hls) return 'hls';
  if (typeof window !== 'undefined' && window.MediaSource) return 'mse';
  return hls ? 'hls' : '';
}

/** hlsAvailable tells whether the browser plays HLS itself. */
export function hlsAvailable() {
  return Boolean(document.createElement('video').canPlayType(HLS_TYPE));
}

export class LivePlayer {
  /**
   * @param {HTMLVideoElement} video the element to play in (muted, playsinline)
   * @param {object} channel a channel of the API (id, play.ws_fmp4, play.hls)
   * @param {(state: string, message: string) => void} onState told of every change
   * @param {string} preferred 'hls' to prefer native HLS, '' for the default
   */
  constructor(video, channel, onState, preferred = '') {
    this.video = video;
    this.channel = channel;
    this.onState = onState || (() => {});
    this.state = State.idle;
    this.message = '';
    this.mode = playMode(video, preferred);
    this.sess = null;
    this.gen = 0;
    this.attempt = 0;
    this.retryTimer = 0;
    this.stopped = true;
    this.listeners = {
      timeupdate: () => this.onProgress(),
      playing: () => this.onProgress(),
      error: () => this.onVideoError(),
      ended: () => this.sess && this.fail(this.sess, State.offline, 'stream ended'),
    };
  }

  /** start connects and keeps the stream playing until stop. */
  start() {
    if (!this.stopped) return;
    this.stopped = false;
    this.attempt = 0;
    for (const [ev, fn] of Object.entries(this.listeners)) this.video.addEventListener(ev, fn);
    this.connect();
  }

  /** stop closes the connection and frees the element; no retry follows. */
  stop() {
    if (this.stopped) return;
    this.stopped = true;
    clearTimeout(this.retryTimer);
    this.teardown();
    for (const [ev, fn] of Object.entries(this.listeners)) this.video.removeEventListener(ev, fn);
    this.setState(State.idle, '');
  }

  /** retryNow skips the wait of a pending retry. */
  retryNow() {
    if (this.stopped) return;
    clearTimeout(this.retryTimer);
    this.attempt = 0;
    this.connect();
  }

  setState(state, message) {
    this.state = state;
    this.message = message || '';
    this.onState(state, this.message);
  }

  connect() {
    this.teardown();
    if (this.stopped) return;
    if (!this.mode) {
      this.setState(State.error, 'this browser can play neither MSE nor HLS video');
      return;
    }
    const now = performance.now();
    const sess = {
      id: ++this.gen, started: now, opened: false, lastData: 0, lastProgress: now, lastTime: -1,
      firstTime: -1, playingSince: 0, queue: [], queueBytes: 0, lastTrim: now, playCalled: false,
    };
    this.sess = sess;
    this.setState(State.connecting, this.attempt > 0 ? `reconnecting (attempt ${this.attempt + 1})` : '');
    sess.timer = setInterval(() => this.watch(sess), 1000);
    if (this.mode === 'hls') this.startHLS(sess);
    else this.startMSE(sess);
  }

  /** teardown ends the current session: socket, MediaSource, element source. */
  teardown() {
    const sess = this.sess;
    if (!sess) return;
    this.sess = null;
    clearInterval(sess.timer);
    if (sess.ws) {
      sess.ws.onopen = null;
      sess.ws.onmessage = null;
      sess.ws.onclose = null;
      sess.ws.onerror = null;
      try { sess.ws.close(1000); } catch { /* already closed */ }
    }
    if (sess.objectURL) URL.revokeObjectURL(sess.objectURL);
    this.video.removeAttribute('src');
    this.video.load();
  }

  /** fail ends the session with a state and retries after a backoff. */
  fail(sess, state, message, retry = true) {
    if (sess !== this.sess) return;
    this.teardown();
    if (!retry || this.stopped) {
      this.setState(state, message);
      return;
    }
    const delay = backoffDelay(this.attempt);
    this.attempt += 1;
    this.setState(state, `${message}; retrying in ${Math.max(1, Math.round(delay / 1000))} s`);
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => this.connect(), delay);
  }

  // ---- MSE over WebSocket ----

  startMSE(sess) {
    let ws;
    try {
      ws = new WebSocket(wsURL(this.channel.play.ws_fmp4));
    } catch (err) {
      this.fail(sess, State.error, `cannot open a WebSocket (${err.message})`);
      return;
    }
    ws.binaryType = 'arraybuffer';
    sess.ws = ws;
    ws.onopen = () => { sess.opened = true; };
    ws.onmessage = (ev) => this.onMessage(sess, ev.data);
    ws.onclose = (ev) => this.onClose(sess, ev);
  }

  onMessage(sess, data) {
    if (sess !== this.sess) return;
    sess.lastData = performance.now();
    if (typeof data === 'string') {
      let msg;
      try { msg = JSON.parse(data); } catch { return; }
      if (msg.type === 'init') this.onInit(sess, msg.mime);
      else if (msg.type === 'error') sess.serverError = msg.message || 'the stream has nothing a browser can play';
      return;
    }
    sess.queue.push(data);
    sess.queueBytes += data.byteLength;
    if (sess.queueBytes > MAX_QUEUE_BYTES) {
      this.fail(sess, State.error, 'the browser fell behind the stream');
      return;
    }
    this.pump(sess);
  }

  onInit(sess, mime) {
    const MS = window.MediaSource;
    if (!MS.isTypeSupported(mime)) {
      if (this.video.canPlayType(HLS_TYPE)) {
        this.mode = 'hls';
        this.connect();
        return;
      }
      const what = describeCodecs(codecsOf(mime)) || mime;
      this.fail(sess, State.error, `this browser cannot play ${what}`, false);
      return;
    }
    if (!sess.ms) {
      sess.mime = mime;
      const ms = new MS();
      sess.ms = ms;
      sess.objectURL = URL.createObjectURL(ms);
      ms.addEventListener('sourceopen', () => this.onSourceOpen(sess), { once: true });
      this.video.src = sess.objectURL;
      return;
    }
    if (mime !== sess.mime) {
      // A codec change: the new init segment follows this message.
      if (sess.sb && typeof sess.sb.changeType !== 'function') {
        this.fail(sess, State.connecting, 'the codec changed');
        return;
      }
      sess.mime = mime;
      sess.queue.push({ mime });
      this.pump(sess);
    }
  }

  onSourceOpen(sess) {
    if (sess !== this.sess) return;
    URL.revokeObjectURL(sess.objectURL);
    sess.objectURL = null;
    try {
      sess.sb = sess.ms.addSourceBuffer(sess.mime);
      sess.sb.mode = 'segments';
    } catch (err) {
      this.fail(sess, State.error, `the browser refused ${describeCodecs(codecsOf(sess.mime))} (${err.message})`, false);
      return;
    }
    sess.sb.addEventListener('updateend', () => this.pump(sess));
    sess.sb.addEventListener('error', () => this.fail(sess, State.error, 'the browser could not decode the stream'));
    this.pump(sess);
  }

  /** pump appends the next queued item when the SourceBuffer is free. */
  pump(sess) {
    if (sess !== this.sess) return;
    const sb = sess.sb;
    if (!sb || sb.updating || sess.ms.readyState !== 'open') return;
    while (sess.queue.length > 0) {
      const item = sess.queue.shift();
      if (item.mime) {
        try { sb.changeType(item.mime); } catch (err) {
          this.fail(sess, State.error, `the browser cannot switch to ${item.mime} (${err.message})`);
          return;
        }
        continue;
      }
      sess.queueBytes -= item.byteLength;
      try {
        sb.appendBuffer(item);
      } catch (err) {
        if (err.name === 'QuotaExceededError' && this.trim(sess, true)) {
          sess.queue.unshift(item);
          sess.queueBytes += item.byteLength;
          return;
        }
        this.fail(sess, State.error, `the browser refused the stream (${err.message})`);
      }
      return; // updateend pumps again
    }
    this.housekeep(sess);
  }

  /** housekeep keeps the playhead near the live edge, starts playback, trims the buffer. */
  housekeep(sess) {
    const v = this.video;
    const b = v.buffered;
    if (b.length === 0) return;
    const lastStart = b.start(b.length - 1);
    const end = b.end(b.length - 1);
    if (v.currentTime < lastStart || end - v.currentTime > MAX_LATENCY_S) {
      v.currentTime = Math.max(lastStart, end - 0.3);
    }
    if (v.paused && !sess.playCalled) {
      sess.playCalled = true;
      const p = v.play();
      if (p) {
        p.catch((err) => {
          if (sess !== this.sess) return;
          sess.playCalled = false;
          if (err.name === 'NotAllowedError') this.setState(State.error, 'the browser blocked playback: click the tile to play');
        });
      }
    }
    const now = performance.now();
    if (now - sess.lastTrim > TRIM_EVERY_MS) {
      sess.lastTrim = now;
      this.trim(sess, false);
    }
  }

  /** trim removes media behind the playhead; it reports whether it started a removal. */
  trim(sess, urgent) {
    const sb = sess.sb;
    const b = this.video.buffered;
    if (!sb || sb.updating || b.length === 0) return false;
    const cut = this.video.currentTime - (urgent ? 1 : KEEP_BEHIND_S);
    if (cut - b.start(0) < (urgent ? 0.5 : 5)) return false;
    try {
      sb.remove(b.start(0), cut);
    } catch {
      return false;
    }
    return true;
  }

  onClose(sess, ev) {
    if (sess !== this.sess || this.stopped) return;
    sess.ws = null;
    if (sess.serverError) this.fail(sess, State.error, sess.serverError);
    else if (ev.code === 1000) this.fail(sess, State.offline, 'the stream ended');
    else if (ev.code === 1003) this.fail(sess, State.error, ev.reason || 'the stream has no playable track');
    else if (!sess.opened) this.explain(sess, State.offline, 'the stream is unavailable');
    else this.fail(sess, State.error, `connection lost${ev.code && ev.code !== 1006 ? ` (${ev.code})` : ''}`);
  }

  /**
   * explain ends a session that failed without saying why. A refused
   * WebSocket upgrade gives the page no status and no body, and a stream
   * whose camera went away just stops sending, so the channel's state is
   * asked for: a device offline or a camera error is "offline" with the
   * reason; otherwise the fallback is reported.
   */
  async explain(sess, fallbackState, fallback) {
    sess.explaining = true;
    const asked = performance.now();
    let ch;
    try {
      ch = await api.channel(this.channel.id);
    } catch (err) {
      if (sess !== this.sess) return;
      this.fail(sess, State.error, err.status === 404 ? 'the channel no longer exists' : errorText(err), err.status !== 404);
      return;
    }
    if (sess !== this.sess) return;
    if (sess.lastProgress > asked) {
      sess.explaining = false; // the picture moved again meanwhile
      return;
    }
    if (ch.status === 'OFF') this.fail(sess, State.offline, 'the device is offline');
    else if (ch.last_error && ch.stream_status !== 'online') this.fail(sess, State.offline, ch.last_error);
    else this.fail(sess, fallbackState, fallback);
  }

  // ---- native HLS ----

  startHLS(sess) {
    this.video.src = withToken(this.channel.play.hls);
    const p = this.video.play();
    if (p) p.catch(() => { /* reported through the element's events */ });
    sess.opened = true;
  }

  // ---- element events and the watchdog ----

  onProgress() {
    const sess = this.sess;
    const v = this.video;
    if (!sess || v.paused || v.seeking) return;
    const t = v.currentTime;
    if (t === sess.lastTime) return;
    const now = performance.now();
    sess.lastTime = t;
    sess.lastProgress = now;
    if (sess.firstTime < 0) {
      sess.firstTime = t;
      return;
    }
    // Playing means the picture moves, not just that play() was called.
    if (this.state !== State.playing && t > sess.firstTime) {
      sess.playingSince = now;
      this.setState(State.playing, '');
    }
    if (this.attempt > 0 && sess.playingSince && now - sess.playingSince > STEADY_MS) this.attempt = 0;
  }

  onVideoError() {
    const sess = this.sess;
    const err = this.video.error;
    if (!sess || !err) return;
    if (this.mode === 'hls' && this.state !== State.playing) {
      this.explain(sess, State.error, `the browser could not play the stream (${err.message || `media error ${err.code}`})`);
      return;
    }
    this.fail(sess, State.error, `the browser could not play the stream (${err.message || `media error ${err.code}`})`);
  }

  watch(sess) {
    if (sess !== this.sess) return;
    const now = performance.now();
    if (document.hidden) {
      // Background tabs throttle timers and may pause decoding.
      sess.lastProgress = now;
      if (sess.lastData) sess.lastData = now;
      return;
    }
    const still = now - sess.lastProgress;
    if (sess.explaining) return;
    if (sess.lastData && now - sess.lastData > STALL_MS) {
      this.explain(sess, State.error, `no data for ${STALL_MS / 1000} s`);
    } else if (!sess.playingSince) {
      if (now - sess.started > START_TIMEOUT_MS) this.fail(sess, State.error, `no picture after ${START_TIMEOUT_MS / 1000} s`);
    } else if (still > STALL_MS) {
      this.explain(sess, State.error, 'playback stalled');
    } else if (still > WAIT_MS) {
      // Data may still come (a camera reconnecting): say so, and jump any gap in the buffer.
      if (this.state === State.playing) this.setState(State.connecting, 'waiting for video…');
      if (sess.sb) this.housekeep(sess);
    }
  }
}
