// Unit tests of the console's pure functions, run by jscheck_test.go with
// `node --test`. CONSOLE_STATIC is the file: URL of a copy of static/.
import test from 'node:test';
import assert from 'node:assert/strict';

const base = process.env.CONSOLE_STATIC;
const load = (p) => import(new URL(p, base));

const { planChunk, dayBounds, timeOnDay } = await load('js/playback.js');
const { backoffDelay, codecsOf, describeCodecs } = await load('js/player.js');
const { parseRoute } = await load('js/app.js');
const { wallState, assignToWall } = await load('js/wall.js');
const { monthGrid } = await load('js/calendar.js');
const { clampView, ticks } = await load('js/timeline.js');
const { deviceState } = await load('js/devices.js');
const { isPlayable, ptzSupport } = await load('js/channels.js');
const { hms, duration, ymd } = await load('js/dom.js');
const { qs } = await load('js/api.js');

const MIN = 60000;

test('planChunk plays inside a range, jumps over gaps, stops at the end', () => {
  const ranges = [{ start: 10 * MIN, end: 20 * MIN }, { start: 30 * MIN, end: 120 * MIN }];
  assert.deepEqual(planChunk(ranges, 12 * MIN), { start: 12 * MIN, end: 20 * MIN, jumped: false });
  assert.deepEqual(planChunk(ranges, 0), { start: 10 * MIN, end: 20 * MIN, jumped: true });
  assert.deepEqual(planChunk(ranges, 25 * MIN), { start: 30 * MIN, end: 60 * MIN, jumped: true });
  assert.deepEqual(planChunk(ranges, 100 * MIN), { start: 100 * MIN, end: 120 * MIN, jumped: false });
  assert.deepEqual(planChunk(ranges, 20 * MIN - 500), { start: 30 * MIN, end: 60 * MIN, jumped: true });
  assert.equal(planChunk(ranges, 120 * MIN), null);
  assert.equal(planChunk([], 0), null);
});

test('dayBounds and timeOnDay use local days', () => {
  const [s, e] = dayBounds(new Date(2026, 2, 5, 13, 14, 15));
  assert.equal(ymd(s), '2026-03-05');
  assert.equal(s.getHours(), 0);
  assert.equal(ymd(e), '2026-03-06');
  assert.equal(hms(timeOnDay(s, '08:30')), '08:30:00');
  assert.equal(hms(timeOnDay(s, '23:59:58')), '23:59:58');
  assert.equal(timeOnDay(s, ''), null);
});

test('backoffDelay doubles from 1 s up to 30 s with jitter', () => {
  assert.equal(backoffDelay(0, () => 0.5), 1000);
  assert.equal(backoffDelay(3, () => 0.5), 8000);
  assert.equal(backoffDelay(10, () => 0.5), 30000);
  assert.equal(backoffDelay(100, () => 0.5), 30000);
  assert.equal(backoffDelay(0, () => 0), 750);
  assert.equal(backoffDelay(0, () => 1), 1250);
});

test('codecs are read from the init message mime', () => {
  const c = codecsOf('video/mp4; codecs="avc1.4d401e,mp4a.40.2"');
  assert.deepEqual(c, ['avc1.4d401e', 'mp4a.40.2']);
  assert.equal(describeCodecs(c), 'H.264 + AAC');
  assert.equal(describeCodecs(codecsOf('video/mp4; codecs="hvc1.1.6.L93.B0"')), 'H.265');
  assert.deepEqual(codecsOf('video/mp4'), []);
});

test('parseRoute reads the fragment', () => {
  assert.equal(parseRoute('').name, 'devices');
  assert.equal(parseRoute('#/wall').name, 'wall');
  assert.equal(parseRoute('#/nope').name, 'devices');
  const r = parseRoute('#/playback?channel=7');
  assert.equal(r.name, 'playback');
  assert.equal(r.params.get('channel'), '7');
  assert.equal(parseRoute('#/toString').name, 'devices');
});

function memoryStorage() {
  const m = new Map();
  return { getItem: (k) => (m.has(k) ? m.get(k) : null), setItem: (k, v) => m.set(k, String(v)) };
}

test('the wall state survives bad input and fills empty tiles first', () => {
  const s = memoryStorage();
  assert.deepEqual(wallState(s), { layout: 4, tiles: new Array(16).fill(null), selected: 0 });
  s.setItem('nvr.wall.v1', '{not json');
  assert.equal(wallState(s).layout, 4);
  s.setItem('nvr.wall.v1', JSON.stringify({ layout: 5, tiles: ['x', 3], selected: 9 }));
  assert.deepEqual(wallState(s), { layout: 4, tiles: [null, 3, ...new Array(14).fill(null)], selected: 0 });
  assignToWall(11, s);
  assert.deepEqual(wallState(s).tiles.slice(0, 4), [11, 3, null, null]);
  assignToWall(12, s);
  assignToWall(13, s);
  assert.deepEqual(wallState(s).tiles.slice(0, 4), [11, 3, 12, 13]);
  assignToWall(14, s); // full: the selected tile
  assert.deepEqual(wallState(s).tiles.slice(0, 4), [11, 3, 12, 14]);
});

test('monthGrid starts on Monday', () => {
  const g = monthGrid(2026, 2); // March 2026 starts on a Sunday
  assert.equal(g.filter((d) => d === null).length, 6);
  assert.equal(g.filter(Boolean).length, 31);
});

test('timeline views stay inside the day', () => {
  const H = 3600000;
  assert.equal(clampView(-5 * H, 6 * H, 0, 24 * H), 0);
  assert.equal(clampView(22 * H, 6 * H, 0, 24 * H), 18 * H);
  assert.equal(clampView(5 * H, 24 * H, 0, 23 * H), 0);
  assert.deepEqual(ticks(H / 2, 3 * H, 0, H), [H, 2 * H, 3 * H]);
});

test('device states', () => {
  assert.equal(deviceState({ type: 'gb28181', online: false }).text, 'offline');
  assert.equal(deviceState({ type: 'onvif', online: true, status: 'online' }).text, 'online, streaming');
  assert.equal(deviceState({ type: 'rtsp', status: 'error', last_error: 'refused' }).detail, 'refused');
  assert.equal(deviceState({ type: 'rtsp', status: 'idle' }).text, 'idle');
});

test('channels: playable and PTZ', () => {
  assert.equal(isPlayable({}), true);
  assert.equal(isPlayable({ kind: 'channel' }), true);
  assert.equal(isPlayable({ kind: 'civil_code' }), false);
  assert.equal(ptzSupport({ device_type: 'rtsp' }).level, 'no');
  assert.equal(ptzSupport({ device_type: 'onvif', ptz: true }).level, 'yes');
  assert.equal(ptzSupport({ device_type: 'gb28181', ptz_type: 3 }).level, 'maybe');
});

test('formatting', () => {
  assert.equal(hms(3723), '01:02:03');
  assert.equal(duration(3725), '1 h 02 min');
  assert.equal(duration(65), '1 min 05 s');
  assert.equal(qs({ start: 'a b', end: '', x: null }), '?start=a+b');
});
