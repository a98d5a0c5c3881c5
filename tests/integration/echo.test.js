'use strict';
// The SDK's promise, end to end: the example plugin sdk/examples/echo runs in
// the real daemon, two instances side by side, a client message in through
// its webhook and an operator reply out through its outbox; and the example
// builds with nothing but a C compiler and sdk/include, and that .so loads.
const { test, describe, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const { startDaemon, request, makeTempDir, repoRoot, pluginsDir } = require('./lib/daemon');
const { connectWs } = require('./lib/ws');

const TOKEN = 'it-echo-token';
const AUTH = { Authorization: `Bearer ${TOKEN}` };

// plugins_strict: a plugin that fails to load fails the start, so a broken
// echo.so cannot pass as "the daemon came up".
function config(instances) {
  let y = `http:\n  listen: 127.0.0.1:0\n` +
    `auth:\n  api_tokens:\n    - { name: it, token: ${TOKEN}, role: admin }\n` +
    `plugins_strict: true\nplugins:\n`;
  for (const [instance, prefix] of instances) {
    y += `  - name: echo\n    instance: ${instance}\n    config:\n      prefix: "${prefix}"\n`;
  }
  return y;
}

/** The client `from` says `text` through instance `inst`; resolves the stored id. */
async function clientSays(d, inst, from, id, text) {
  const q = new URLSearchParams({ from, id });
  const r = await request(`${d.url}/hooks/echo/${inst}?${q}`, {
    method: 'POST', headers: { 'Content-Type': 'text/plain' }, body: text,
  });
  assert.equal(r.status, 200, r.body);
  assert.match(r.body, /^\d+$/, 'the body is the stored message id');
  return r.body;
}

/** An operator reply through the REST API. */
async function operatorSays(d, conversationId, text) {
  const r = await request(`${d.url}/api/v1/conversations/${conversationId}/messages`, {
    method: 'POST', headers: { ...AUTH, 'Content-Type': 'application/json' },
    body: JSON.stringify({ text }),
  });
  assert.equal(r.status, 202, r.body);
  return r.json;
}

/**
 * Reads the outbox of `to` on `inst` until it has `want` lines; GET empties
 * the box, so lines are gathered across polls.
 */
async function outboxLines(d, inst, to, want, ms = 5000) {
  const lines = [];
  const until = Date.now() + ms;
  for (;;) {
    const r = await request(`${d.url}/hooks/echo/${inst}/outbox?to=${encodeURIComponent(to)}`);
    assert.equal(r.status, 200, r.body);
    lines.push(...r.body.split('\n').filter((l) => l !== ''));
    if (lines.length >= want) return lines;
    if (Date.now() > until) {
      assert.fail(`outbox ${inst}/${to}: ${lines.length} of ${want} lines within ${ms} ms: ` +
                  JSON.stringify(lines));
    }
    await new Promise((ok) => setTimeout(ok, 50));
  }
}

/** A client message in, its conversation from the WebSocket, a reply out. */
async function roundTrip(d, ws, inst, from, id, text, reply) {
  const msgId = await clientSays(d, inst, from, id, text);
  const ev = await ws.next((m) => m.type === 'message.created' && m.message.id === msgId, 5000);
  assert.equal(ev.message.text, text);
  assert.equal(ev.message.direction, 'in');
  assert.equal(ev.message.channel, 'echo');
  const sent = await operatorSays(d, ev.conversation_id, reply);
  return { msgId, conversationId: ev.conversation_id, sent };
}

describe('echo example plugin in the daemon', () => {
  let d, ws;
  before(async () => {
    assert.ok(fs.existsSync(path.join(pluginsDir, 'echo.so')), `${pluginsDir}/echo.so is built`);
    d = await startDaemon({ config: config([['one', 'A> '], ['two', 'B> ']]) });
    ws = await connectWs(`ws://127.0.0.1:${d.port}/api/v1/ws?token=${TOKEN}`);
  });
  after(async () => {
    if (ws) await ws.close();
    if (d) await d.cleanup();
  });

  test('one echo.so from the build serves both instances', () => {
    const loaded = d.logs.filter((l) => /loaded plugin echo /.test(l));
    assert.equal(loaded.length, 1, loaded.join('\n'));
    assert.ok(loaded[0].includes(`from ${path.join(pluginsDir, 'echo.so')} `), loaded[0]);
    for (const inst of ['one', 'two']) {
      assert.ok(d.logs.some((l) => l.includes(`plugin=echo/${inst} `) && /started channel plugin/.test(l)),
        `echo/${inst} started`);
    }
  });

  test('a webhook message in, an operator reply out of the outbox with the prefix', async () => {
    const { sent } = await roundTrip(d, ws, 'one', 'alice', 'e-1', 'hello echo', 'hi alice');
    assert.deepEqual(await outboxLines(d, 'one', 'alice', 1), ['A> hi alice']);
    const upd = await ws.next((m) => m.type === 'message.updated' && m.message.id === sent.id &&
      m.message.delivery.status === 'sent', 5000);
    assert.equal(upd.message.delivery.status, 'sent');
  });

  test('two instances of the one .so keep their own prefixes and outboxes', async () => {
    // the same client id and message id on both: different channels, so two messages
    const a = await roundTrip(d, ws, 'one', 'bob', 'same-id', 'via one', 'answer one');
    const b = await roundTrip(d, ws, 'two', 'bob', 'same-id', 'via two', 'answer two');
    assert.notEqual(a.msgId, b.msgId);
    assert.notEqual(a.conversationId, b.conversationId);
    assert.deepEqual(await outboxLines(d, 'one', 'bob', 1), ['A> answer one']);
    assert.deepEqual(await outboxLines(d, 'two', 'bob', 1), ['B> answer two']);
    // nothing crossed over: both boxes are empty now
    await new Promise((ok) => setTimeout(ok, 200));
    for (const inst of ['one', 'two']) {
      const r = await request(`${d.url}/hooks/echo/${inst}/outbox?to=bob`);
      assert.equal(r.body, '', `${inst} outbox after draining`);
    }
  });

  test('a redelivered webhook answers the same id and stores nothing new', async () => {
    const first = await clientSays(d, 'two', 'carol', 'r-1', 'once');
    const again = await clientSays(d, 'two', 'carol', 'r-1', 'once');
    assert.equal(again, first);
  });
});

// Only the compiler is allowed to be missing: the point is that nothing of
// the core is needed to build a plugin.
function haveCc() {
  try {
    execFileSync('cc', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

test('the example builds with cc and sdk/include alone, and the daemon loads that .so',
  { skip: haveCc() ? false : 'no cc on PATH' }, async () => {
    const dir = makeTempDir('sb-echo-so-');
    const so = path.join(dir, 'echo.so');
    const exampleDir = path.join(repoRoot, 'sdk', 'examples', 'echo');
    // sdk/examples/echo/*.c, expanded here as the shell would
    const sources = fs.readdirSync(exampleDir).filter((f) => f.endsWith('.c')).sort()
      .map((f) => path.join('sdk', 'examples', 'echo', f));
    assert.ok(sources.length > 0);
    execFileSync('cc', ['-shared', '-fPIC', '-I', 'sdk/include', ...sources, '-o', so],
      { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
    assert.ok(fs.statSync(so).size > 0);

    const d = await startDaemon({
      config: config([['solo', 'S: ']]),
      set: { plugins_dir: dir },
    });
    let ws;
    try {
      const loaded = d.logs.filter((l) => /loaded plugin echo /.test(l));
      assert.equal(loaded.length, 1, loaded.join('\n'));
      assert.ok(loaded[0].includes(`from ${so} `), loaded[0]);
      ws = await connectWs(`ws://127.0.0.1:${d.port}/api/v1/ws?token=${TOKEN}`);
      await roundTrip(d, ws, 'solo', 'dave', 'cc-1', 'built by hand', 'it works');
      assert.deepEqual(await outboxLines(d, 'solo', 'dave', 1), ['S: it works']);
      // and nothing else stood in for it: without the file echo cannot load
      assert.equal(await d.stop(), 0);
      fs.rmSync(so);
      await assert.rejects(d.restart({ timeoutMs: 5000 }), /did not get ready/);
      assert.equal(d.exitCode, 1);
      assert.ok(d.logs.slice(d.logStart).some((l) => l.includes(`cannot load ${so}`)),
        d.logs.slice(d.logStart).join('\n'));
    } finally {
      if (ws) await ws.close();
      await d.cleanup();
    }
  });
