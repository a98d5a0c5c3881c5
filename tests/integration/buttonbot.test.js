'use strict';
// Issue "Bots", items 1 and 2: the button bot end to end with the real
// daemon. An API channel instance names buttonbot/bank as its bot; a client
// walks conf/buttonbot/bank.yaml by button presses and typed answers,
// reaches the API step against the fake company API
// (tests/fakes/company_api.js), sees the order status, asks for an operator
// and lands in the group's queue; the history holds the bot's part. A
// failing company API hands the client over with an apology; scenarios
// are replaced through the API; a broken scenario fails --check with
// file:line.
const { test, describe, before, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { startDaemon, runDaemon, setArgs, makeTempDir, pluginsDir, repoRoot } = require('./lib/daemon');
const { startReceiver } = require('./lib/receiver');
const { ADMIN_TOKEN, engineConfig, api, expectStatus, conversationOf, say, until, uniq } = require('./lib/api');
const { startCompanyApi } = require('../fakes/company_api');

const COMPANY_TOKEN = 'company-token-0123456789';
const BANK = path.join(repoRoot, 'conf', 'buttonbot', 'bank.yaml');
const q = (s) => JSON.stringify(String(s));

function buttonbot(scenario, companyUrl) {
  return ['  - name: buttonbot', '    instance: bank', '    config:',
    `      scenario: ${q(scenario)}`,
    '      secrets:',
    `        - { name: orders_url, value: ${q(companyUrl)} }`,
    '        - { name: orders_token, value: "${COMPANY_API_TOKEN}" }',
    // The text bot step of bank.yaml is not walked here: any URL will do.
    '      textbot: { url: "http://127.0.0.1:9", token: unused, kb: faq }',
  ].join('\n') + '\n';
}

describe('button bot', () => {
  let d, rx, co;
  before(async () => {
    rx = await startReceiver();
    co = await startCompanyApi({ token: COMPANY_TOKEN });
    const cfg = engineConfig({
      instances: [{ instance: 'main', callbackUrl: rx.url, bot: 'buttonbot/bank' }],
      groups: [{ id: 'support', name: 'Поддержка' }],
    }) + buttonbot(BANK, co.url);
    d = await startDaemon({ config: cfg, env: { COMPANY_API_TOKEN: COMPANY_TOKEN } });
  });
  after(async () => {
    let code = 0;
    let tail = '';
    if (d) {
      code = await d.stop();
      tail = d.logs.slice(-20).join('\n');
      await d.cleanup();
    }
    if (co) await co.close();
    if (rx) await rx.close();
    assert.equal(code, 0, `the daemon stops cleanly:\n${tail}`);
  });

  /** The next message to the client matching re (among all sent to it). */
  const toClient = async (user, re) => {
    const l = await rx.waitFor((list) => list.some((x) => x.json && x.json.external_id === user &&
      re.test(String(x.json.text))), 5000);
    return l.find((x) => x.json && x.json.external_id === user && re.test(String(x.json.text))).json;
  };
  const conversation = async (id) => {
    const r = await api(d, ADMIN_TOKEN, 'GET', `/conversations/${id}`);
    expectStatus(r, 200, `GET /conversations/${id}`);
    return conversationOf(r);
  };
  const history = async (id) => expectStatus(
    await api(d, ADMIN_TOKEN, 'GET', `/conversations/${id}/messages?limit=100`), 200, 'history').items;
  const queued = (id) => until(async () => {
    const c = await conversation(id);
    return c.status === 'queued' ? c : null;
  }, { ms: 5000, what: `conversation ${id} queued` });
  const press = (user, button) => say(d, { instance: 'main', external_id: user, button_id: button });
  const write = (user, text) => say(d, { instance: 'main', external_id: user, text });

  /** A new client at the main menu; resolves {user, conv, menu}. */
  async function newClient() {
    const user = uniq('bb');
    await write(user, 'Здравствуйте');
    const menu = await toClient(user, /^Здравствуйте! Я виртуальный помощник/);
    return { user, conv: menu.conversation_id, menu };
  }

  test('a client walks the tree to the order status and then to an operator, who sees the bot\'s part', async () => {
    co.order('+79123456789', { id: 'A-1001', status: 'карта доставляется в отделение' });
    const { user, conv, menu } = await newClient();
    assert.deepEqual(menu.buttons.map((b) => b.title),
      ['Вопросы по карте', 'Статус заказа карты', 'Кредиты и вклады', 'Связаться с оператором']);
    assert.equal((await conversation(conv)).status, 'bot');

    // Cards and back, by buttons; then the order status.
    await press(user, menu.buttons[0].id);
    const cards = await toClient(user, /^Что случилось с картой\?$/);
    await press(user, cards.buttons.find((b) => b.title === 'Назад').id);
    await rx.waitFor((l) => l.filter((x) => x.json && x.json.external_id === user &&
      /^Здравствуйте! Я виртуальный/.test(x.json.text)).length === 2, 5000);
    // A typed number picks button 2.
    await write(user, '2');
    const ask = await toClient(user, /^Введите номер телефона/);
    assert.deepEqual(ask.buttons.map((b) => b.title), ['Связаться с оператором']);
    await write(user, 'не помню');
    await toClient(user, /^Не похоже на номер телефона/);
    await write(user, '8 (912) 345-67-89');
    const status = await toClient(user, /^Заказ A-1001: карта доставляется в отделение\.$/);
    assert.equal(status.conversation_id, conv);
    const call = co.received.find((r) => r.query.phone === '+79123456789');
    assert.ok(call, 'the company API was called with the phone');
    assert.equal(call.headers.authorization, `Bearer ${COMPANY_TOKEN}`);
    const more = await toClient(user, /^Могу ещё чем-нибудь помочь\?$/);

    const c = await conversation(conv);
    assert.equal(c.status, 'bot');
    assert.equal(c.attributes.order_id, 'A-1001');
    assert.equal(c.attributes.order_status, 'карта доставляется в отделение');
    const client = expectStatus(await api(d, ADMIN_TOKEN, 'GET', `/clients/${c.client_id}`), 200, 'client');
    assert.equal((client.attributes || {}).phone, '+79123456789');

    // "Talk to an operator" is in every menu.
    await press(user, more.buttons.find((b) => b.title === 'Связаться с оператором').id);
    await toClient(user, /^Соединяю вас с оператором/);
    const q1 = await queued(conv);
    assert.equal(q1.group_id, 'support');

    const items = await history(conv);
    const bot = items.filter((m) => m.author && m.author.kind === 'bot').map((m) => m.text);
    for (const re of [/^Здравствуйте! Я виртуальный/, /^Введите номер телефона/, /^Заказ A-1001:/,
      /^Соединяю вас с оператором/]) {
      assert.ok(bot.some((t) => re.test(t)), `the operator sees ${re} in ${JSON.stringify(bot)}`);
    }
    const fromClient = items.filter((m) => m.direction === 'in').map((m) => m.text);
    assert.ok(fromClient.includes('8 (912) 345-67-89'), JSON.stringify(fromClient));

    // The bot holds it no more: a client message joins the queued conversation.
    const mid = await write(user, 'жду');
    await until(async () => (await history(conv)).some((m) => m.id === mid), { what: 'the message stored' });
    assert.equal((await conversation(conv)).status, 'queued');
  });

  test('a company API that answers 500 or garbage: the client is told and handed to the queue', async () => {
    for (const [phone, mode] of [['+79120000500', '500'], ['+79120000001', 'garbage']]) {
      co.mode(phone, mode);
      const { user, conv, menu } = await newClient();
      await press(user, menu.buttons[1].id);
      await toClient(user, /^Введите номер телефона/);
      await write(user, phone);
      await toClient(user, /^Не удалось найти заказ\. Соединяю с сотрудником/);
      await queued(conv);
      const calls = co.received.filter((r) => r.query.phone === phone).length;
      assert.equal(calls, mode === '500' ? 2 : 1, 'a 500 is retried once (retries: 1), garbage is not');
    }
    assert.ok(!d.logs.some((l) => l.includes(COMPANY_TOKEN) || l.includes(co.url)), 'secrets are never logged');
  });

  test('scenarios through the API: GET any role, PUT admin-only and validated; a hanging API times out', async () => {
    const url = '/api/v1/bots/buttonbot/bank/scenarios';
    assert.equal((await api(d, null, 'GET', url)).status, 401);
    const got = expectStatus(await api(d, ADMIN_TOKEN, 'GET', url), 200, 'GET scenarios');
    assert.equal(got.source, 'file');
    assert.equal(got.text, fs.readFileSync(BANK, 'utf8'));

    const bad = await api(d, ADMIN_TOKEN, 'PUT', url, 'start: a\nsteps:\n  a:\n    kind: menu\n    text: x\n    buttons: []\n',
      { headers: { 'Content-Type': 'application/yaml' } });
    assert.equal(bad.status, 400, bad.body);
    assert.equal(bad.json.error.code, 'invalid_scenario');
    assert.match(bad.json.error.message, /^body:4:5: steps\.a: empty menu/);

    // A quick scenario: the order API with a short timeout and no retry.
    const quick = {
      start: 'ask',
      steps: {
        ask: { kind: 'ask', text: 'Телефон?', into: 'client.phone', validate: 'phone', next: 'status' },
        status: { kind: 'api', url: '{{secret.orders_url}}/orders?phone={{client.phone}}',
          headers: { Authorization: 'Bearer {{secret.orders_token}}' }, timeout: '500ms', retries: 0,
          extract: { 'conversation.order_status': 'data.orders[0].status' },
          text: 'Статус: {{conversation.order_status}}', next: 'bye' },
        bye: { kind: 'end', text: 'Всего доброго' },
      },
    };
    const put = expectStatus(await api(d, ADMIN_TOKEN, 'PUT', url, quick), 200, 'PUT scenarios');
    assert.equal(put.source, 'api');
    assert.equal(expectStatus(await api(d, ADMIN_TOKEN, 'GET', url), 200).source, 'api');

    co.mode('+79120000999', 'hang');
    const user = uniq('bb');
    await write(user, 'привет');
    const ask = await toClient(user, /^Телефон\?$/);
    const started = Date.now();
    await write(user, '+7 912 000-09-99');
    await toClient(user, /^Извините, сейчас не удаётся получить данные/);
    await queued(ask.conversation_id);
    assert.ok(Date.now() - started < 4000, 'handed off after the 500ms timeout');

    // DELETE goes back to the file for new conversations.
    assert.equal(expectStatus(await api(d, ADMIN_TOKEN, 'DELETE', url), 200).source, 'file');
    await newClient();
  });
});

test('a broken scenario file fails --check with file:line', async () => {
  const dir = makeTempDir();
  const scenario = path.join(dir, 'broken.yaml');
  fs.writeFileSync(scenario, 'start: main\nsteps:\n  main:\n    kind: menu\n    text: Меню\n' +
    '    buttons:\n      - { title: Карты, goto: cardz }\n');
  const file = path.join(dir, 'sb.yaml');
  fs.writeFileSync(file, `http:\n  listen: 127.0.0.1:0\nplugins_dir: ${q(pluginsDir)}\nplugins:\n` +
    `  - { name: buttonbot, instance: bank, config: { scenario: ${q(scenario)} } }\n`);
  const r = await runDaemon(['-c', file, '--check', ...setArgs({ 'storage.path': dir })]);
  const out = r.stdout + r.stderr;
  assert.equal(r.code, 1, out);
  assert.ok(out.includes(`${scenario}:7:31: steps.main.buttons[0].goto: unknown step "cardz"`), out);
});

test('conf/buttonbot/bank.yaml passes --check', async () => {
  const dir = makeTempDir();
  const file = path.join(dir, 'sb.yaml');
  fs.writeFileSync(file, `http:\n  listen: 127.0.0.1:0\nplugins_dir: ${q(pluginsDir)}\nplugins:\n` +
    buttonbot(BANK, 'http://127.0.0.1:9'));
  const r = await runDaemon(['-c', file, '--check', ...setArgs({ 'storage.path': dir })], { COMPANY_API_TOKEN: 'x' });
  assert.equal(r.code, 0, r.stdout + r.stderr);
});
