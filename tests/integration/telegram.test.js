'use strict';
// Issue "Telegram channel plugin": the plugin end to end. Functional flows
// against the npm emulator telegram-test-api (a third-party peer), in poll
// and in webhook mode; error paths (429 across a restart, 403, 409, files,
// redelivery) against the project's own fake, tests/fakes/telegram_fake.js.
const { test, describe, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { startDaemon, request } = require('./lib/daemon');
const { connectWs } = require('./lib/ws');
const { ADMIN_TOKEN, AUTH, freePort, telegramConfig, startEmulator, reply, messages, sleep } =
  require('./lib/telegram');
const { startTelegramFake } = require('../fakes/telegram_fake');

const TOKEN = '5550001:emulated-token_X';
const SECRET = 'it-secret_Token-42';
const LONG_ID = `order-details-${'x'.repeat(70)}`; // over callback_data's 64 bytes

/** Resolves once cond() (async) holds; rejects after ms. */
async function until(cond, ms) {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`condition not met within ${ms} ms`);
    await sleep(50);
  }
}

const wsUrl = (d) => `ws://127.0.0.1:${d.port}/api/v1/ws?token=${ADMIN_TOKEN}`;
const inbound = (pred) => (m) => m.type === 'message.created' && m.message.direction === 'in' && pred(m.message);

/** The conversation a user message, a reply with buttons and a press go through. */
async function roundTrip(d, ws, client, tag) {
  await client.sendMessage(client.makeMessage(`Здравствуйте ${tag}`));
  const ev = await ws.next(inbound((m) => m.text === `Здравствуйте ${tag}`), 10000);
  assert.equal(ev.message.channel, 'telegram');
  assert.equal(ev.message.instance, 'bot');

  const sent = await reply(d, ev.conversation_id, {
    text: `Чем помочь? ${tag}`, buttons: [{ id: 'yes', title: 'Да' }, { id: LONG_ID, title: 'Подробнее' }],
  });
  const upd = await ws.next((m) => m.type === 'message.updated' && m.message.id === sent.id &&
    m.message.delivery.status !== 'pending', 10000);
  assert.equal(upd.message.delivery.status, 'sent', JSON.stringify(upd.message.delivery));

  // what the user's side of the emulator received
  const got = await client.getUpdates();
  const bot = got.result.map((u) => u.message).find((m) => m.text === `Чем помочь? ${tag}`);
  assert.ok(bot, JSON.stringify(got.result));
  const kb = bot.reply_markup.inline_keyboard;
  assert.deepEqual(kb.map((row) => row.map((b) => b.text)), [['Да'], ['Подробнее']]);
  assert.equal(kb[0][0].callback_data, 'yes');
  assert.match(kb[1][0].callback_data, /^k\d+$/);

  // pressing the long-id button comes back as that id
  await client.sendCallback(client.makeCallbackQuery(kb[1][0].callback_data));
  const press = await ws.next(inbound((m) => m.button_id === LONG_ID), 10000);
  assert.equal(press.conversation_id, ev.conversation_id);
  return ev;
}

describe('Telegram in poll mode against telegram-test-api', () => {
  let emu, d, ws;
  before(async () => {
    emu = await startEmulator(TOKEN);
    d = await startDaemon({ config: telegramConfig({ apiUrl: emu.url, token: TOKEN, extra: { poll_timeout: '1s' } }) });
    ws = await connectWs(wsUrl(d));
  });
  after(async () => {
    if (ws) await ws.close();
    if (d) await d.cleanup();
    if (emu) await emu.stop();
  });

  test('a user message reaches the operator, the reply and a button press go both ways', async () => {
    const client = emu.client({ chatId: 501, userId: 501, firstName: 'Анна', timeout: 8000 });
    const ev = await roundTrip(d, ws, client, 'poll');
    const items = await messages(d, ev.conversation_id);
    assert.deepEqual(items.filter((m) => m.direction === 'in').map((m) => m.text || m.button_id),
      [LONG_ID, 'Здравствуйте poll']);
    assert.ok(!d.logs.some((l) => l.includes(TOKEN)), 'the token never appears in the log');
  });
});

