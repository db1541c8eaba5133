// The API client: JSON over fetch with the bearer token, errors as ApiError
// carrying the API's {"error":{"code","message"}}.

const TOKEN_KEY = 'nvr.token';
const EXPIRES_KEY = 'nvr.token_expires';

/** ApiError is a failed API call: HTTP status, the API's code and message. */
export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
  }
}

/**
 * session keeps the token in sessionStorage: it lives as long as the tab,
 * and is not shared with other tabs or sent anywhere by the browser itself.
 */
export const session = {
  get token() {
    const exp = Date.parse(sessionStorage.getItem(EXPIRES_KEY) || '');
    if (!Number.isNaN(exp) && exp <= Date.now()) this.clear();
    return sessionStorage.getItem(TOKEN_KEY) || '';
  },
  set(token, expiresAt) {
    sessionStorage.setItem(TOKEN_KEY, token);
    if (expiresAt) sessionStorage.setItem(EXPIRES_KEY, expiresAt);
  },
  clear() {
    sessionStorage.removeItem(TOKEN_KEY);
    sessionStorage.removeItem(EXPIRES_KEY);
  },
};

let unauthorized = () => {};

/** onUnauthorized sets what happens when the API refuses the token (401). */
export function onUnauthorized(fn) {
  unauthorized = fn;
}

/** request calls the API and returns the decoded JSON (null for 204). */
export async function request(method, path, body, opts = {}) {
  const headers = { Accept: 'application/json' };
  const token = session.token;
  if (token) headers.Authorization = `Bearer ${token}`;
  const init = { method, headers, cache: 'no-store', signal: opts.signal };
  if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  let res;
  try {
    res = await fetch(path, init);
  } catch (err) {
    if (err.name === 'AbortError') throw err;
    throw new ApiError(0, 'network', `cannot reach the server (${err.message})`);
  }
  if (res.status === 204 || method === 'HEAD') {
    if (!res.ok) throw await asError(res, path);
    return null;
  }
  if (!res.ok) throw await asError(res, path);
  const text = await res.text();
  if (!text) return null;
  try {
    return JSON.parse(text);
  } catch {
    throw new ApiError(res.status, 'bad_response', 'the server answered something that is not JSON');
  }
}

/** asError reads an error answer; a 401 also logs out. */
export async function asError(res, path) {
  let err;
  let text = '';
  try { text = await res.text(); } catch { /* the body is optional */ }
  try {
    const data = JSON.parse(text);
    if (data && data.error) err = new ApiError(res.status, data.error.code || `http_${res.status}`, data.error.message || res.statusText);
  } catch { /* not JSON */ }
  if (!err) err = new ApiError(res.status, `http_${res.status}`, text.trim().slice(0, 200) || res.statusText || 'request failed');
  if (res.status === 401 && path !== '/api/v1/auth/login') unauthorized(err);
  return err;
}

/** withToken adds the token to a URL for players, which cannot send headers. */
export function withToken(url) {
  const sep = url.includes('?') ? '&' : '?';
  return `${url}${sep}token=${encodeURIComponent(session.token)}`;
}

/** wsURL turns a path of this server into a ws(s):// URL with the token. */
export function wsURL(path) {
  const proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
  return `${proto}//${location.host}${withToken(path)}`;
}

/** qs builds a query string from an object, skipping empty values. */
export function qs(params) {
  const u = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') u.set(k, v);
  const s = u.toString();
  return s ? `?${s}` : '';
}

const enc = encodeURIComponent;

/** The API calls the console makes. */
export const api = {
  login: (username, password) => request('POST', '/api/v1/auth/login', { username, password }),
  health: () => request('GET', '/api/v1/health'),
  devices: () => request('GET', '/api/v1/devices'),
  createDevice: (body) => request('POST', '/api/v1/devices', body),
  deleteDevice: (id) => request('DELETE', `/api/v1/devices/${enc(id)}`),
  syncDevice: (id) => request('POST', `/api/v1/devices/${enc(id)}/sync`),
  deviceChannels: (id) => request('GET', `/api/v1/devices/${enc(id)}/channels`),
  channels: () => request('GET', '/api/v1/channels'),
  channel: (id) => request('GET', `/api/v1/channels/${enc(id)}`),
  discover: (body) => request('POST', '/api/v1/onvif/discover', body),
  discovered: () => request('GET', '/api/v1/onvif/discovered'),
  ptz: (id, body) => request('POST', `/api/v1/channels/${enc(id)}/ptz`, body),
  presets: (id) => request('GET', `/api/v1/channels/${enc(id)}/presets`),
  recordingDays: (id, month) => request('GET', `/api/v1/channels/${enc(id)}/recordings/days${qs({ month })}`),
  recordings: (id, start, end) => request('GET', `/api/v1/channels/${enc(id)}/recordings${qs({ start, end })}`),
  /** exportURL is the MP4 of [start, end) (RFC 3339), without the token. */
  exportURL: (id, start, end, download) => `/api/v1/channels/${enc(id)}/recordings/export.mp4${qs({ start, end, download: download ? 1 : '' })}`,
};
