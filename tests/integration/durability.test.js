'use strict';
// Nothing acknowledged is ever lost: messages are sent concurrently, the
// daemon is killed with SIGKILL mid-stream, and after a restart every
// message that got a 200 is stored exactly once.
const { test } = require('node:test');
const assert = require('node:assert/strict');
const http = require('node:http');
const { startDaemon, request } = require('./lib/daemon');
const { sign } = require('./lib/receiver');
const { connectWs } = require('./lib/ws');

const SECRET = 'durable';
const TOKEN = 'dur-admin';
const N = 400;
const CONCURRENCY = 32;

const yaml = `http:\n  listen: 127.0.0.1:0\n` +
  `auth:\n  api_tokens:\n    - { name: t, token: ${TOKEN}, role: admin }\n` +
  `plugins:\n  - { name: apichannel, instance: d, config: { secret: ${SECRET} } }\n`;

const agent = new http.Agent({ keepAlive: true, maxSockets: CONCURRENCY });

function send(port, i) {
  const body = JSON.stringify({ external_id: 'dur-client', text: `message ${i}`, message_id: `dur-${i}` });
  return new Promise((resolve) => {
    const req = http.request({
      host: '127.0.0.1', port, path: '/hooks/apichannel/d', method: 'POST', agent,
      headers: { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body),
                 'X-Switchboard-Signature': sign(SECRET, body) },
    }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        let json = null;
        try { json = JSON.parse(Buffer.concat(chunks).toString()); } catch { /* none */ }
        resolve({ i, status: res.statusCode, json });
      });
      res.on('error', () => resolve({ i, status: 0 }));
    });
    req.setTimeout(10000, () => req.destroy());
    req.on('error', () => resolve({ i, status: 0 }));
    req.end(body);
  });
}

test('every acknowledged message survives kill -9, exactly once', { timeout: 120000 }, async () => {
  const d = await startDaemon({ config: yaml });
  try {
    const acked = new Map();
    let next = 0;
    let killed = false;
    const worker = async () => {
      while (next < N) {
        const i = next++;
        const r = await send(d.port, i);
        if (r.status === 200) acked.set(i, r.json.message_id);
        if (!killed && acked.size >= N / 4) {
          killed = true;
          d.kill();
        }
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
    assert.ok(killed, 'the daemon was killed mid-stream');
    assert.ok(acked.size >= N / 4 && acked.size < N, `acked ${acked.size} of ${N} before the kill`);
    agent.destroy();

    await d.restart();
    // Everything again: acknowledged ones must come back as duplicates with
    // their original ids; the rest are stored now.
    const again = [];
    for (let i = 0; i < N; i += CONCURRENCY) {
      const batch = [];
      for (let j = i; j < Math.min(N, i + CONCURRENCY); j++) batch.push(send(d.port, j));
      again.push(...await Promise.all(batch));
    }
    for (const r of again) {
      assert.equal(r.status, 200, `resend ${r.i}`);
      if (acked.has(r.i)) {
        assert.equal(r.json.duplicate, true, `message ${r.i} was acknowledged before the kill`);
        assert.equal(r.json.message_id, acked.get(r.i));
      }
    }
    // Count what is stored: one conversation holds them all.
    const ws = await connectWs(`ws://127.0.0.1:${d.port}/api/v1/ws?token=${TOKEN}`);
    const probe = await send(d.port, 'probe');
    const ev = await ws.next((m) => m.type === 'message.created' && m.message.id === probe.json.message_id, 5000);
    await ws.close();
    const ids = [];
    let cursor = null;
    do {
      const q = cursor ? `?limit=500&before=${cursor}` : '?limit=500';
      const page = await request(`${d.url}/api/v1/clients/${ev.message.client_id}/messages${q}`,
        { headers: { Authorization: `Bearer ${TOKEN}` } });
      assert.equal(page.status, 200, page.body);
      ids.push(...page.json.items.map((m) => m.id));
      cursor = page.json.next_cursor;
    } while (cursor);
    assert.equal(new Set(ids).size, ids.length, 'no message stored twice');
    assert.equal(ids.length, N + 1, 'every message stored once, plus the probe');
    for (const id of acked.values()) assert.ok(ids.includes(id), `acknowledged ${id} is stored`);
  } finally {
    await d.cleanup();
  }
});
