'use strict';
// Helpers for the engine's integration tests (engine*.test.js): the REST API
// with bearer tokens, logins, an operator factory, the API channel as the
// client side, and waits on WebSocket events. Node's standard library plus
// ./daemon, ./ws and ./receiver.
//
//   const d = await startDaemon({ config: engineConfig({ instances, groups }) });
//   const op = await makeOperator(d, { groups: ['sales'], max_conversations: 2, ws: true });
//   const mid = await say(d, { instance: 'a', external_id: 'u-1', text: 'hi' });
//   const convId = await convOf(adminWs, mid);
//   const ev = await waitEvent(op.ws, (e) => e.type === 'conversation.assigned', 5000);
const { request } = require('./daemon');
const { sign } = require('./receiver');
const { connectWs } = require('./ws');

const ADMIN_TOKEN = 'it-engine-admin-token';
const SECRET = 'it-engine-secret';
const ROOT = { login: 'root', password: 'root-pass-1234' };

// --- config ---------------------------------------------------------------------
/** A YAML string: JSON text is valid YAML, and quoting every scalar is safe. */
const q = (s) => JSON.stringify(String(s));

/**
 * A config for an engine test daemon.
 *   instances: [{instance, callbackUrl, group, bot ("plugin/instance" meeting new
 *               conversations), secret (default SECRET; null = none)}]
 *   groups:    [{id, name, strategy, max_per_operator}]
 *   defaultGroup (default: the first group's id), tokenTtl ('2s'), bootstrap
 *   ({login, password} or null), extra (YAML appended verbatim).
 */
function engineConfig({ instances = [], groups = [], defaultGroup, tokenTtl, bootstrap = ROOT,
  extra = '' } = {}) {
  const lines = ['http:', '  listen: 127.0.0.1:0', 'auth:', '  api_tokens:',
    `    - { name: it, token: ${q(ADMIN_TOKEN)}, role: admin }`];
  if (bootstrap) lines.push(`  bootstrap_admin: { login: ${q(bootstrap.login)}, password: ${q(bootstrap.password)} }`);
  if (tokenTtl) lines.push(`  token_ttl: ${tokenTtl}`);
  if (groups.length) {
    lines.push('routing:', `  default_group: ${q(defaultGroup || groups[0].id)}`, '  groups:');
    for (const g of groups) {
      lines.push(`    - { id: ${q(g.id)}, name: ${q(g.name || g.id)}, strategy: ${g.strategy || 'least_busy'}, ` +
                 `max_per_operator: ${g.max_per_operator || 3} }`);
    }
  }
  if (instances.length) {
    lines.push('plugins:');
    for (const i of instances) {
      const secret = i.secret === undefined ? SECRET : i.secret;
      const cfg = [`callback_url: ${q(i.callbackUrl)}`, 'timeout: 2s'];
      if (secret) cfg.push(`secret: ${q(secret)}`);
      if (i.group) cfg.push(`group: ${q(i.group)}`);
      if (i.bot) cfg.push(`bot: ${q(i.bot)}`);
      lines.push(`  - { name: apichannel, instance: ${q(i.instance)}, config: { ${cfg.join(', ')} } }`);
    }
  }
  return `${lines.join('\n')}\n${extra}`;
}

// --- HTTP -------------------------------------------------------------------------
/**
 * daemon.js request, except that a string or Buffer body is labelled
 * application/json too unless opts.headers names a Content-Type: the API
 * and the hooks called through here take JSON text.
 * Resolves {status, headers, body, json}.
 */
function rawRequest(url, opts = {}) {
  const headers = { ...opts.headers };
  const typed = Object.keys(headers).some((k) => k.toLowerCase() === 'content-type');
  if (opts.body !== undefined && opts.body !== null && !typed) headers['Content-Type'] = 'application/json';
  return request(url, { ...opts, headers });
}

