'use strict';
// A WebSocket client for tests, on the `ws` package (Node 18 has no global
// WebSocket). Messages are buffered from the moment the socket opens, so a
// test cannot miss one that arrived before it started waiting.
//
//   const c = await connectWs(`ws://127.0.0.1:${d.port}/api/v1/ws`, { headers });
//   c.send({ type: 'ping' });
//   const msg = await c.next((m) => m.type === 'pong', 2000);
//   await c.close();

const WebSocket = require('ws');

/**
 * Resolves {ws, messages, next(pred, ms), send(data), close()} once open;
 * rejects on an HTTP error (err.status) or after timeoutMs.
 * messages: every received message, parsed as JSON when it is JSON
 * (else the string; binary frames stay Buffers).
 */
function connectWs(url, { headers = {}, protocols, timeoutMs = 5000 } = {}) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, protocols, { headers, handshakeTimeout: timeoutMs });
    const messages = [];
    const waiters = new Set();
    let closed = null;

    ws.on('message', (data, isBinary) => {
      let m = data;
      if (!isBinary) {
        const text = data.toString('utf8');
        try { m = JSON.parse(text); } catch { m = text; }
      }
      messages.push(m);
      for (const w of [...waiters]) w.check();
    });
    ws.on('close', (code, reason) => {
      closed = { code, reason: reason.toString() };
      for (const w of [...waiters]) w.check();
    });
    ws.on('unexpected-response', (req, res) => {
      const err = new Error(`WebSocket upgrade refused: HTTP ${res.statusCode}`);
      err.status = res.statusCode;
      res.resume();
      req.destroy();
      reject(err);
    });
    ws.on('error', reject);
    ws.on('open', () => {
      let seen = 0; // next() hands out each message once, in order
      const client = {
        ws,
        messages,
        get closed() { return closed; },
        send(data) {
          ws.send(typeof data === 'string' || Buffer.isBuffer(data) ? data : JSON.stringify(data));
        },
        /** The next not yet returned message matching pred (default: any). */
        next(pred = () => true, ms = 5000) {
          return new Promise((res, rej) => {
            const w = {
              check() {
                while (seen < messages.length) {
                  const m = messages[seen++];
                  if (pred(m)) { done(); return res(m); }
                }
                if (closed) { done(); rej(new Error(`socket closed (${closed.code}) while waiting`)); }
              },
            };
            const timer = setTimeout(() => { done(); rej(new Error(`no matching message within ${ms} ms`)); }, ms);
            function done() { clearTimeout(timer); waiters.delete(w); }
            waiters.add(w);
            w.check();
          });
        },
        close(code = 1000) {
          if (closed) return Promise.resolve(closed);
          return new Promise((res) => { ws.once('close', (c, r) => res({ code: c, reason: r.toString() })); ws.close(code); });
        },
      };
      resolve(client);
    });
  });
}

module.exports = { connectWs };
