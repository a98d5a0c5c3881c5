'use strict';
// Issue 8, item 3: the text bot end to end. The knowledge base is imported
// and searched through the REST API; a client of the API channel (whose
// instance names the bot) gets articles as buttons, opens one, asks for an
// operator, and the operator sees the bot's part of the history; a question
// the bot cannot answer lands in the unanswered list.
const { test, describe, before, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { startDaemon } = require('./lib/daemon');
const { startReceiver } = require('./lib/receiver');
const {
  ADMIN_TOKEN, SECRET, ROOT, api, show, expectStatus, makeOperator, say, openWs, convOf, until,
  callbacksFor,
} = require('./lib/api');

const SUP = 'it-textbot-supervisor';
const OPR = 'it-textbot-operator';
const KB = JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', 'conf', 'kb', 'faq.json'), 'utf8'));
const q = (s) => JSON.stringify(String(s));

function config(callbackUrl, textbotExtra = '') {
  return [
    'http:', '  listen: 127.0.0.1:0',
    'auth:', '  api_tokens:',
    `    - { name: it, token: ${q(ADMIN_TOKEN)}, role: admin }`,
    `    - { name: editor, token: ${q(SUP)}, role: supervisor }`,
    `    - { name: viewer, token: ${q(OPR)}, role: operator }`,
    `  bootstrap_admin: { login: ${q(ROOT.login)}, password: ${q(ROOT.password)} }`,
    'routing:', '  default_group: support', '  groups:',
    '    - { id: support, name: Support, strategy: least_busy, max_per_operator: 3 }',
    'plugins:',
    `  - { name: apichannel, instance: main, config: { callback_url: ${q(callbackUrl)}, timeout: 2s, ` +
      `secret: ${q(SECRET)}, bot: textbot/faq } }`,
    '  - name: textbot',
    '    instance: faq',
    `    config: { kb: faq, answers: 3, threshold: 1.5, handoff_after: 2${textbotExtra} }`,
    '',
  ].join('\n');
}

/** The callbacks for a client that carry a button with this id. */
const withButton = (rx, ext, id) => callbacksFor(rx, ext).filter((x) =>
  (x.json.buttons || []).some((b) => b.id === id));

describe('text bot', () => {
  let d, rx, ws;
  before(async () => {
    rx = await startReceiver();
    d = await startDaemon({ config: config(rx.url) });
    ws = await openWs(d, ADMIN_TOKEN);
  });
  after(async () => {
    if (ws) await ws.close();
    if (d) await d.cleanup();
    if (rx) await rx.close();
  });

  test('the knowledge base is imported in bulk and a typo\'d Russian question finds its article', async () => {
    const r = await api(d, SUP, 'POST', '/kb/faq/articles', KB);
    const body = expectStatus(r, 201, 'bulk import');
    assert.equal(body.imported, KB.length);
    const cases = [
      ['как заблакировать карточку', 'card-block'],
      ['забыл пароль от приложухи', 'app-login'],
      ['сколько стоит пиревод по номеру телефона', 'transfer-phone'],
      ['кешбек не пришол', 'cashback'],
    ];
    for (const [query, id] of cases) {
      const s = await api(d, OPR, 'POST', '/kb/faq/search', { query, limit: 3 });
      expectStatus(s, 200, `search ${query}`);
      assert.ok(s.json.items.slice(0, 3).some((it) => it.id === id), `${query}: ${show(s)}`);
      for (const it of s.json.items) assert.equal(typeof it.score, 'number');
    }
    const one = await api(d, OPR, 'GET', '/kb/faq/articles/card-block');
    expectStatus(one, 200);
    assert.equal(one.json.title, 'Как заблокировать карту');
    const page = await api(d, OPR, 'GET', '/kb/faq/articles?limit=5');
    expectStatus(page, 200);
    assert.equal(page.json.items.length, 5);
    assert.equal(typeof page.json.next_cursor, 'string');
  });

  test('a client gets articles as buttons, opens one, then asks for an operator who sees the bot\'s part', async () => {
    const first = await say(d, { instance: 'main', external_id: 'tb-1', name: 'Анна', text: 'Здравствуйте! как заблакировать карточку?' });
    const convId = await convOf(ws, first);
    await rx.waitFor(() => withButton(rx, 'tb-1', 'kb:a:card-block').length === 1, 10000);
    const menu = withButton(rx, 'tb-1', 'kb:a:card-block')[0].json;
    assert.ok(menu.buttons.some((b) => b.id === 'kb:operator' && b.title === 'Позвать оператора'), JSON.stringify(menu));

    await say(d, { instance: 'main', external_id: 'tb-1', button_id: 'kb:a:card-block' });
    // the article, then "did it help?" with yes/no/operator
    await rx.waitFor(() => withButton(rx, 'tb-1', 'kb:yes:card-block').length === 1 &&
      callbacksFor(rx, 'tb-1', /Заблокировать карту можно в мобильном приложении/).length === 1, 10000);
    const helped = withButton(rx, 'tb-1', 'kb:yes:card-block')[0].json;
    assert.equal(helped.text, 'Помог ли ответ?');
    assert.deepEqual(helped.buttons.map((b) => b.id), ['kb:yes:card-block', 'kb:no:card-block', 'kb:operator']);

    await say(d, { instance: 'main', external_id: 'tb-1', button_id: 'kb:operator' });
    const conv = await until(async () => {
      const r = await api(d, ADMIN_TOKEN, 'GET', `/conversations/${convId}`);
      const c = r.json && (r.json.conversation || r.json);
      return c && c.status === 'queued' ? c : null;
    }, { ms: 10000, what: 'conversation queued after the operator button' });
    assert.equal(conv.group_id, 'support');

    const op = await makeOperator(d, { groups: ['support'] });
    const msgs = await op.call('GET', `/conversations/${convId}/messages?limit=100`);
    expectStatus(msgs, 200, 'operator reads the history');
    const bot = msgs.json.items.filter((m) => m.author && m.author.kind === 'bot');
    assert.ok(bot.some((m) => /Заблокировать карту можно/.test(m.text || '')), show(msgs));
    assert.ok(bot.some((m) => (m.buttons || []).some((b) => b.id === 'kb:a:card-block')), show(msgs));
    assert.ok(bot.some((m) => /оператору/.test(m.text || '')), show(msgs));
  });

  test('a question without an answer is logged for the editors; two in a row go to an operator', async () => {
    const mid = await say(d, { instance: 'main', external_id: 'tb-2', text: 'фыва олдж пролдж' });
    const convId = await convOf(ws, mid);
    await rx.waitFor(() => callbacksFor(rx, 'tb-2', /не нашёл/).length === 1, 10000);
    const list = await api(d, OPR, 'GET', '/kb/faq/unanswered?limit=10');
    expectStatus(list, 200);
    assert.equal(list.json.items[0].question, 'фыва олдж пролдж');
    assert.equal(list.json.items[0].conversation_id, convId);

    await say(d, { instance: 'main', external_id: 'tb-2', text: 'ячсмит ролдж' });
    await until(async () => {
      const r = await api(d, ADMIN_TOKEN, 'GET', `/conversations/${convId}`);
      const c = r.json && (r.json.conversation || r.json);
      return c && c.status !== 'bot';
    }, { ms: 10000, what: 'automatic hand-off after two failed attempts' });
  });

  test('auth and bad input: 401, 403, 400 naming the field, 404', async () => {
    const cases = [
      [null, 'GET', '/kb/faq/articles', undefined, 401, /unauthorized/],
      [null, 'POST', '/kb/faq/search', { query: 'карта' }, 401, /unauthorized/],
      [OPR, 'POST', '/kb/faq/articles', { title: 't', body: 'b' }, 403, /forbidden/],
      [OPR, 'DELETE', '/kb/faq/articles/card-block', undefined, 403, /forbidden/],
      [SUP, 'POST', '/kb/faq/articles', { body: 'b' }, 400, /title/],
      [SUP, 'POST', '/kb/faq/articles', [{ title: 't', body: 'b' }, { title: 't', body: 'b', keywords: [1] }], 400, /\[1\]\.keywords\[0\]/],
      [SUP, 'POST', '/kb/faq/articles', '{"title":', 400, /body: not valid JSON/],
      [SUP, 'POST', '/kb/faq/articles', { id: 'card-block', title: 't', body: 'b' }, 409, /exists/],
      [OPR, 'POST', '/kb/faq/search', { query: 'x', limit: 0 }, 400, /limit/],
      [OPR, 'POST', '/kb/faq/search', { limit: 3 }, 400, /query/],
      [OPR, 'GET', '/kb/faq/articles?limit=9999', undefined, 400, /limit/],
      [OPR, 'GET', '/kb/faq/articles/no-such', undefined, 404, /not_found/],
      [SUP, 'PUT', '/kb/faq/articles/no-such', { title: 't', body: 'b' }, 404, /not_found/],
      [OPR, 'GET', '/kb/other/articles', undefined, 404, /not_found/],
    ];
    for (const [token, method, p, body, status, re] of cases) {
      const r = await api(d, token, method, p, body);
      assert.equal(r.status, status, `${method} ${p}: ${show(r)}`);
      assert.match(r.body, re, `${method} ${p}`);
    }
    const empty = await api(d, OPR, 'POST', '/kb/faq/search', { query: '🙂🙂🙂' });
    expectStatus(empty, 200);
    assert.deepEqual(empty.json.items, []);
  });
});

describe('text bot: import at start', () => {
  test('an empty knowledge base is filled from the import file, and survives a restart', async () => {
    const file = path.join(__dirname, '..', '..', 'conf', 'kb', 'faq.json');
    const d = await startDaemon({ config: config('http://127.0.0.1:9/unused', `, import: ${q(file)}`) });
    try {
      const all = await api(d, OPR, 'GET', '/kb/faq/articles?limit=500');
      expectStatus(all, 200);
      assert.equal(all.json.items.length, KB.length);
      assert.equal(all.json.next_cursor, null);
      const s = await api(d, OPR, 'POST', '/kb/faq/search', { query: 'мошейники звонят', limit: 3 });
      expectStatus(s, 200);
      assert.equal(s.json.items[0].id, 'fraud', show(s));
      // rebuilt from storage at restart, not imported again
      expectStatus(await api(d, SUP, 'DELETE', '/kb/faq/articles/fraud'), 204);
      await d.restart();
      const after = await api(d, OPR, 'GET', '/kb/faq/articles?limit=500');
      expectStatus(after, 200);
      assert.equal(after.json.items.length, KB.length - 1);
      const again = await api(d, OPR, 'POST', '/kb/faq/search', { query: 'забыл пароль от приложения' });
      assert.equal(again.json.items[0].id, 'app-login', show(again));
    } finally {
      await d.cleanup();
    }
  });
});