/** api(d, token, 'GET', '/conversations/1') -> {status, json, body}; path under /api/v1. */
function api(d, token, method, path, body, opts = {}) {
  const headers = { ...(opts.headers || {}) };
  if (token) headers.Authorization = `Bearer ${token}`;
  const url = path.startsWith('/api/') || path.startsWith('/healthz') || path.startsWith('/metrics') ||
    path.startsWith('/hooks/') ? `${d.url}${path}` : `${d.url}/api/v1${path}`;
  return rawRequest(url, { method, headers, body, timeoutMs: opts.timeoutMs, localAddress: opts.localAddress });
}

/** A short description of a reply for assertion messages. */
function show(r) {
  return `HTTP ${r.status}: ${String(r.body).slice(0, 400)}`;
}

/** Throws unless r.status is one of `want` (a number or a list). Returns r.json. */
function expectStatus(r, want, what = '') {
  const ok = Array.isArray(want) ? want.includes(r.status) : r.status === want;
  if (!ok) throw new Error(`${what ? `${what}: ` : ''}expected HTTP ${want}, got ${show(r)}`);
  return r.json;
}

/** POST /auth/login; resolves the reply (status 200 with {token, user, expires_at}). */
function login(d, loginName, password, opts = {}) {
  return api(d, null, 'POST', '/auth/login', { login: loginName, password }, opts);
}

/** login() that must succeed; resolves the token. */
async function mustLogin(d, loginName, password) {
  const r = await login(d, loginName, password);
  expectStatus(r, 200, `login ${loginName}`);
  return r.json.token;
}

/**
 * The conversation in a reply: a 200 body, or the current state a 409
 * carries ({"error":{..., "current":{conversation}}}); also unwraps
 * {"conversation":{..}}.
 */
function conversationOf(r) {
  let j = r.json || {};
  if (j.error && j.error.current) j = j.error.current;
  if (j.conversation && j.conversation.id) return j.conversation;
  return j;
}

// --- operators ------------------------------------------------------------------------
let seq = 0;
const uniq = (prefix) => `${prefix}-${process.pid % 10000}-${++seq}`;

/** ws://... URL of the event stream for a token. */
function wsUrl(d, token) {
  return `${d.url.replace(/^http/, 'ws')}/api/v1/ws?token=${encodeURIComponent(token)}`;
}

/** Opens the event stream for a token. */
function openWs(d, token) {
  return connectWs(wsUrl(d, token));
}

/**
 * Creates an operator with the admin token (POST /operators -> 201), logs it
 * in and sets its status (default 'online'; null leaves it offline).
 * opts: login, password, name, role (default operator), groups,
 * max_conversations, skills, status, ws (open its event stream).
 * Resolves {id, login, password, token, op, ws, setStatus(s), call(method, path, body)}.
 */
async function makeOperator(d, opts = {}) {
  const loginName = opts.login || uniq(opts.role || 'op');
  const password = opts.password || `pw-${loginName}-secret`;
  const body = { login: loginName, password, name: opts.name || `Operator ${loginName}`,
    role: opts.role || 'operator', groups: opts.groups || [] };
  if (opts.max_conversations !== undefined) body.max_conversations = opts.max_conversations;
  if (opts.skills) body.skills = opts.skills;
  const created = await api(d, ADMIN_TOKEN, 'POST', '/operators', body);
  expectStatus(created, 201, `POST /operators ${loginName}`);
  const token = await mustLogin(d, loginName, password);
  const o = {
    id: created.json.id, login: loginName, password, token, op: created.json, ws: null,
    call: (method, path, b) => api(d, token, method, path, b),
    async setStatus(status) {
      const r = await api(d, token, 'PUT', '/me/status', { status });
      expectStatus(r, 200, `PUT /me/status ${status} (${loginName})`);
      return r.json;
    },
  };
  if (opts.ws) o.ws = await openWs(d, token);
  const status = opts.status === undefined ? 'online' : opts.status;
  if (status) await o.setStatus(status);
  return o;
}

// --- the API channel as the client ----------------------------------------------------
let msgSeq = 0;

/**
 * POSTs one inbound message to /hooks/apichannel/<instance>, signed with
 * `secret` (default SECRET; null sends no signature). m: {external_id,
 * text, message_id (default: generated), name, phone, email, button_id}.
 * Resolves the reply.
 */
