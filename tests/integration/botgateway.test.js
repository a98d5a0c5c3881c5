'use strict';
// Issue "Bots", item 4: the bot gateway end to end with the real daemon. A
// client writes through the API channel, whose instance names a gateway
// instance as its bot; the fake bot (tests/fakes/fake_bot.js) gets signed
// events and answers in the response or later through the REST API; a bot
// that fails, sends garbage, hangs or stays silent hands the client to the
// operators' queue, and the history says why.
const { test, describe, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { startDaemon } = require('./lib/daemon');
const { startReceiver } = require('./lib/receiver');
const { ADMIN_TOKEN, SECRET, api, expectStatus, conversationOf, say, until, uniq } = require('./lib/api');
const { startFakeBot, sign } = require('../fakes/fake_bot');

const BOT_SECRET = 'bot-signing-secret-1';
const BOT_TOKEN = 'bot-token-0123456789abcdef';
const q = (s) => JSON.stringify(String(s));

// Three gateway instances, each the bot of its own API channel instance:
// main (2 errors in a row, silence 10s), quiet (silence 1s), slow (POST
// timeout 1s).
function config(botUrl, callbackUrl) {
  const channel = (inst) => `  - { name: apichannel, instance: ${inst}, config: { bot: botgateway/${inst}, ` +
    `callback_url: ${q(callbackUrl)}, secret: ${q(SECRET)}, timeout: 2s } }`;
  const gateway = (inst, extra) => `  - { name: botgateway, instance: ${inst}, config: { url: ${q(botUrl)}, ` +
    `secret: ${q(BOT_SECRET)}, token: ${q(BOT_TOKEN)}, ${extra} } }`;
  return ['http:', '  listen: 127.0.0.1:0', 'auth:', '  api_tokens:',
    `    - { name: it, token: ${q(ADMIN_TOKEN)}, role: admin }`,
    'routing:', '  default_group: support', '  groups:',
    '    - { id: support, name: Support, strategy: least_busy, max_per_operator: 3 }',
    'plugins:', channel('main'), channel('quiet'), channel('slow'),
    gateway('main', 'timeout: 2s, max_errors: 2, silence_timeout: 10s'),
    gateway('quiet', 'timeout: 2s, silence_timeout: 1s'),
    gateway('slow', 'timeout: 1s, silence_timeout: 30s'),
  ].join('\n') + '\n';
}

describe('bot gateway', () => {
  let d, rx, bot;
  before(async () => {
    rx = await startReceiver();
    bot = await startFakeBot({ secret: BOT_SECRET });
    // What the bot does follows the client's words, so every test picks its own.
    bot.respond((ev) => {
      const t = (ev && ev.message && ev.message.text) || '';
      if (t.startsWith('fail')) return { status: 500 };
      if (t.startsWith('garbage')) return { raw: '{"actions": [' };
      if (t.startsWith('hang')) return { hang: true };
      if (t.startsWith('quiet')) return { silent: true };
      if (t.startsWith('operator')) {
        return { actions: [{ type: 'reply', text: 'Передаю специалисту' },
          { type: 'handoff', reason: 'клиент просит оператора' }] };
      }
      return { actions: [{ type: 'reply', text: `echo: ${t}` }] };
    });
    d = await startDaemon({ config: config(bot.url, rx.url) });
    bot.connect({ url: d.url, instance: 'main', token: BOT_TOKEN });
  });
  after(async () => {
    if (d) await d.cleanup();
    if (bot) await bot.close();
    if (rx) await rx.close();
  });

  /** The client writes; resolves {mid, conv, event} once the bot got it. */
  async function write(instance, externalId, text, extra = {}) {
    const mid = await say(d, { instance, external_id: externalId, text, ...extra });
    const got = await bot.waitFor((l) => l.some((r) => r.json && r.json.message && r.json.message.id === mid), 5000);
    const rec = got.find((r) => r.json && r.json.message && r.json.message.id === mid);
    return { mid, conv: rec.json.conversation_id, rec };
  }

  const conversation = async (id) => {
    const r = await api(d, ADMIN_TOKEN, 'GET', `/conversations/${id}`);
    expectStatus(r, 200, `GET /conversations/${id}`);
    return conversationOf(r);
  };
  const history = async (id) => expectStatus(
    await api(d, ADMIN_TOKEN, 'GET', `/conversations/${id}/messages?limit=100`), 200, 'history').items;
  const toClient = (externalId, re) => rx.waitFor((l) => l.some((x) => x.json && x.json.external_id === externalId &&
    re.test(String(x.json.text))), 5000).then((l) => l.find((x) => x.json && x.json.external_id === externalId &&
    re.test(String(x.json.text))).json);

  /** Polls until the conversation is queued; resolves it and the ms it took from `since`. */
  async function queued(id, since, ms) {
    const c = await until(async () => {
      const cur = await conversation(id);
      return cur.status === 'queued' ? cur : null;
    }, { ms, every: 50, what: `conversation ${id} queued` });
    return { c, after: Date.now() - since };
  }

  async function systemNote(id, re) {
    const items = await history(id);
    const note = items.find((m) => m.author && m.author.kind === 'system' && re.test(String(m.text)));
    assert.ok(note, `a system message matching ${re} in ${JSON.stringify(items.map((m) => [m.author, m.text]))}`);
    return note;
  }

  test('a client message reaches the bot signed, with the client; the reply and its buttons reach the client', async () => {
    const user = uniq('u');
    const first = await write('main', user, 'привет', { name: 'Иван' });
    const ev = first.rec.json;
    assert.equal(first.rec.signatureOk, true);
    assert.equal(first.rec.headers['x-switchboard-signature'], sign(BOT_SECRET, first.rec.raw));
    assert.equal(ev.event, 'conversation.started');
    assert.equal(ev.bot, 'main');
    assert.deepEqual(ev.channel, { name: 'apichannel', instance: 'main' });
    assert.equal(ev.client.name, 'Иван');
    assert.match(ev.client.id, /^\d+$/);
    assert.deepEqual(ev.message, { id: first.mid, text: 'привет', button_id: null });
    assert.match(ev.sent_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    assert.equal((await toClient(user, /^echo: привет$/)).conversation_id, first.conv);

    // Buttons, attributes and a tag, then the client presses a button.
    bot.plan(first.conv, { actions: [{ type: 'reply', text: 'Что проверить?',
      buttons: [{ id: 'order', title: 'Заказ' }, { id: 'human', title: 'Оператор' }] }] });
    await write('main', user, 'меню');
    const menu = await toClient(user, /^Что проверить\?$/);
    assert.deepEqual(menu.buttons, [{ id: 'order', title: 'Заказ' }, { id: 'human', title: 'Оператор' }]);
    bot.plan(first.conv, { actions: [
      { type: 'set_attributes', scope: 'conversation', attributes: { order: '42', paid: true } },
      { type: 'add_tag', scope: 'conversation', tag: 'orders' },
      { type: 'reply', text: 'Заказ 42 в пути' }] });
    const press = await say(d, { instance: 'main', external_id: user, button_id: 'order' });
    const pressed = await bot.waitFor((l) => l.some((r) => r.json && r.json.message && r.json.message.id === press), 5000);
    const pev = pressed.find((r) => r.json && r.json.message && r.json.message.id === press).json;
    assert.equal(pev.event, 'message');
    assert.equal(pev.message.button_id, 'order');
    await toClient(user, /^Заказ 42 в пути$/);
    const c = await conversation(first.conv);
    assert.equal(c.status, 'bot');
    assert.equal(c.attributes.order, '42');
    assert.equal(c.attributes.paid, true);
    assert.ok(c.tags.includes('orders'), JSON.stringify(c.tags));
    const bots = (await history(first.conv)).filter((m) => m.author && m.author.kind === 'bot');
    assert.ok(bots.some((m) => m.text === 'Заказ 42 в пути'), 'the operator sees what the bot said');
  });

  test('the bot answers later through the REST API with its token; bad tokens, ids and bodies are refused', async () => {
    const user = uniq('u');
    const { conv } = await write('main', user, 'quiet please');
    assert.equal(bot.eventsOf(conv).at(-1).answered, 204);

    for (const token of ['wrong-token', `${BOT_TOKEN}x`, BOT_TOKEN.slice(0, -1), null]) {
      const r = await bot.act(conv, [{ type: 'reply', text: 'nope' }], { token });
      assert.equal(r.status, 401, `token ${token}: ${r.body}`);
      assert.equal(r.json.error.code, 'unauthorized');
    }
    const cases = [
      [{ type: 'wave' }, /actions\[0\]\.type/],
      [{ type: 'reply' }, /actions\[0\]\.text/],
      [{ type: 'reply', text: 'x', buttons: [{ id: '', title: 'a' }] }, /actions\[0\]\.buttons\[0\]\.id/],
      [{ type: 'set_attributes', scope: 'planet', attributes: { a: 1 } }, /actions\[0\]\.scope/],
    ];
    for (const [action, want] of cases) {
      const r = await bot.act(conv, [action]);
      assert.equal(r.status, 400, r.body);
      assert.match(r.json.error.message, want);
    }
    const garbage = await bot.act(conv, null, { body: '{"actions": [' });
    assert.equal(garbage.status, 400, garbage.body);
    assert.match(garbage.json.error.message, /JSON/);
    const unknown = await bot.act('999999999', [{ type: 'reply', text: 'x' }]);
    assert.equal(unknown.status, 404, unknown.body);

    const r = await bot.act(conv, [{ type: 'reply', text: 'Ответ позже', buttons: [{ id: 'ok', title: 'OK' }] },
      { type: 'add_tag', scope: 'client', tag: 'rest' }]);
    assert.equal(r.status, 200, r.body);
    assert.deepEqual(r.json.results, [{ type: 'reply', status: 'ok' }, { type: 'add_tag', status: 'ok' }]);
    assert.deepEqual((await toClient(user, /^Ответ позже$/)).buttons, [{ id: 'ok', title: 'OK' }]);

    const closed = await bot.act(conv, [{ type: 'close', ask_rating: false }]);
    assert.equal(closed.status, 200, closed.body);
    assert.equal((await conversation(conv)).status, 'closed');
    const late = await bot.act(conv, [{ type: 'reply', text: 'too late' }]);
    assert.equal(late.status, 409, late.body);
  });

  test('a silent bot hands the client to the queue after silence_timeout, and the client is told', async () => {
    const user = uniq('u');
    const t0 = Date.now();
    const { conv } = await write('quiet', user, 'quiet: hello?');
    const { after: took } = await queued(conv, t0, 6000);
    assert.ok(took >= 900, `handed off after ${took} ms, silence_timeout is 1s`);
    await toClient(user, /оператор/);
    await systemNote(conv, /bot silent 1s/);
  });

  test('a failing bot (HTTP 500 twice in a row) hands off at once, well before the silence timeout', async () => {
    const user = uniq('u');
    const { conv } = await write('main', user, 'fail 1');
    assert.equal((await conversation(conv)).status, 'bot', 'one error is not enough');
    const t0 = Date.now();
    await write('main', user, 'fail 2');
    const { after: took } = await queued(conv, t0, 5000);
    assert.ok(took < 5000, `took ${took} ms`);
    await toClient(user, /оператор/);
    await systemNote(conv, /bot error: HTTP 500 ×2/);
    assert.deepEqual(bot.eventsOf(conv).map((r) => r.answered), [500, 500]);
  });

  test('malformed JSON from the bot counts as an error', async () => {
    const user = uniq('u');
    const { conv } = await write('main', user, 'garbage 1');
    await write('main', user, 'garbage 2');
    await queued(conv, Date.now(), 5000);
    await systemNote(conv, /bot error: malformed JSON: .*×2/);
  });

  test('errors count only in a row: a good answer in between resets them', async () => {
    const user = uniq('u');
    const { conv } = await write('main', user, 'fail a');
    await write('main', user, 'hello');
    await toClient(user, /^echo: hello$/);
    await write('main', user, 'fail b');
    // The gateway sends one event at a time per conversation, so once this
    // echo arrives the second failure has been counted.
    await write('main', user, 'hello again');
    await toClient(user, /^echo: hello again$/);
    assert.equal((await conversation(conv)).status, 'bot');
    assert.deepEqual(bot.eventsOf(conv).map((r) => r.answered), [500, 200, 500, 200]);
  });

  test('a bot that hangs is handed off after the POST timeout', async () => {
    const user = uniq('u');
    const t0 = Date.now();
    const { conv } = await write('slow', user, 'hang on');
    const { after: took } = await queued(conv, t0, 6000);
    assert.ok(took >= 900, `handed off after ${took} ms, timeout is 1s`);
    await systemNote(conv, /bot timeout: no answer within 1s/);
    await toClient(user, /оператор/);
  });

  test('the bot hands off by itself with a reason the operator sees', async () => {
    const user = uniq('u');
    const { conv } = await write('main', user, 'operator please');
    await toClient(user, /^Передаю специалисту$/);
    await queued(conv, Date.now(), 5000);
    await systemNote(conv, /клиент просит оператора/);
  });
});
