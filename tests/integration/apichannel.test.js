'use strict';
// Issue "Network": the API channel end to end over real sockets — signed
// ingest, dedup, bad input, callback delivery with retries across a restart,
// the event stream and /metrics.
const { test, describe, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { startDaemon, request } = require('./lib/daemon');
const { startReceiver, sign } = require('./lib/receiver');
const { connectWs } = require('./lib/ws');

const SECRET = 'shh-test-secret';
const TOKEN = 'it-admin-token';
const AUTH = { Authorization: `Bearer ${TOKEN}` };

function config(callbackUrl) {
  return `http:\n  listen: 127.0.0.1:0\n  max_body: 64KiB\n` +
    `auth:\n  api_tokens:\n    - { name: it, token: ${TOKEN}, role: admin }\n` +
    `plugins:\n  - name: apichannel\n    instance: app\n    config:\n` +
    `      secret: ${SECRET}\n      callback_url: "${callbackUrl}"\n      timeout: 2s\n`;
}

function post(d, obj, { secret = SECRET, instance = 'app', raw } = {}) {
  const body = raw !== undefined ? raw : JSON.stringify(obj);
  const headers = { 'Content-Type': 'application/json' };
  if (secret) headers['X-Switchboard-Signature'] = sign(secret, body);
  return request(`${d.url}/hooks/apichannel/${instance}`, { method: 'POST', headers, body });
}

describe('API channel', () => {
  let d, rx, ws;
  before(async () => {
    rx = await startReceiver();
    d = await startDaemon({ config: config(rx.url) });
    ws = await connectWs(`ws://127.0.0.1:${d.port}/api/v1/ws?token=${TOKEN}`);
  });
  after(async () => {
    if (ws) await ws.close();
    if (d) await d.cleanup();
    if (rx) await rx.close();
  });

  test('a signed message is stored and answered with its id; the event reaches the WebSocket', async () => {
    const r = await post(d, { external_id: 'u-1', name: 'Иван', text: 'Здравствуйте', message_id: 'm-1' });
    assert.equal(r.status, 200, r.body);
    assert.match(r.json.message_id, /^\d+$/);
    const ev = await ws.next((m) => m.type === 'message.created' && m.message.id === r.json.message_id, 5000);
    assert.equal(ev.message.text, 'Здравствуйте');
    assert.equal(ev.message.direction, 'in');
    assert.equal(ev.message.channel, 'apichannel');
  });

  test('the same message_id again answers the same id and stores nothing new', async () => {
    const msg = { external_id: 'u-2', text: 'one', message_id: 'dup-1' };
    const a = await post(d, msg);
    const b = await post(d, { ...msg, text: 'changed' });
    assert.equal(a.status, 200);
    assert.equal(b.status, 200);
    assert.equal(b.json.message_id, a.json.message_id);
    assert.equal(b.json.duplicate, true);
    const ev = await ws.next((m) => m.type === 'message.created' && m.message.id === a.json.message_id, 5000);
    const page = await request(`${d.url}/api/v1/conversations/${ev.conversation_id}/messages`, { headers: AUTH });
    assert.equal(page.status, 200, page.body);
    assert.equal(page.json.items.filter((m) => m.direction === 'in').length, 1);
  });

  test('bad input gets a clear 4xx', async () => {
    const cases = [
      [{ external_id: 'u', text: 'x', message_id: 'b1' }, { secret: 'wrong' }, 401, 'bad_signature'],
      [{ external_id: 'u', text: 'x', message_id: 'b2' }, { secret: null }, 401, 'bad_signature'],
      [null, { raw: '{"external_id": ' }, 400, /body: not valid JSON/],
      [{ text: 'x', message_id: 'b3' }, {}, 400, /external_id/],
      [{ external_id: 'u', message_id: 'b4' }, {}, 400, /text/],
      [{ external_id: 'u', text: 5, message_id: 'b5' }, {}, 400, /text/],
      [{ external_id: 'u', text: 'x' }, {}, 400, /message_id/],
      [{ external_id: 'u', text: 'x', message_id: 'b6' }, { instance: 'nope' }, 404, 'not_found'],
      [{ external_id: 'u', text: 'x'.repeat(70000), message_id: 'b7' }, {}, 413, null],
    ];
    for (const [obj, opts, status, want] of cases) {
      const r = await post(d, obj, opts);
      assert.equal(r.status, status, `${JSON.stringify(opts)}: ${r.body.slice(0, 200)}`);
      assert.ok(r.json && r.json.error, `JSON error body: ${r.body.slice(0, 200)}`);
      if (typeof want === 'string') assert.equal(r.json.error.code, want);
      else if (want) assert.match(r.json.error.message, want);
    }
  });

  test('an operator reply is POSTed to callback_url, signed, and retried after a 500', async () => {
    rx.script({ status: 500 });
    const r = await post(d, { external_id: 'u-3', text: 'где мой заказ?', message_id: 'q-1' });
    const ev = await ws.next((m) => m.type === 'message.created' && m.message.id === r.json.message_id, 5000);
    const sent = await request(`${d.url}/api/v1/conversations/${ev.conversation_id}/messages`, {
      method: 'POST', headers: { ...AUTH, 'Content-Type': 'application/json' },
      body: JSON.stringify({ text: 'Заказ в пути', buttons: [{ id: 'ok', title: 'Спасибо' }] }),
    });
    assert.equal(sent.status, 202, sent.body);
    assert.equal(sent.json.delivery.status, 'pending');
    const got = await rx.waitFor((list) => list.filter((x) => x.json?.message_id === sent.json.id).length >= 2, 15000);
    const tries = got.filter((x) => x.json?.message_id === sent.json.id);
    assert.equal(tries[0].answered, 500);
    assert.equal(tries[1].answered, 200);
    for (const t of tries) {
      assert.equal(t.headers['x-switchboard-signature'], sign(SECRET, t.raw));
      assert.deepEqual(t.json, {
        message_id: sent.json.id, external_id: 'u-3', text: 'Заказ в пути',
        conversation_id: ev.conversation_id, buttons: [{ id: 'ok', title: 'Спасибо' }],
      });
    }
    const upd = await ws.next((m) => m.type === 'message.updated' && m.message.id === sent.json.id &&
      m.message.delivery.status === 'sent', 5000);
    assert.equal(upd.message.delivery.status, 'sent');
  });

  test('/metrics is valid Prometheus text and needs a token', async () => {
    assert.equal((await request(`${d.url}/metrics`)).status, 401);
    const r = await request(`${d.url}/metrics`, { headers: AUTH });
    assert.equal(r.status, 200);
    assert.match(r.headers['content-type'], /^text\/plain; version=0\.0\.4/);
    const families = assertPrometheus(r.body);
    for (const f of ['sb_http_requests_total', 'sb_http_request_duration_seconds', 'sb_http_open_connections',
      'sb_ws_clients', 'sb_store_commit_seconds', 'sb_store_batch_writes', 'sb_outbox_pending',
      'sb_outbox_retries_total', 'sb_outbox_failures_total', 'sb_plugin_callback_seconds_total',
      'sb_process_resident_memory_bytes']) {
      assert.ok(families.has(f), `family ${f} missing`);
    }
    assert.match(r.body, /sb_http_requests_total\{route="\/hooks\/apichannel\/app",method="POST",status="200"\} [1-9]/);
    assert.match(r.body, /sb_outbox_retries_total\{plugin="apichannel",instance="app"\} [1-9]/);
    assert.match(r.body, /sb_ws_clients [1-9]/);
  });
});

/** Checks the text exposition format: TYPE before samples, families contiguous. */
function assertPrometheus(text) {
  const seen = new Set();
  const typed = new Map();
  let current = null;
  for (const line of text.split('\n')) {
    if (line === '') continue;
    let m;
    if ((m = /^# (HELP|TYPE) ([a-zA-Z_:][a-zA-Z0-9_:]*) (.*)$/.exec(line))) {
      if (m[1] === 'TYPE') {
        assert.ok(!typed.has(m[2]), `TYPE twice for ${m[2]}`);
        assert.match(m[3], /^(counter|gauge|histogram|summary|untyped)$/);
        typed.set(m[2], m[3]);
      }
      continue;
    }
    m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([a-zA-Z_][a-zA-Z0-9_]*="(\\.|[^"\\])*",?)*\})? (-?[0-9.eE+-]+|NaN|\+Inf|-Inf)$/.exec(line);
    assert.ok(m, `not a sample line: ${line}`);
    const fam = typed.has(m[1]) ? m[1] : m[1].replace(/_(bucket|sum|count)$/, '');
    assert.ok(typed.has(fam), `sample before its TYPE: ${line}`);
    if (fam !== current) {
      assert.ok(!seen.has(fam), `family ${fam} is not contiguous`);
      seen.add(fam);
      current = fam;
    }
  }
  return new Set(typed.keys());
}

test('a reply waiting on Retry-After survives a restart and is delivered once', async () => {
  const rx = await startReceiver({ script: [{ status: 503, headers: { 'Retry-After': '2' } }] });
  const d = await startDaemon({ config: config(rx.url) });
  try {
    const ws = await connectWs(`ws://127.0.0.1:${d.port}/api/v1/ws?token=${TOKEN}`);
    const r = await post(d, { external_id: 'u-9', text: 'hello', message_id: 'r-1' });
    const ev = await ws.next((m) => m.type === 'message.created' && m.message.id === r.json.message_id, 5000);
    await ws.close();
    const sent = await request(`${d.url}/api/v1/conversations/${ev.conversation_id}/messages`, {
      method: 'POST', headers: { ...AUTH, 'Content-Type': 'application/json' }, body: '{"text":"later"}',
    });
    assert.equal(sent.status, 202, sent.body);
    await rx.waitFor((l) => l.length === 1, 5000);
    const firstAt = rx.received[0].at;
    // Stop only once the daemon has stored the 503 and its Retry-After.
    const deadline = Date.now() + 5000;
    for (;;) {
      const m = await request(`${d.url}/metrics`, { headers: AUTH });
      if (/sb_outbox_retries_total\{plugin="apichannel",instance="app"\} [1-9]/.test(m.body)) break;
      assert.ok(Date.now() < deadline, 'the retry was not recorded within 5 s');
      await new Promise((ok) => setTimeout(ok, 50));
    }
    assert.equal(await d.stop(), 0);
    await d.restart();
    const got = await rx.waitFor((l) => l.length === 2, 10000);
    assert.ok(got[1].at - firstAt >= 1900, `retried after ${got[1].at - firstAt} ms, Retry-After was 2 s`);
    assert.equal(got[1].json.message_id, sent.json.id);
    await new Promise((ok) => setTimeout(ok, 1500));
    assert.equal(rx.received.length, 2, 'delivered exactly once after the 503');
  } finally {
    await d.cleanup();
    await rx.close();
  }
});