function sendMessage(d, { instance, secret = SECRET, ...m }) {
  const msg = { message_id: `it-${process.pid}-${++msgSeq}`, ...m };
  for (const k of Object.keys(msg)) if (msg[k] === undefined) delete msg[k];
  const raw = JSON.stringify(msg);
  const headers = { 'Content-Type': 'application/json' };
  if (secret) headers['X-Switchboard-Signature'] = sign(secret, raw);
  return rawRequest(`${d.url}/hooks/apichannel/${instance}`, { method: 'POST', headers, body: raw });
}

/** sendMessage() that must be stored; resolves the stored message id. */
async function say(d, m) {
  const r = await sendMessage(d, m);
  expectStatus(r, 200, `inbound ${m.instance}/${m.external_id}`);
  return r.json.message_id;
}

// --- waiting ------------------------------------------------------------------------------
/**
 * Resolves the first message of a connectWs() client (any received so far,
 * or the next ones) for which pred holds; rejects after ms. Unlike
 * c.next(), it never consumes anything, so waits may overlap freely.
 */
function waitEvent(c, pred, ms = 5000, what = 'event') {
  const found = c.messages.find((m) => { try { return pred(m); } catch { return false; } });
  if (found) return Promise.resolve(found);
  return new Promise((resolve, reject) => {
    const onMsg = () => {
      const m = c.messages[c.messages.length - 1];
      let hit = false;
      try { hit = pred(m); } catch { hit = false; }
      if (hit) { done(); resolve(m); }
    };
    const onClose = () => { done(); reject(new Error(`socket closed while waiting for ${what}`)); };
    const timer = setTimeout(() => {
      done();
      const types = c.messages.slice(-8).map((m) => m && m.type).join(', ');
      reject(new Error(`no ${what} within ${ms} ms (last events: ${types})`));
    }, ms);
    function done() { clearTimeout(timer); c.ws.off('message', onMsg); c.ws.off('close', onClose); }
    // ws.js's own listener was added first, so c.messages already holds the new one.
    c.ws.on('message', onMsg);
    c.ws.on('close', onClose);
  });
}

/** Every message received so far for which pred holds. */
function eventsOf(c, pred) {
  return c.messages.filter((m) => { try { return pred(m); } catch { return false; } });
}

/** The conversation id of a stored message, from its message.created event. */
async function convOf(c, messageId, ms = 5000) {
  const ev = await waitEvent(c, (m) => m.type === 'message.created' && m.message.id === messageId, ms,
    `message.created for ${messageId}`);
  return ev.conversation_id;
}

/** The conversation.assigned event of convId (optionally with more conditions). */
function assignedEv(c, convId, extra = () => true, ms = 5000) {
  return waitEvent(c, (m) => m.type === 'conversation.assigned' && m.conversation.id === convId && extra(m),
    ms, `conversation.assigned for ${convId}`);
}

/** Polls fn (async) every `every` ms until it returns a truthy value; bounded by ms. */
async function until(fn, { ms = 5000, every = 50, what = 'condition' } = {}) {
  const deadline = Date.now() + ms;
  let last;
  for (;;) {
    last = await fn();
    if (last) return last;
    if (Date.now() > deadline) throw new Error(`${what} not met within ${ms} ms`);
    await new Promise((r) => setTimeout(r, every));
  }
}

/** Callback POSTs the receiver got for one external id (optionally matching text). */
function callbacksFor(rx, externalId, re) {
  return rx.received.filter((x) => x.json && x.json.external_id === externalId &&
    (!re || re.test(String(x.json.text))));
}

module.exports = {
  ADMIN_TOKEN,
  SECRET,
  ROOT,
  engineConfig,
  rawRequest,
  api,
  show,
  expectStatus,
  login,
  mustLogin,
  conversationOf,
  uniq,
  wsUrl,
  openWs,
  makeOperator,
  sendMessage,
  say,
  waitEvent,
  eventsOf,
  convOf,
  assignedEv,
  until,
  callbacksFor,
};
