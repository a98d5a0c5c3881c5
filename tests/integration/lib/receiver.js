'use strict';
// A callback receiver for the API channel's outbound messages: records each
// POST with its headers and raw body, and answers from a script of statuses
// (then 200), so tests can make it fail, rate-limit or accept.
const http = require('node:http');
const crypto = require('node:crypto');

function startReceiver({ script = [] } = {}) {
  const received = [];
  const waiters = new Set();
  const plan = [...script];
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks);
      let json = null;
      try { json = JSON.parse(raw.toString('utf8')); } catch { /* kept raw */ }
      const step = plan.length ? plan.shift() : { status: 200 };
      received.push({ at: Date.now(), method: req.method, url: req.url, headers: req.headers,
                      raw, json, answered: step.status });
      res.writeHead(step.status, { 'Content-Type': 'application/json', ...(step.headers || {}) });
      res.end(step.body || '{}');
      for (const w of [...waiters]) w();
    });
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      resolve({
        url: `http://127.0.0.1:${port}/callback`,
        received,
        /** Appends answers for the next requests. */
        script: (...steps) => plan.push(...steps),
        /** Resolves when pred(received) holds, rejects after ms. */
        waitFor(pred, ms = 10000) {
          return new Promise((ok, fail) => {
            const check = () => {
              if (pred(received)) { waiters.delete(check); clearTimeout(t); ok(received); }
            };
            const t = setTimeout(() => {
              waiters.delete(check);
              fail(new Error(`receiver: condition not met within ${ms} ms (${received.length} received)`));
            }, ms);
            waiters.add(check);
            check();
          });
        },
        close: () => new Promise((ok) => { server.closeAllConnections?.(); server.close(() => ok()); }),
      });
    });
  });
}

/** "sha256=" + hex HMAC-SHA256(secret, body), as X-Switchboard-Signature. */
function sign(secret, body) {
  return `sha256=${crypto.createHmac('sha256', secret).update(body).digest('hex')}`;
}

module.exports = { startReceiver, sign };
