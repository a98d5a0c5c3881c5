'use strict';
// A fake third-party bot for the bot gateway (plugins/botgateway): an HTTP
// server that takes the gateway's signed event POSTs and answers as told.
// No dependencies beyond Node's standard library (Node 18 and 20).
//
//   const { startFakeBot } = require('../fakes/fake_bot');
//   const bot = await startFakeBot({ secret: 's3cret' });
//   bot.respond((ev) => ({ actions: [{ type: 'reply', text: `echo: ${ev.message.text}` }] }));
//   bot.plan(convId, { status: 500 }, { raw: '{not json' }); // this conversation's next answers
//   await bot.waitFor((list) => list.some((r) => r.json?.conversation_id === convId));
//   bot.connect({ url: d.url, instance: 'main', token: 'bot-token' });
//   const r = await bot.act(convId, [{ type: 'reply', text: 'later' }]);   // the REST API
//   await bot.close();
//
// Every POST is checked against X-Switchboard-Signature ("sha256=" + hex
// HMAC-SHA256(secret, raw body)); a missing or wrong one is answered 401
// and recorded with signatureOk false. A signed one gets the next step of
// its conversation's plan, else what the global responder returns for it
// (default: a 204, i.e. "nothing now"). A step is
//   {actions: [...]}               200 {"actions":[...]}
//   {silent: true}                 204, no body (the bot may answer later)
//   {status: 500, body?}           an error status (body default {"error":"boom"})
//   {raw: 'text', status?: 200}    this body as is (malformed JSON)
//   {hang: true}                   never answers (until close())
//   {delay: ms, ...}               any of the above after ms
// Every request is recorded in bot.received: {at, url, headers, raw, json,
// signatureOk, answered} (answered: the status, or 'hang').

const http = require('node:http');
const crypto = require('node:crypto');

function sign(secret, body) {
  return `sha256=${crypto.createHmac('sha256', secret).update(body).digest('hex')}`;
}

function signatureOk(secret, raw, header) {
  const want = Buffer.from(sign(secret, raw));
  const got = Buffer.from(String(header || ''));
  return got.length === want.length && crypto.timingSafeEqual(got, want);
}

function startFakeBot({ secret }) {
  const received = [];
  const waiters = new Set();
  const plans = new Map();
  const hanging = new Set();
  let responder = () => ({ silent: true });
  let gateway = null;

  function answer(res, step) {
    if (step.hang) {
      hanging.add(res);
      res.on('close', () => hanging.delete(res));
      return 'hang';
    }
    if (step.silent) {
      res.writeHead(204);
      res.end();
      return 204;
    }
    if (step.raw !== undefined) {
      const status = step.status || 200;
      res.writeHead(status, { 'Content-Type': 'application/json' });
      res.end(step.raw);
      return status;
    }
    if (step.status && (step.status < 200 || step.status > 299)) {
      res.writeHead(step.status, { 'Content-Type': 'application/json' });
      res.end(step.body === undefined ? '{"error":"boom"}' : step.body);
      return step.status;
    }
    res.writeHead(step.status || 200, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify({ actions: step.actions || [] }));
    return step.status || 200;
  }

  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks);
      let json = null;
      try { json = JSON.parse(raw.toString('utf8')); } catch { /* kept raw */ }
      const rec = { at: Date.now(), url: req.url, headers: req.headers, raw, json,
        signatureOk: signatureOk(secret, raw, req.headers['x-switchboard-signature']), answered: null };
      received.push(rec);
      const go = (step) => {
        rec.answered = answer(res, step);
        for (const w of [...waiters]) w();
      };
      if (!rec.signatureOk) {
        go({ status: 401, body: '{"error":"bad signature"}' });
        return;
      }
      const plan = json && plans.get(json.conversation_id);
      let step = plan && plan.length ? plan.shift() : null;
      if (!step) {
        try { step = responder(json, rec) || { silent: true }; } catch (e) { step = { status: 500, body: String(e) }; }
      }
      if (step.delay) setTimeout(() => go({ ...step, delay: 0 }), step.delay);
      else go(step);
    });
  });

  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      resolve({
        url: `http://127.0.0.1:${port}/bot`,
        received,
        /** Signed events of one conversation, in order. */
        eventsOf: (convId) => received.filter((r) => r.signatureOk && r.json && r.json.conversation_id === convId),
        /** The answer for every event without a plan: fn(event, record) -> step. */
        respond(fn) { responder = fn; },
        /** Queues the next answers for one conversation. */
        plan(convId, ...steps) {
          if (!plans.has(convId)) plans.set(convId, []);
          plans.get(convId).push(...steps);
        },
        /** Resolves when pred(received) holds, rejects after ms. */
        waitFor(pred, ms = 10000) {
          return new Promise((ok, fail) => {
            const check = () => {
              let hit = false;
              try { hit = pred(received); } catch { hit = false; }
              if (hit) { waiters.delete(check); clearTimeout(t); ok(received); }
            };
            const t = setTimeout(() => {
              waiters.delete(check);
              fail(new Error(`fake bot: condition not met within ${ms} ms (${received.length} received)`));
            }, ms);
            waiters.add(check);
            check();
          });
        },
        /** Where act() calls the gateway: the daemon's base URL, the gateway instance and the bot token. */
        connect({ url, instance, token, plugin = 'botgateway' }) { gateway = { url, instance, token, plugin }; },
        /**
         * POST /api/v1/bots/<plugin>/<instance>/conversations/<id>/actions with
         * {"actions":[...]} (or body as given: a string is sent raw). opts.token
         * overrides the bot token (null: no Authorization header).
         * Resolves {status, json, body}.
         */
        act(convId, actions, opts = {}) {
          if (!gateway) throw new Error('fake bot: connect() first');
          const token = opts.token === undefined ? gateway.token : opts.token;
          const body = opts.body !== undefined ? opts.body : JSON.stringify({ actions });
          const headers = { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) };
          if (token !== null) headers.Authorization = `Bearer ${token}`;
          const target = `${gateway.url}/api/v1/bots/${gateway.plugin}/${gateway.instance}` +
            `/conversations/${encodeURIComponent(convId)}/actions`;
          return new Promise((ok, fail) => {
            const req = http.request(target, { method: 'POST', headers, agent: false }, (res) => {
              const parts = [];
              res.on('data', (c) => parts.push(c));
              res.on('end', () => {
                const text = Buffer.concat(parts).toString('utf8');
                let json;
                try { json = JSON.parse(text); } catch { json = undefined; }
                ok({ status: res.statusCode, json, body: text });
              });
            });
            req.setTimeout(10000, () => req.destroy(new Error(`fake bot: ${target}: no answer`)));
            req.on('error', fail);
            req.end(body);
          });
        },
        close() {
          for (const res of hanging) res.destroy();
          hanging.clear();
          return new Promise((ok) => { server.closeAllConnections?.(); server.close(() => ok()); });
        },
      });
    });
  });
}

module.exports = { startFakeBot, sign };
