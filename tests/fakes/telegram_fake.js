'use strict';
// A fake Telegram Bot API of the project's own, for the error paths the npm
// emulator does not have (429, 403, 409, getFile, slow and dropped answers).
// No dependencies beyond Node's standard library (Node 18 and 20).
//
//   const { startTelegramFake } = require('../fakes/telegram_fake');
//   const fake = await startTelegramFake({ token: '123:abc' });
//   fake.script('sendMessage', [{ status: 429, retry_after: 2 }, { ok: true }]);
//   fake.pushUpdate({ message: { ... } });          // served by getUpdates
//   fake.script('getUpdates', [{ ok: true, result: [fake.makeUpdate(u)] }]); // a redelivery
//   fake.addFile('AgAD', { bytes: Buffer.from('...'), path: 'photos/a.jpg' });
//   await fake.waitFor((calls) => calls.some((c) => c.method === 'sendMessage'));
//   await fake.close();
//
// Like the real API (shared/reference/channels.md §1):
// - /bot<token>/<method>, GET or POST, JSON / urlencoded / query parameters;
//   a wrong token is 401 {"ok":false,"error_code":401,"description":"Unauthorized"},
//   an unknown method 404 "Not Found".
// - Errors are {"ok":false,"error_code":N,"description":"...","parameters"?}:
//   429 "Too Many Requests: retry after N" with parameters.retry_after,
//   403 "Forbidden: bot was blocked by the user", 409 "Conflict: terminated
//   by other getUpdates request; ...", 400 "Bad Request: ...".
// - getUpdates honours offset (confirming what is below it), limit and
//   timeout (a long poll, woken by pushUpdate); a second poller ends the
//   first with 409, and polling while a webhook is set is 409 too.
// - sendMessage checks chat_id, text 1-4096 (UTF-16 units) and
//   callback_data 1-64 bytes, as Telegram does.
// - getFile answers {file_id, file_unique_id, file_size, file_path} (400
//   "Bad Request: invalid file_id" when unknown, "file is too big" over
//   20 MB), and GET /file/bot<token>/<file_path> serves the bytes.
//
// Scripts: fake.script(method, steps) queues answers for the next calls of
// that method; when a method's script is empty the normal behaviour
// answers. A step is
//   {ok: true}                          the normal behaviour
//   {ok: true, result}                  success with this result
//   {status: 429, retry_after: N}       Too Many Requests
//   {status: 403 | 409 | 400 | 500 | ..., description?}
//   {status, body: 'raw text'}          a non-Bot-API answer (a proxy's page)
//   {delay: ms, ...}                    answer after ms (a slow API)
//   {drop: true}                        close the connection without answering
// Every request is recorded in fake.calls: {at, method, params, status}
// (status null for a dropped one).

const http = require('node:http');
const { URL } = require('node:url');

const DESCRIPTIONS = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden: bot was blocked by the user',
  404: 'Not Found',
  409: 'Conflict: terminated by other getUpdates request; make sure that only one bot instance is running',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  502: 'Bad Gateway',
};
const TOO_BIG_FOR_BOTS = 20 * 1000 * 1000;

function errorBody(code, description, retryAfter) {
  const body = { ok: false, error_code: code, description: description || DESCRIPTIONS[code] || 'Error' };
  if (code === 429) {
    const n = retryAfter || 1;
    if (!description) body.description = `Too Many Requests: retry after ${n}`;
    body.parameters = { retry_after: n };
  }
  return body;
}

function readBody(req) {
  return new Promise((resolve) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', () => resolve(Buffer.alloc(0)));
  });
}

/** Query, JSON or urlencoded parameters, as the Bot API accepts them. */
function params(url, headers, raw) {
  const p = Object.fromEntries(url.searchParams);
  const type = String(headers['content-type'] || '');
  const text = raw.toString('utf8');
  if (type.includes('application/json') && text) {
    try { Object.assign(p, JSON.parse(text)); } catch { p.__bad_json = true; }
  } else if (type.includes('urlencoded') && text) {
    for (const [k, v] of new URLSearchParams(text)) {
      try { p[k] = JSON.parse(v); } catch { p[k] = v; }
    }
  }
  return p;
}