describe('Telegram in webhook mode against telegram-test-api', () => {
  let emu, d, ws, hook;
  before(async () => {
    emu = await startEmulator(TOKEN);
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    hook = `${base}/hooks/telegram/bot`;
    d = await startDaemon({
      config: telegramConfig({ apiUrl: emu.url, token: TOKEN, mode: 'webhook', secret: SECRET, publicUrl: `${base}/` }),
      set: { 'http.listen': `127.0.0.1:${port}` },
    });
    await d.waitForLog(/webhook set/, 5000);
    ws = await connectWs(wsUrl(d));
  });
  after(async () => {
    if (ws) await ws.close();
    if (d) await d.cleanup();
    if (emu) await emu.stop();
  });

  test('setWebhook named our hook and the secret', () => {
    const w = emu.server.webhooks[TOKEN];
    assert.equal(w.url, hook);
    assert.equal(w.secret_token, SECRET);
    assert.deepEqual(w.allowed_updates, ['message', 'edited_message', 'callback_query']);
  });

  test('a user message reaches the operator, the reply and a button press go both ways', async () => {
    const client = emu.client({ chatId: 502, userId: 502, firstName: 'Борис', timeout: 8000 });
    await roundTrip(d, ws, client, 'hook');
    assert.ok(emu.posted.every((p) => p.status === 200), JSON.stringify(emu.posted));
  });

  test('the same update delivered twice is one message; a wrong secret is 403', async () => {
    const client = emu.client({ chatId: 503, userId: 503, firstName: 'Вера', timeout: 8000 });
    await client.sendMessage(client.makeMessage('один раз'));
    const ev = await ws.next(inbound((m) => m.text === 'один раз'), 10000);
    const first = emu.posted.find((p) => p.body.message && p.body.message.text === 'один раз');
    const again = await request(hook, { method: 'POST', headers: { 'X-Telegram-Bot-Api-Secret-Token': SECRET }, body: first.body });
    assert.equal(again.status, 200, again.body);
    const wrong = await request(hook, { method: 'POST', headers: { 'X-Telegram-Bot-Api-Secret-Token': 'nope' }, body: first.body });
    assert.equal(wrong.status, 403);
    const none = await request(hook, { method: 'POST', body: first.body });
    assert.equal(none.status, 403);
    const bad = await request(hook, { method: 'POST', headers: { 'X-Telegram-Bot-Api-Secret-Token': SECRET }, body: '{"update_id":' });
    assert.equal(bad.status, 400);
    const items = await messages(d, ev.conversation_id);
    assert.equal(items.filter((m) => m.direction === 'in' && m.text === 'один раз').length, 1);
  });
});

