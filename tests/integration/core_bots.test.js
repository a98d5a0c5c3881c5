'use strict';
// ABI 1.1 in the real daemon, through the probe_bot fixture
// (tests/plugins/probe_bot.c): a channel instance's bot meets new
// conversations, acts on them (reply with buttons, attributes, tags, close
// with a rating request), hands off with a reason the operator sees; a bot
// that fails or is missing never leaves the client alone; plugins' API
// routes get the caller's role from the core; plugins serve WebSockets; a
// `bot:` naming no bot is a config error with file:line.
const { test, describe, before, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { startDaemon, runDaemon, mixedPluginsDir, makeTempDir, setArgs } = require('./lib/daemon');
const { startReceiver } = require('./lib/receiver');
const { connectWs } = require('./lib/ws');
const {
  ADMIN_TOKEN, engineConfig, api, expectStatus, makeOperator, say, until,
} = require('./lib/api');

const probe = (group) => `  - { name: probe_bot, instance: p1, config: { group: ${JSON.stringify(group)} } }\n`;

describe('bots through ABI 1.1', () => {
  let d, rx, dir;
  before(async () => {
    rx = await startReceiver();
    dir = mixedPluginsDir();
    const cfg = engineConfig({
      groups: [{ id: 'support' }, { id: 'cards' }],
      instances: [{ instance: 'main', callbackUrl: rx.url, bot: 'probe_bot/p1' }],
    }) + probe('cards');
    d = await startDaemon({ config: cfg, set: { plugins_dir: dir } });
  });
  after(async () => {
    if (d) { assert.equal(await d.stop(), 0); d.cleanup(); }
    if (rx) await rx.close();
  });

  const conv = async (id) => expectStatus(await api(d, ADMIN_TOKEN, 'GET', `/conversations/${id}`), 200);
  const history = async (id) => expectStatus(
    await api(d, ADMIN_TOKEN, 'GET', `/conversations/${id}/messages?limit=50`), 200).items;
  /** Resolves the first message to client `ext` for which pred holds. */
  async function toClient(ext, pred = () => true) {
    const hit = (r) => r.json && r.json.external_id === ext && pred(r.json);
    await rx.waitFor((rs) => rs.some(hit));
    return rx.received.find(hit).json;
  }

  test('the bot answers first; the conversation waits in no queue', async () => {
    await say(d, { instance: 'main', external_id: 'b-1', text: 'привет' });
    const first = await toClient('b-1', (j) => j.text === 'start: привет');
    assert.equal(first.buttons[0].id, 'probe:again');
    const cid = first.conversation_id;
    const c = await conv(cid);
    assert.equal(c.status, 'bot');
    assert.equal(c.bot, 'probe_bot/p1');
    assert.equal(c.queue_position, null);
    await say(d, { instance: 'main', external_id: 'b-1', button_id: 'probe:again' });
    await toClient('b-1', (j) => j.text === 'echo: probe:again');
    const hist = await history(cid);
    assert.ok(hist.some((m) => m.author.kind === 'bot' && m.text === 'start: привет'), 'the bot is in the history');
  });

  test('attributes and tags, then a hand-off the operator sees with its reason', async () => {
    const op = await makeOperator(d, { groups: ['cards'] });
    await say(d, { instance: 'main', external_id: 'b-2', text: 'attr' });
    const cid = (await toClient('b-2', (j) => j.text === 'done')).conversation_id;
    const c = await conv(cid);
    assert.deepEqual(c.tags, ['bot-seen']);
    assert.equal(c.attributes.topic, 'cards');
    const client = expectStatus(await api(d, ADMIN_TOKEN, 'GET', `/clients/${c.client_id}`), 200);
    assert.equal(client.attributes.plan, 'gold');
    assert.deepEqual(client.tags, ['vip']);
    await say(d, { instance: 'main', external_id: 'b-2', text: 'operator' });
    const after = await until(async () => { const x = await conv(cid); return x.status === 'assigned' && x; },
      { what: 'the hand-off' });
    assert.equal(after.group_id, 'cards');
    assert.equal(after.operator_id, op.id);
    const note = (await history(cid)).find((m) => m.type === 'event' && m.event === 'handoff');
    assert.ok(note && /the client asked/.test(note.text), 'the operator sees why');
    // the operator answers; the bot hears nothing more
    const sent = await op.call('POST', `/conversations/${cid}/messages`, { text: 'Здравствуйте' });
    expectStatus(sent, 202);
    const n = rx.received.length;
    await say(d, { instance: 'main', external_id: 'b-2', text: 'спасибо' });
    await new Promise((ok) => setTimeout(ok, 200));
    assert.ok(!rx.received.slice(n).some((r) => r.json && /^echo/.test(r.json.text)), 'no bot echo after the hand-off');
  });

  test('a bot answering with an error hands the client to operators at once', async () => {
    await say(d, { instance: 'main', external_id: 'b-3', text: 'fail' });
    // nobody of `support` is online: the client hears its place in the queue
    const cid = (await toClient('b-3')).conversation_id;
    const c = await until(async () => { const x = await conv(cid); return x.status !== 'bot' && x; },
      { what: 'the core hand-off' });
    assert.equal(c.status, 'queued');
    assert.equal(c.group_id, 'support', 'the instance group (here the default) takes it');
    const note = (await history(cid)).find((m) => m.event === 'handoff');
    assert.match(note.text, /ошибк/);
  });

  test('close with a rating request; the answer sets the rating', async () => {
    await say(d, { instance: 'main', external_id: 'b-4', text: 'close' });
    const ask = await toClient('b-4', (j) => j.buttons && j.buttons.length === 5);
    assert.equal(ask.buttons[4].id, 'sb:rate:5');
    const cid = ask.conversation_id;
    assert.equal((await conv(cid)).status, 'closed');
    await say(d, { instance: 'main', external_id: 'b-4', button_id: 'sb:rate:5' });
    await until(async () => (await conv(cid)).rating === 5, { what: 'the rating' });
  });

  test('conversation_get gives the bot the client', async () => {
    await say(d, { instance: 'main', external_id: 'b-5', name: 'Ольга', text: 'info' });
    const got = await toClient('b-5', (j) => /"client":\{/.test(j.text));
    assert.match(got.text, /Ольга/);
  });

  test('API routes of a plugin: the core checks the role and names the caller', async () => {
    const op = await makeOperator(d, { groups: ['support'] });
    assert.equal((await api(d, null, 'GET', '/probe/whoami')).status, 401);
    const me = expectStatus(await api(d, op.token, 'GET', '/probe/whoami'), 200);
    assert.deepEqual(me, { role: 'operator', user: op.id });
    assert.equal((await api(d, op.token, 'GET', '/probe/admin')).status, 403);
    assert.deepEqual(expectStatus(await api(d, ADMIN_TOKEN, 'GET', '/probe/admin'), 200),
      { role: 'admin', user: 'it' });
    assert.deepEqual(expectStatus(await api(d, null, 'GET', '/probe/open'), 200), { role: '', user: '' });
    assert.deepEqual(expectStatus(await api(d, 'wrong', 'GET', '/probe/open'), 200), { role: '', user: '' });
  });

  test('a plugin serves a WebSocket', async () => {
    const ws = await connectWs(`${d.url.replace(/^http/, 'ws')}/probe_bot/ws`);
    ws.send('hello');
    const m = await ws.next(() => true, 3000);
    assert.equal(m, 'HELLO');
    const closed = new Promise((ok) => ws.ws.once('close', (code) => ok(code)));
    ws.send('bye');
    assert.equal(await closed, 1000);
  });
});

test('a channel whose bot is not configured: a config error naming file:line', async () => {
  const dir = makeTempDir();
  const file = path.join(dir, 'sb.yaml');
  fs.writeFileSync(file, `http:\n  listen: 127.0.0.1:0\nplugins_strict: true\nplugins:\n` +
    `  - name: apichannel\n    instance: a\n    config:\n      callback_url: http://127.0.0.1:9/x\n      bot: nobody/here\n`);
  const r = await runDaemon(['-c', file, '--check', ...setArgs({ 'storage.path': dir, plugins_dir: mixedPluginsDir() })]);
  assert.notEqual(r.code, 0);
  assert.match(r.stdout + r.stderr, /sb\.yaml:9:\d+: plugins\[0\]\.config\.bot: 'nobody\/here' is not an enabled plugin instance/);
});