async function startTelegramFake({ token = '123456:fake-token', host = '127.0.0.1' } = {}) {
  const calls = [];
  const scripts = new Map();
  const waiters = new Set();
  const updates = [];          // not yet confirmed
  const files = new Map();     // file_id -> {bytes, path, size}
  const sockets = new Set();
  let nextUpdateId = 1000;
  let nextMessageId = 1;
  let poller = null;           // the long poll waiting: {res, timer, p}
  let webhook = null;

  function notify() { for (const w of [...waiters]) w(); }

  function record(method, p, status) {
    const c = { at: Date.now(), method, params: p, status };
    calls.push(c);
    notify();
    return c;
  }

  function send(res, status, body, type = 'application/json') {
    if (res.writableEnded || res.destroyed) return;
    const text = typeof body === 'string' ? body : JSON.stringify(body);
    res.writeHead(status, { 'Content-Type': type, 'Content-Length': Buffer.byteLength(text) });
    res.end(text);
  }

  function answerError(res, call, code, description, retryAfter) {
    call.status = code;
    send(res, code, errorBody(code, description, retryAfter));
  }

  function ok(res, call, result) {
    call.status = 200;
    send(res, 200, { ok: true, result });
  }

  // ---- normal behaviour of each method --------------------------------------
  function pending(offset) {
    return updates.filter((u) => offset === undefined || u.update_id >= offset);
  }

  function confirm(offset) {
    if (offset === undefined || offset === null) return;
    for (let i = updates.length - 1; i >= 0; i--) if (updates[i].update_id < offset) updates.splice(i, 1);
  }

  function endPoller(code) {
    if (!poller) return;
    const { res, timer, call } = poller;
    clearTimeout(timer);
    poller = null;
    if (code) answerError(res, call, code);
    else ok(res, call, []);
  }

  function getUpdates(res, call, p) {
    if (webhook) {
      return answerError(res, call, 409,
        "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first");
    }
    const offset = p.offset === undefined ? undefined : Number(p.offset);
    const limit = Math.min(Math.max(Number(p.limit) || 100, 1), 100);
    const timeout = Math.min(Math.max(Number(p.timeout) || 0, 0), 50);
    confirm(offset);
    endPoller(409); // Telegram ends the older of two pollers
    const ready = pending(offset);
    if (ready.length || timeout === 0) return ok(res, call, ready.slice(0, limit));
    const timer = setTimeout(() => { poller = null; ok(res, call, []); }, timeout * 1000);
    poller = { res, timer, call, offset, limit };
    res.on('close', () => { if (poller && poller.res === res) { clearTimeout(timer); poller = null; } });
    return undefined;
  }

  function keyboardError(markup) {
    const rows = markup && markup.inline_keyboard;
    if (!rows) return null;
    for (const row of rows) {
      for (const b of row) {
        if (!b.text) return 'Bad Request: text buttons are unallowed in the inline keyboard';
        if (b.callback_data !== undefined) {
          const n = Buffer.byteLength(String(b.callback_data));
          if (n < 1 || n > 64) return 'Bad Request: BUTTON_DATA_INVALID';
        }
      }
    }
    return null;
  }

  function message(p, extra) {
    return {
      message_id: nextMessageId++,
      from: { id: Number(token.split(':')[0]) || 1, is_bot: true, first_name: 'Fake bot' },
      chat: { id: Number(p.chat_id), type: 'private' },
      date: Math.floor(Date.now() / 1000),
      ...extra,
    };
  }

  function normal(method, res, call, p) {
    switch (method) {
      case 'getMe':
        return ok(res, call, { id: Number(token.split(':')[0]) || 1, is_bot: true, first_name: 'Fake bot', username: 'fake_bot' });
      case 'getUpdates':
        return getUpdates(res, call, p);
      case 'setWebhook':
        if (!p.url) return answerError(res, call, 400, 'Bad Request: bad webhook: An HTTPS URL must be provided for webhook');
        webhook = { url: p.url, secret_token: p.secret_token, allowed_updates: p.allowed_updates };
        endPoller(409);
        call.status = 200;
        return send(res, 200, { ok: true, result: true, description: 'Webhook was set' });
      case 'deleteWebhook':
        webhook = null;
        call.status = 200;
        return send(res, 200, { ok: true, result: true, description: 'Webhook was deleted' });
      case 'sendMessage': {
        if (p.chat_id === undefined || p.chat_id === '') return answerError(res, call, 400, 'Bad Request: chat_id is empty');
        const text = p.text === undefined ? '' : String(p.text);
        if (!text.trim()) return answerError(res, call, 400, 'Bad Request: message text is empty');
        if (text.length > 4096) return answerError(res, call, 400, 'Bad Request: message is too long');
        const kb = keyboardError(p.reply_markup);
        if (kb) return answerError(res, call, 400, kb);
        return ok(res, call, message(p, { text, ...(p.reply_markup ? { reply_markup: p.reply_markup } : {}) }));
      }
      case 'sendPhoto':
      case 'sendDocument': {
        const field = method === 'sendPhoto' ? 'photo' : 'document';
        if (!p[field]) return answerError(res, call, 400, `Bad Request: there is no ${field} in the request`);
        return ok(res, call, message(p, { [field]: method === 'sendPhoto' ? [{ file_id: 'sent' }] : { file_id: 'sent' } }));
      }
      case 'answerCallbackQuery':
        if (!p.callback_query_id) return answerError(res, call, 400, 'Bad Request: query is too old and response timeout expired or query ID is invalid');
        return ok(res, call, true);
      case 'getFile': {
        const f = files.get(String(p.file_id || ''));
        if (!f) return answerError(res, call, 400, 'Bad Request: invalid file_id');
        if (f.size > TOO_BIG_FOR_BOTS) return answerError(res, call, 400, 'Bad Request: file is too big');
        return ok(res, call, { file_id: p.file_id, file_unique_id: `u-${p.file_id}`, file_size: f.size, file_path: f.path });
      }
      default:
        return answerError(res, call, 404, 'Not Found');
    }
  }

  function scripted(method, res, call, p, step) {
    if (step.drop) {
      call.status = null;
      res.socket.destroy();
      return;
    }
    if (step.ok) {
      if (step.result !== undefined) return ok(res, call, step.result);
      return normal(method, res, call, p);
    }
    if (step.body !== undefined) {
      call.status = step.status || 200;
      return send(res, call.status, step.body, step.type || 'text/html');
    }
    return answerError(res, call, step.status || 500, step.description, step.retry_after);
  }

  const server = http.createServer(async (req, res) => {
    const raw = await readBody(req);
    const url = new URL(req.url, 'http://fake');
    const m = /^\/bot([^/]+)\/([A-Za-z]+)$/.exec(url.pathname);
    const f = /^\/file\/bot([^/]+)\/(.+)$/.exec(url.pathname);
    if (f) {
      const call = record('file', { path: f[2] }, null);
      const file = [...files.values()].find((x) => x.path === decodeURIComponent(f[2]));
      if (f[1] !== token || !file) return answerError(res, call, 404, 'Not Found');
      call.status = 200;
      res.writeHead(200, { 'Content-Type': 'application/octet-stream', 'Content-Length': file.bytes.length });
      return res.end(file.bytes);
    }
    if (!m) return send(res, 404, errorBody(404, 'Not Found'));
    const p = params(url, req.headers, raw);
    const call = record(m[2], p, null);
    if (m[1] !== token) return answerError(res, call, 401, 'Unauthorized');
    if (p.__bad_json) return answerError(res, call, 400, "Bad Request: can't parse JSON");
    const queue = scripts.get(m[2]);
    const step = queue && queue.length ? queue.shift() : null;
    if (step && step.delay) await new Promise((r) => setTimeout(r, step.delay));
    if (step) return scripted(m[2], res, call, p, step);
    return normal(m[2], res, call, p);
  });
  server.on('connection', (s) => { sockets.add(s); s.on('close', () => sockets.delete(s)); });
  await new Promise((resolve) => server.listen(0, host, resolve));
  const { port } = server.address();

  const fake = {
    url: `http://${host}:${port}`,
    token,
    calls,
    get webhook() { return webhook; },
    /** Queues answers for the next calls of method (see the header). */
    script(method, steps) {
      if (!scripts.has(method)) scripts.set(method, []);
      scripts.get(method).push(...steps);
    },
    /** An update with the next update_id (when it has none), not queued:
     * for a script's {ok: true, result: [...]}. Ids only grow, as Telegram's. */
    makeUpdate(update) {
      const u = { update_id: nextUpdateId++, ...update };
      if (u.update_id >= nextUpdateId) nextUpdateId = u.update_id + 1;
      return u;
    },
    /** Adds an update (update_id assigned when missing); wakes a long poll. */
    pushUpdate(update) {
      const u = fake.makeUpdate(update);
      updates.push(u);
      if (poller) {
        const ready = pending(poller.offset);
        if (ready.length) {
          const { res, timer, call, limit } = poller;
          clearTimeout(timer);
          poller = null;
          ok(res, call, ready.slice(0, limit));
        }
      }
      return u;
    },
    /** Updates not yet confirmed by an offset. */
    get unconfirmed() { return updates.slice(); },
    /** A file for getFile: bytes (Buffer or string), path, size (default: the bytes'). */
    addFile(fileId, { bytes = '', path = `documents/${fileId}.bin`, size } = {}) {
      const b = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes);
      files.set(fileId, { bytes: b, path, size: size === undefined ? b.length : size });
    },
    callsOf(method) { return calls.filter((c) => c.method === method); },
    /** Resolves when pred(calls) holds; rejects after ms. */
    waitFor(pred, ms = 10000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          if (pred(calls)) { waiters.delete(check); clearTimeout(t); resolve(calls); }
        };
        const t = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`telegram fake: condition not met within ${ms} ms; calls: ` +
                           calls.map((c) => `${c.method}:${c.status}`).join(' ')));
        }, ms);
        waiters.add(check);
        check();
      });
    },
    async close() {
      endPoller(null);
      for (const s of sockets) s.destroy();
      await new Promise((resolve) => server.close(() => resolve()));
    },
  };
  return fake;
}

module.exports = { startTelegramFake, errorBody };
