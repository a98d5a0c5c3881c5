// The REST API (bearer token only, never cookies) and the live event stream.
const TOKEN_KEY = 'sb.token';

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message || code || `HTTP ${status}`);
    this.status = status;
    this.code = code;
  }
}

export class Api {
  constructor(base) {
    this.base = base || '/api/v1';
    this.token = sessionStorage.getItem(TOKEN_KEY) || '';
    this.onUnauthorized = null; // called once a stored token stops working
  }

  setToken(token) {
    this.token = token || '';
    if (token) sessionStorage.setItem(TOKEN_KEY, token);
    else sessionStorage.removeItem(TOKEN_KEY);
  }

  /** Resolves the parsed JSON (null for 204); throws ApiError on HTTP errors. */
  async call(method, path, body) {
    const headers = { Accept: 'application/json' };
    if (this.token) headers.Authorization = `Bearer ${this.token}`;
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    const res = await fetch(this.base + path, {
      method, headers, body: body === undefined ? undefined : JSON.stringify(body),
      credentials: 'omit', cache: 'no-store',
    });
    const text = await res.text();
    let json = null;
    try { json = text ? JSON.parse(text) : null; } catch { json = null; }
    if (!res.ok) {
      const err = (json && json.error) || {};
      if (res.status === 401 && this.token && path !== '/auth/login' && this.onUnauthorized) this.onUnauthorized();
      throw new ApiError(res.status, err.code, err.message);
    }
    return json;
  }

  get(path) { return this.call('GET', path); }
  post(path, body) { return this.call('POST', path, body === undefined ? {} : body); }
  put(path, body) { return this.call('PUT', path, body); }
  patch(path, body) { return this.call('PATCH', path, body); }
  del(path) { return this.call('DELETE', path); }

  /** Every item of a paged list (bounded by maxPages). */
  async all(path, maxPages = 10) {
    const items = [];
    let cursor = null;
    for (let i = 0; i < maxPages; i++) {
      const sep = path.includes('?') ? '&' : '?';
      const page = await this.get(cursor ? `${path}${sep}cursor=${encodeURIComponent(cursor)}` : path);
      items.push(...(page.items || []));
      cursor = page.next_cursor;
      if (!cursor) break;
    }
    return items;
  }

  async login(login, password) {
    const r = await this.call('POST', '/auth/login', { login, password });
    this.setToken(r.token);
    return r;
  }

  async logout() {
    try { await this.call('POST', '/auth/logout', {}); } catch { /* the session may be gone */ }
    this.setToken('');
  }
}

/**
 * The WebSocket event stream with automatic reconnect: exponential backoff
 * from 500 ms to 15 s with jitter, an application ping every 20 s (a
 * connection that does not answer within 10 s is dropped and reopened).
 * onOpen(reconnected) runs on every open, so the caller can catch up on
 * what it missed while the socket was down.
 */
export class EventStream {
  constructor(api, { onEvent, onOpen, onState }) {
    this.api = api;
    this.onEvent = onEvent;
    this.onOpen = onOpen;
    this.onState = onState || (() => {});
    this.ws = null;
    this.attempt = 0;
    this.opened = false;
    this.stopped = false;
    this.timer = null;
    this.pingTimer = null;
    this.pongDeadline = null;
  }

  url() {
    const proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
    return `${proto}//${location.host}${this.api.base}/ws?token=${encodeURIComponent(this.api.token)}`;
  }

  start() {
    this.stopped = false;
    this.connect();
    window.addEventListener('online', this.onBrowserOnline = () => this.reconnectNow());
  }

  stop() {
    this.stopped = true;
    clearTimeout(this.timer);
    this.clearPing();
    window.removeEventListener('online', this.onBrowserOnline);
    if (this.ws) { this.ws.onclose = null; this.ws.close(1000); this.ws = null; }
  }

  reconnectNow() {
    if (this.stopped || (this.ws && this.ws.readyState === WebSocket.OPEN)) return;
    clearTimeout(this.timer);
    this.attempt = 0;
    this.connect();
  }

  connect() {
    if (this.stopped) return;
    if (this.ws) { this.ws.onclose = null; this.ws.close(); }
    let ws;
    try { ws = new WebSocket(this.url()); } catch { this.scheduleRetry(); return; }
    this.ws = ws;
    ws.onopen = () => {
      const again = this.opened;
      this.opened = true;
      this.attempt = 0;
      this.onState('open');
      this.startPing();
      this.onOpen(again);
    };
    ws.onmessage = (m) => {
      let ev;
      try { ev = JSON.parse(m.data); } catch { return; }
      if (ev && ev.type === 'pong') { clearTimeout(this.pongDeadline); return; }
      if (ev && typeof ev.type === 'string') this.onEvent(ev);
    };
    ws.onclose = () => {
      if (this.ws !== ws) return;
      this.ws = null;
      this.clearPing();
      this.onState('down');
      this.scheduleRetry();
    };
    ws.onerror = () => { /* onclose follows */ };
  }

  scheduleRetry() {
    if (this.stopped) return;
    // A refused upgrade looks like a drop: after a few, ask the API whether
    // the session expired (a 401 there sends the operator back to login).
    if (this.attempt >= 2) this.api.get('/me').catch(() => {});
    const base = Math.min(15000, 500 * 2 ** Math.min(this.attempt, 5));
    this.attempt++;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.connect(), base / 2 + Math.random() * base / 2);
  }

  startPing() {
    this.clearPing();
    this.pingTimer = setInterval(() => {
      if (!this.ws || this.ws.readyState !== WebSocket.OPEN) return;
      this.ws.send('{"type":"ping"}');
      clearTimeout(this.pongDeadline);
      this.pongDeadline = setTimeout(() => { if (this.ws) this.ws.close(4000, 'no pong'); }, 10000);
    }, 20000);
  }

  clearPing() {
    clearInterval(this.pingTimer);
    clearTimeout(this.pongDeadline);
  }

  /** Closes the current socket as a network drop would (for tests and diagnostics). */
  drop() { if (this.ws) this.ws.close(4001, 'dropped'); }
}