describe('Telegram against the fake Bot API', () => {
  const FTOKEN = '7770001:fake-token_Y';
  let fake, d, ws;
  const config = () => telegramConfig({
    apiUrl: fake.url, token: FTOKEN, extra: { poll_timeout: '1s', max_file: '1KiB' },
  });
  const userMessage = (chat, text, extra = {}) => ({
    message: {
      message_id: Math.floor(Math.random() * 1e6) + 1, from: { id: chat, is_bot: false, first_name: 'Fake' },
      chat: { id: chat, type: 'private' }, date: Math.floor(Date.now() / 1000), text, ...extra,
    },
  });
  /** A conversation opened by chat's message. */
  async function open(chat, text) {
    fake.pushUpdate(userMessage(chat, text));
    return ws.next(inbound((m) => m.text === text), 10000);
  }

  before(async () => {
    fake = await startTelegramFake({ token: FTOKEN });
    d = await startDaemon({ config: config() });
    ws = await connectWs(wsUrl(d));
  });
  after(async () => {
    if (ws) await ws.close();
    if (d) await d.cleanup();
    if (fake) await fake.close();
  });

  test('429 retry_after is honoured across a restart, then exactly one success', async () => {
    const ev = await open(901, 'hello 429');
    fake.script('sendMessage', [{ status: 429, retry_after: 2 }]);
    const sent = await reply(d, ev.conversation_id, { text: 'later please' });
    await fake.waitFor(() => fake.callsOf('sendMessage').length === 1, 10000);
    const first = fake.callsOf('sendMessage')[0];
    assert.equal(first.status, 429);
    // the daemon has taken the 429 in (not a send cut short by the stop)
    await until(async () => /sb_outbox_retries_total\{plugin="telegram",instance="bot"\} 1\b/
      .test((await request(`${d.url}/metrics`, { headers: AUTH })).body), 5000);
    await ws.close();
    ws = null;
    assert.equal(await d.stop(), 0);
    await d.restart();
    ws = await connectWs(wsUrl(d));
    await fake.waitFor(() => fake.callsOf('sendMessage').length === 2, 10000);
    const second = fake.callsOf('sendMessage')[1];
    assert.ok(second.at - first.at >= 1900, `retried after ${second.at - first.at} ms; retry_after was 2 s`);
    assert.equal(second.status, 200);
    assert.equal(second.params.text, 'later please');
    assert.equal(second.params.chat_id, 901);
    await sleep(1500);
    assert.equal(fake.callsOf('sendMessage').length, 2, 'delivered exactly once after the 429');
    const stored = (await messages(d, ev.conversation_id)).find((m) => m.id === sent.id);
    assert.equal(stored.delivery.status, 'sent');
  });

  test('403 "bot was blocked by the user": delivery failed, the client unreachable, no retries', async () => {
    const ev = await open(902, 'hello 403');
    const before = fake.callsOf('sendMessage').length;
    fake.script('sendMessage', [{ status: 403 }]);
    const sent = await reply(d, ev.conversation_id, { text: 'are you there?' });
    const upd = await ws.next((m) => m.type === 'message.updated' && m.message.id === sent.id, 10000);
    assert.equal(upd.message.delivery.status, 'failed');
    assert.match(upd.message.delivery.error, /blocked by the user/);
    const client = await request(`${d.url}/api/v1/clients/${ev.message.client_id}`, { headers: AUTH });
    assert.equal(client.status, 200, client.body);
    const id = client.json.identities.find((i) => i.channel === 'telegram' && i.external_id === '902');
    assert.equal(id.unreachable, true);
    await sleep(2500);
    assert.equal(fake.callsOf('sendMessage').length, before + 1, 'no retry storm');
  });

  test('a dropped connection is retried; a slow answer still counts', async () => {
    const ev = await open(906, 'hello drop');
    const before = fake.callsOf('sendMessage').length;
    fake.script('sendMessage', [{ drop: true }, { delay: 700, ok: true }]);
    const sent = await reply(d, ev.conversation_id, { text: 'through a bad network' });
    const upd = await ws.next((m) => m.type === 'message.updated' && m.message.id === sent.id, 15000);
    assert.equal(upd.message.delivery.status, 'sent');
    const tries = fake.callsOf('sendMessage').slice(before);
    assert.deepEqual(tries.map((c) => c.status), [null, 200]);
    assert.equal(upd.message.delivery.error ?? null, null);
  });

  test('a redelivered update_id makes no second message', async () => {
    const u = fake.makeUpdate(userMessage(903, 'only once'));
    fake.script('getUpdates', [{ ok: true, result: [u] }, { ok: true, result: [u] }]);
    const ev = await ws.next(inbound((m) => m.text === 'only once'), 10000);
    const n = fake.callsOf('getUpdates').length;
    await fake.waitFor(() => fake.callsOf('getUpdates').length >= n + 2, 10000); // both answers consumed
    const items = await messages(d, ev.conversation_id);
    assert.equal(items.filter((m) => m.direction === 'in' && m.text === 'only once').length, 1);
  });

  test('a photo arrives as an attachment; the file route serves it, 413 over max_file', async () => {
    fake.addFile('AgADsmall-1', { bytes: 'small file bytes', path: 'photos/file_7.jpg' });
    fake.addFile('AgADbig-2', { bytes: 'x', size: 5000, path: 'documents/big.pdf' });
    fake.pushUpdate({
      message: {
        message_id: 3, from: { id: 904, first_name: 'P' }, chat: { id: 904, type: 'private' }, date: 1,
        caption: 'my photo',
        photo: [{ file_id: 'AgADthumb', file_unique_id: 't', width: 90, height: 90, file_size: 10 },
          { file_id: 'AgADsmall-1', file_unique_id: 's', width: 800, height: 600, file_size: 16 }],
      },
    });
    const ev = await ws.next(inbound((m) => m.text === 'my photo'), 10000);
    assert.equal(ev.message.attachments.length, 1);
    assert.equal(ev.message.attachments[0].kind, 'image');
    // the url is where operators fetch it, with a token
    assert.equal(ev.message.attachments[0].url, '/api/v1/channels/telegram/bot/files/AgADsmall-1');
    const base = `${d.url}/api/v1/channels/telegram/bot/files`;
    assert.equal((await request(`${base}/AgADsmall-1`)).status, 401, 'not without a token');
    const ok = await request(`${base}/AgADsmall-1?token=${ADMIN_TOKEN}`);
    assert.equal(ok.status, 200, ok.body);
    assert.equal(ok.body, 'small file bytes');
    assert.equal(ok.headers['content-type'], 'image/jpeg');
    const big = await request(`${base}/AgADbig-2`, { headers: AUTH });
    assert.equal(big.status, 413);
    assert.equal(big.json.error.code, 'too_large');
    assert.match(big.json.error.message, /5000 bytes, over max_file \(1024 bytes\)/);
    assert.equal(fake.calls.filter((c) => c.method === 'file' && c.params.path === 'documents/big.pdf').length, 0,
      'refused before any download');
    assert.equal((await request(`${base}/nope`, { headers: AUTH })).status, 404);
  });

  test('409 Conflict is logged as such and backed off', async () => {
    const from = d.logs.length;
    fake.script('getUpdates', [{ status: 409 }]);
    const line = await d.waitForLog(/409 Conflict/, 8000, { from });
    assert.match(line, /only one bot instance is running/);
    assert.match(line, /another process polls with this bot's token, or a webhook is set/i);
    assert.match(line, /trying again in \d+ s/);
    assert.ok(!d.logs.some((l) => l.includes(FTOKEN)), 'the token never appears in the log');
    // and polling resumes
    const ev = await open(905, 'after the conflict');
    assert.equal(ev.message.text, 'after the conflict');
  });
});

describe('a site visitor follows the omnibutton into Telegram', () => {
  const LTOKEN = '7770002:link-token_Z';
  const KEY = 'it-site-key-1';
  let fake, d, ws;
  before(async () => {
    fake = await startTelegramFake({ token: LTOKEN });
    const port = await freePort();
    const site = [
      '  - name: webchat', '    instance: site', '    config:', `      site_key: ${KEY}`,
      '      channels:', '        - { kind: webchat, title: Chat }',
      '        - { kind: telegram, title: Telegram, url: "https://t.me/it_bot?start={token}" }',
    ].join('\n');
    const config = telegramConfig({
      apiUrl: fake.url, token: LTOKEN,
      extra: { poll_timeout: '1s', start_url: `"http://127.0.0.1:${port}/webchat/api/start"` },
    }) + `${site}\n`;
    d = await startDaemon({ config, set: { 'http.listen': `127.0.0.1:${port}` } });
    ws = await connectWs(wsUrl(d));
  });
  after(async () => {
    if (ws) await ws.close();
    if (d) await d.cleanup();
    if (fake) await fake.close();
  });

  const post = (path, body) => request(`${d.url}${path}`, {
    method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body),
  });
  const tgMessage = (chat, text) => ({
    message: { message_id: Math.floor(Math.random() * 1e6) + 1, from: { id: chat, is_bot: false, first_name: 'Site' },
      chat: { id: chat, type: 'private' }, date: Math.floor(Date.now() / 1000), text },
  });

  test('the start token joins the Telegram account to the visitor: one client, one history', async () => {
    const s = await post(`/webchat/api/session?k=${KEY}`, {});
    assert.equal(s.status, 200, s.body);
    const link = s.json.config.channels.find((c) => c.kind === 'telegram').url;
    const token = new URL(link).searchParams.get('start');
    assert.match(token, /^[A-Za-z0-9_-]{8,64}$/);
    const v = encodeURIComponent(s.json.visitor);
    const m = await post(`/webchat/api/message?k=${KEY}&v=${v}`, { id: 'site-1', text: 'вопрос с сайта' });
    assert.equal(m.status, 200, m.body);
    const siteEv = await ws.next(inbound((x) => x.text === 'вопрос с сайта'), 10000);

    fake.pushUpdate(tgMessage(4242, `/start ${token}`));
    const tgEv = await ws.next(inbound((x) => x.channel === 'telegram'), 10000);
    assert.equal(tgEv.message.client_id, siteEv.message.client_id, 'the same client');
    assert.equal(tgEv.conversation_id, siteEv.conversation_id, 'the conversation continues');

    // an unknown token: stored all the same, as a new client
    fake.pushUpdate(tgMessage(4343, '/start unknownTokenXYZ123'));
    const other = await ws.next(inbound((x) => x.text === '/start unknownTokenXYZ123'), 10000);
    assert.notEqual(other.message.client_id, siteEv.message.client_id);
  });
});
