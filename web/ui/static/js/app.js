// The application shell: login, the header and navigation, and the router.
// Routes live in the URL fragment (#/devices, #/wall, #/playback?channel=1),
// so reloading any page needs nothing from the server but "/".

import { api, onUnauthorized, session } from './api.js';
import { clear, errorBox, field, h } from './dom.js';
import * as devices from './devices.js';
import * as wall from './wall.js';
import * as playback from './playback.js';

/** The pages, by the first part of the fragment. */
export const ROUTES = {
  devices: { title: 'Devices', mount: devices.mount },
  wall: { title: 'Live', mount: wall.mount },
  playback: { title: 'Playback', mount: playback.mount },
};
const DEFAULT_ROUTE = 'devices';

/** parseRoute reads "#/name?query" into {name, params}; unknown names give the default page. */
export function parseRoute(hash) {
  const raw = (hash || '').replace(/^#\/?/, '');
  const [name, query] = raw.split('?', 2);
  return {
    name: Object.hasOwn(ROUTES, name) ? name : DEFAULT_ROUTE,
    params: new URLSearchParams(query || ''),
  };
}

const ICON = new URL('../img/icon.svg', import.meta.url).pathname;

export class App {
  constructor(root) {
    this.root = root;
    this.view = null;
    this.main = null;
    this.navLinks = new Map();
    this.onHash = () => this.route(true);
  }

  start() {
    onUnauthorized(() => this.logout('Your session has ended: log in again.'));
    window.addEventListener('hashchange', this.onHash);
    if (session.token) this.showShell();
    else this.showLogin();
  }

  showLogin(message) {
    this.unmountView();
    this.main = null;
    const user = h('input', { id: 'login-user', name: 'username', autocomplete: 'username', required: true, value: 'admin' });
    const pass = h('input', { id: 'login-pass', name: 'password', type: 'password', autocomplete: 'current-password', required: true });
    const msg = h('div', { class: 'msg' });
    if (message) msg.append(h('p', { class: 'notice' }, message));
    const submit = h('button', { type: 'submit' }, 'Log in');
    const form = h('form', {
      class: 'panel login', attrs: { 'aria-labelledby': 'login-title' },
      on: {
        submit: async (e) => {
          e.preventDefault();
          submit.disabled = true;
          clear(msg);
          try {
            const r = await api.login(user.value.trim(), pass.value);
            session.set(r.token, r.expires_at);
            this.showShell();
          } catch (err) {
            msg.append(errorBox(err, 'Login'));
            pass.select();
          } finally {
            submit.disabled = false;
          }
        },
      },
    },
    h('h1', { id: 'login-title' }, h('img', { src: ICON, alt: '', width: 28, height: 28 }), ' NVR console'),
    field('Username', user),
    field('Password', pass),
    h('div', { class: 'row' }, submit),
    msg);
    clear(this.root).append(h('main', { class: 'login-page' }, form));
    document.title = 'Log in · NVR';
    (user.value ? pass : user).focus();
  }

  showShell() {
    this.navLinks = new Map();
    const nav = h('nav', { attrs: { 'aria-label': 'Main' } });
    for (const [name, r] of Object.entries(ROUTES)) {
      const a = h('a', { href: `#/${name}`, dataset: { route: name } }, r.title);
      this.navLinks.set(name, a);
      nav.append(a);
    }
    this.version = h('span', { class: 'muted small version' });
    this.main = h('main', { id: 'view', tabIndex: -1 });
    clear(this.root).append(
      h('header', { class: 'topbar' },
        h('a', { class: 'brand', href: '#/devices' }, h('img', { src: ICON, alt: '', width: 24, height: 24 }), h('span', {}, 'NVR')),
        nav,
        h('span', { class: 'spacer' }),
        this.version,
        h('button', { type: 'button', class: 'small', on: { click: () => this.logout('You have logged out.') } }, 'Log out')),
      this.main);
    this.route(false);
    api.health().then((r) => { if (this.version) this.version.textContent = r.version ? `nvr ${r.version}` : ''; }, () => {});
  }

  route(moveFocus) {
    if (!this.main) return;
    const { name, params } = parseRoute(location.hash);
    this.unmountView();
    for (const [n, a] of this.navLinks) {
      if (n === name) a.setAttribute('aria-current', 'page');
      else a.removeAttribute('aria-current');
    }
    document.title = `${ROUTES[name].title} · NVR`;
    this.view = ROUTES[name].mount(this.main, params);
    if (moveFocus) this.main.focus({ preventScroll: true });
  }

  unmountView() {
    if (this.view && this.view.unmount) this.view.unmount();
    this.view = null;
  }

  logout(message) {
    if (!this.main) return; // already on the login page
    session.clear();
    this.showLogin(message);
  }
}

/** start runs the console in #app. */
export function start() {
  new App(document.getElementById('app')).start();
}
