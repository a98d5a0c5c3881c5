'use strict';
// A fake company API for the button bot's API step (plugins/buttonbot): an
// order service answering GET /orders?phone=... with JSON, or, as told, a
// 500, garbage, or nothing at all. No dependencies beyond Node's standard
// library (Node 18 and 20).
//
//   const { startCompanyApi } = require('../fakes/company_api');
//   const co = await startCompanyApi({ token: 'company-token' });
//   co.order('+79123456789', { id: 'A-1', status: 'доставляется' });
//   co.mode('+79120000000', '500');        // or 'garbage', 'hang', 'ok'
//   co.received   // [{at, method, url, query, headers, raw}]
//   await co.close();
//
// Without a valid "Authorization: Bearer <token>" (when a token is set) the
// answer is 401. A phone with orders gets
// {"data":{"orders":[{"id","status"}]}}; one without gets
// {"data":{"orders":[]}}. Modes per phone: 'ok' (default), '500' (HTTP 500
// with a JSON error), 'garbage' (200 with HTML), 'hang' (never answers
// until close()).
const http = require('node:http');

function startCompanyApi({ token = null } = {}) {
  const orders = new Map();
  const modes = new Map();
  const received = [];
  const hung = new Set();
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const u = new URL(req.url, 'http://x');
      const phone = u.searchParams.get('phone') || '';
      received.push({ at: Date.now(), method: req.method, url: req.url, query: Object.fromEntries(u.searchParams),
        headers: req.headers, raw: Buffer.concat(chunks).toString('utf8') });
      const send = (status, body, type = 'application/json') => {
        res.writeHead(status, { 'Content-Type': type });
        res.end(typeof body === 'string' ? body : JSON.stringify(body));
      };
      if (token && req.headers.authorization !== `Bearer ${token}`) {
        send(401, { error: 'unauthorized' });
        return;
      }
      if (req.method !== 'GET' || u.pathname !== '/orders') {
        send(404, { error: 'not found' });
        return;
      }
      const mode = modes.get(phone) || 'ok';
      if (mode === 'hang') { hung.add(res); return; }
      if (mode === '500') { send(500, { error: 'internal' }); return; }
      if (mode === 'garbage') { send(200, '<html><body>Service Unavailable</body></html>', 'text/html'); return; }
      send(200, { data: { orders: orders.get(phone) || [] } });
    });
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      resolve({
        url: `http://127.0.0.1:${port}`,
        received,
        /** Adds an order {id, status} for a phone ("+79123456789"). */
        order: (phone, o) => orders.set(phone, [...(orders.get(phone) || []), o]),
        /** How the service answers this phone: 'ok', '500', 'garbage' or 'hang'. */
        mode: (phone, m) => modes.set(phone, m),
        close: () => new Promise((ok) => {
          for (const r of hung) r.destroy();
          hung.clear();
          server.closeAllConnections?.();
          server.close(() => ok());
        }),
      });
    });
  });
}

module.exports = { startCompanyApi };
