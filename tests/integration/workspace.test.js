'use strict';
// Issue "Web", item 1: the operator workspace (plugins/workspace) in Debian's
// Chromium. Clients write through the API channel (the web chat's visitor
// API for typing, the callback plugin for call-back requests); operators
// work in the browser, one browser context each. The group routes manually,
// so a new conversation waits in the queue until someone takes it.
// SB_SCREENSHOTS=1 also writes docs/workspace.png.
const { test, describe, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { startDaemon, request } = require('./lib/daemon');
const { startReceiver } = require('./lib/receiver');
const { launchBrowser, screenshot } = require('./lib/browser');
const {
  ADMIN_TOKEN, ROOT, engineConfig, api, expectStatus, openWs, makeOperator, say, convOf, until,
  callbacksFor,
} = require('./lib/api');

const TPL_HELLO = { title: 'Приветствие', text: 'Здравствуйте! Меня зовут Алексей, чем могу помочь?', hotkey: 'alt+1' };
const SITE_KEY = 'it-workspace-site';
const ALL_DAY = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'].map((day) => `${day}: "00:00-24:00"`).join(', ');
const TPL_BYE = { title: 'Прощание', text: 'Спасибо за обращение, хорошего дня!', hotkey: '/bye' };

describe('operator workspace', () => {
  let d, rx, admin, b, op1, op2, page1, page2;
  const A = (method, path, body) => api(d, ADMIN_TOKEN, method, path, body);
  const conversation = (page, id) => page.locator(`[data-testid="conversation"][data-conversation-id="${id}"]`);
  const messages = (page) => page.getByTestId('message');

  async function logIn(page, who) {
    await page.goto(`${d.url}/workspace`);
    await page.getByTestId('login').fill(who.login);
    await page.getByTestId('password').fill(who.password);
    await page.getByTestId('submit').click();
    await page.locator('[data-testid="connection"][data-state="open"]').waitFor();
  }

  /** A client message through the API channel; resolves its conversation id. */
  async function clientSays(externalId, text, name) {
    return convOf(admin, await say(d, { instance: 'main', external_id: externalId, name, text }));
  }

  async function setStatusInUi(page, who, status) {
    await page.getByTestId('status').selectOption(status);
    await until(async () => (await who.call('GET', '/me')).json.operator.status === status,
      { what: `${who.login} ${status}` });
  }

  before(async () => {
    rx = await startReceiver();
    d = await startDaemon({
      config: engineConfig({
        groups: [{ id: 'support', name: 'Поддержка', strategy: 'manual', max_per_operator: 10 }],
        instances: [{ instance: 'main', callbackUrl: rx.url }],
      }) + '  - { name: workspace, instance: main, config: { lang: auto, title: "Банк · поддержка" } }\n' +
        `  - { name: webchat, instance: site, config: { site_key: ${SITE_KEY} } }\n` +
        `  - { name: callback, instance: main, config: { hours: { ${ALL_DAY} } } }\n`,
    });
    admin = await openWs(d, ADMIN_TOKEN);
    op1 = await makeOperator(d, { login: 'alexey', name: 'Алексей', groups: ['support'], status: null });
    op2 = await makeOperator(d, { login: 'boris', name: 'Борис', groups: ['support'], status: null });
    for (const tpl of [TPL_HELLO, TPL_BYE]) expectStatus(await A('POST', '/templates', tpl), 201, 'POST /templates');
    b = await launchBrowser();
    page1 = await b.newPage();
    page2 = await b.newPage();
  });

  after(async () => {
    if (b) await b.close();
    if (admin) await admin.close();
    if (d) await d.cleanup();
    if (rx) await rx.close();
  });

  test('the plugin serves the app: redirect, content types, ETag revalidation, config.json, 404', async () => {
    const redirect = await request(`${d.url}/workspace`);
    assert.equal(redirect.status, 301);
    assert.equal(redirect.headers.location, '/workspace/');
    const index = await request(`${d.url}/workspace/`);
    assert.equal(index.status, 200);
    assert.match(index.headers['content-type'], /^text\/html/);
    assert.match(index.body, /<script type="module" src="app.js">/);
    assert.match(index.headers['content-security-policy'], /script-src 'self'/);
    const js = await request(`${d.url}/workspace/app.js`);
    assert.match(js.headers['content-type'], /^text\/javascript/);
    assert.equal(js.headers['cache-control'], 'no-cache');
    const again = await request(`${d.url}/workspace/app.js`, { headers: { 'If-None-Match': js.headers.etag } });
    assert.equal(again.status, 304);
    assert.equal(again.body, '');
    const css = await request(`${d.url}/workspace/app.css`, { headers: { 'If-None-Match': js.headers.etag } });
    assert.equal(css.status, 200, 'another file\'s ETag does not match');
    assert.match(css.headers['content-type'], /^text\/css/);
    const cfg = await request(`${d.url}/workspace/config.json`);
    assert.equal(cfg.status, 200);
    assert.deepEqual({ lang: cfg.json.lang, title: cfg.json.title, sound: cfg.json.sound },
      { lang: 'auto', title: 'Банк · поддержка', sound: true });
    const missing = await request(`${d.url}/workspace/nope.js`);
    assert.equal(missing.status, 404);
    assert.equal(missing.json.error.code, 'not_found');
    assert.equal((await request(`${d.url}/workspace/app.js`, { method: 'POST', body: 'x' })).status, 405);
  });

  test('the language follows the browser when the config says auto', async () => {
    const en = await b.newPage({ locale: 'en-US' });
    await en.goto(`${d.url}/workspace/`);
    await assert.doesNotReject(en.getByTestId('submit').filter({ hasText: 'Sign in' }).waitFor());
    await en.context().close();
    await page1.goto(`${d.url}/workspace/`);
    await page1.getByTestId('submit').filter({ hasText: 'Войти' }).waitFor();
    // A wrong password is refused with a message, and nothing is stored.
    await page1.getByTestId('login').fill(op1.login);
    await page1.getByTestId('password').fill('wrong-password');
    await page1.getByTestId('submit').click();
    await page1.getByTestId('login-error').filter({ hasText: 'Неверный' }).waitFor();
    assert.equal(await page1.evaluate(() => sessionStorage.getItem('sb.token')), null);
  });

  let conv1;
  test('a new client message shows up live and highlighted; the operator takes it and answers with template hotkeys', async () => {
    await logIn(page1, op1);
    assert.equal(await page1.evaluate(() => document.cookie), '', 'the token is never a cookie');
    assert.ok(await page1.evaluate(() => sessionStorage.getItem('sb.token')), 'the token is in sessionStorage');
    await setStatusInUi(page1, op1, 'online');

    conv1 = await clientSays('c-anna', 'Здравствуйте, у меня вопрос по карте', 'Анна');
    const item = conversation(page1, conv1);
    await item.and(page1.locator('[data-new="true"]')).waitFor();
    assert.match(await item.getAttribute('class'), /is-new/);
    assert.equal(await item.getAttribute('data-status'), 'queued');
    assert.equal(await item.locator('[data-testid="unread"]').textContent(), '1');
    assert.match(await item.textContent(), /Анна/);
    assert.equal(await item.locator('svg[data-channel="apichannel"]').count(), 1, 'the channel icon');

    await item.click();
    await messages(page1).filter({ hasText: 'вопрос по карте' }).and(page1.locator('[data-author-kind="client"]')).waitFor();
    assert.equal(await item.getAttribute('data-new'), 'false', 'opening it ends the highlight');
    await page1.getByTestId('take').click();
    await page1.locator('[data-testid="conversation-status"][data-status="assigned"]').waitFor();
    assert.equal((await A('GET', `/conversations/${conv1}`)).json.operator_id, op1.id);

    const composer = page1.getByTestId('composer');
    assert.equal(await composer.getAttribute('spellcheck'), 'true');
    await composer.focus();
    await page1.keyboard.press('Alt+1');
    assert.equal(await composer.inputValue(), TPL_HELLO.text, 'the combination inserts the template');
    await page1.keyboard.press('Shift+Enter');
    await page1.keyboard.type('Слушаю вас.');
    assert.equal(await composer.inputValue(), `${TPL_HELLO.text}\nСлушаю вас.`, 'Shift+Enter is a new line');
    await page1.keyboard.press('Enter');
    await rx.waitFor(() => callbacksFor(rx, 'c-anna', /Меня зовут Алексей/).length === 1, 5000);
    assert.equal(callbacksFor(rx, 'c-anna', /Меня зовут Алексей/)[0].json.text, `${TPL_HELLO.text}\nСлушаю вас.`);
    await messages(page1).filter({ hasText: 'Слушаю вас.' }).and(page1.locator('[data-author-kind="operator"]')).waitFor();
    assert.equal(await composer.inputValue(), '');

    // A command: typed as the whole text, Enter turns it into the template, the next Enter sends.
    await composer.fill('/bye');
    await composer.press('Enter');
    assert.equal(await composer.inputValue(), TPL_BYE.text);
    await page1.getByTestId('send').click();
    await rx.waitFor(() => callbacksFor(rx, 'c-anna', /хорошего дня/).length === 1, 5000);

    // The template search popup.
    await page1.getByTestId('templates').click();
    await page1.getByTestId('template-search').fill('прощ');
    assert.equal(await page1.getByTestId('template-item').count(), 1);
    await page1.getByTestId('template-search').press('Enter');
    assert.equal(await composer.inputValue(), TPL_BYE.text);
    await composer.fill('');
  });

  test('the client\'s profile: attributes added, edited and copied; tags on the client and the conversation', async () => {
    const clientId = (await A('GET', `/conversations/${conv1}`)).json.client_id;
    await page1.context().grantPermissions(['clipboard-read', 'clipboard-write'], { origin: d.url });
    await page1.getByTestId('attr-key').fill('contract');
    await page1.getByTestId('attr-value').fill('Д-2024/17');
    await page1.getByTestId('attr-add').click();
    const row = page1.locator('[data-testid="attr-row"][data-key="contract"]');
    await row.filter({ hasText: 'Д-2024/17' }).waitFor();
    assert.equal((await A('GET', `/clients/${clientId}`)).json.attributes.contract, 'Д-2024/17');

    await row.getByTestId('attr-edit').click();
    await page1.getByTestId('attr-edit-input').fill('Д-2024/18');
    await page1.getByTestId('attr-edit-input').press('Enter');
    await row.filter({ hasText: 'Д-2024/18' }).waitFor();
    assert.equal((await A('GET', `/clients/${clientId}`)).json.attributes.contract, 'Д-2024/18');
    await row.getByTestId('attr-copy').click();
    assert.equal(await page1.evaluate(() => navigator.clipboard.readText()), 'Д-2024/18');

    await page1.getByTestId('client-tag-input').fill('vip');
    await page1.getByTestId('client-tag-input').press('Enter');
    await page1.locator('[data-testid="client-tag"][data-tag="vip"]').waitFor();
    await page1.getByTestId('conv-tag-input').fill('карта');
    await page1.getByTestId('conv-tag-input').press('Enter');
    await page1.locator('[data-testid="conv-tag"][data-tag="карта"]').waitFor();
    assert.deepEqual((await A('GET', `/clients/${clientId}`)).json.tags, ['vip']);
    assert.deepEqual((await A('GET', `/conversations/${conv1}`)).json.tags, ['карта']);
  });

  test('transfer to a second operator in another browser context, who sees it and closes it', async () => {
    await logIn(page2, op2);
    await setStatusInUi(page2, op2, 'online');
    await page1.getByTestId('transfer').click();
    const pick = page1.locator(`[data-testid="transfer-operator"][data-operator-id="${op2.id}"]`);
    await pick.and(page1.locator('[data-status="online"]')).waitFor();
    assert.ok(await page1.locator(`[data-testid="transfer-group"][data-group-id="support"]`).count(), 'groups are offered too');
    await pick.click();

    const item2 = conversation(page2, conv1);
    await item2.and(page2.locator('[data-new="true"]')).waitFor();
    await conversation(page1, conv1).waitFor({ state: 'detached' });
    assert.equal((await A('GET', `/conversations/${conv1}`)).json.operator_id, op2.id);

    await item2.click();
    // The whole history, the first operator's answers included.
    await messages(page2).filter({ hasText: 'Слушаю вас.' }).waitFor();
    await page2.getByTestId('close').click();
    await page2.locator('[data-testid="conversation-status"][data-status="closed"]').waitFor();
    await item2.waitFor({ state: 'detached' });
    assert.equal((await A('GET', `/conversations/${conv1}`)).json.status, 'closed');
    // closing asked the client to rate the conversation
    await rx.waitFor((rs) => rs.some((r) => r.json && r.json.conversation_id === conv1 &&
      (r.json.buttons || []).map((b) => b.id).join() === 'sb:rate:1,sb:rate:2,sb:rate:3,sb:rate:4,sb:rate:5'));
  });

  test('HTML in a client message is shown as text and never runs', async () => {
    const evil = '<img src=x onerror=window.__xss=1>';
    const conv = await clientSays('c-evil', evil, '<b onmouseover=window.__xss=2>Мэллори</b>');
    const item = conversation(page1, conv);
    await item.waitFor();
    assert.match(await item.textContent(), /<b onmouseover=window.__xss=2>Мэллори<\/b>/);
    await item.click();
    const msg = messages(page1).filter({ hasText: 'onerror' });
    await msg.waitFor();
    assert.equal(await msg.getByTestId('message-text').textContent(), evil);
    assert.equal(await page1.locator('img[src="x"]').count(), 0);
    assert.equal(await page1.locator('[data-testid="conversation-pane"] b').count(), 0);
    assert.equal(await page1.evaluate(() => window.__xss), undefined);
    await page1.getByTestId('take').click();
    await page1.locator('[data-testid="conversation-status"][data-status="assigned"]').waitFor();
  });

  test('attachments: images inline, other files as download links, only http(s) URLs', async () => {
    const base = 'http://127.0.0.1:9';
    await say(d, {
      instance: 'main', external_id: 'c-evil', text: 'документы',
      attachments: [
        { kind: 'image', url: `${base}/photo.png`, name: 'photo.png', mime: 'image/png' },
        { kind: 'file', url: `${base}/statement.pdf`, name: 'выписка.pdf', mime: 'application/pdf', size: 34567 },
        { kind: 'file', url: 'javascript:window.__xss=3', name: 'evil.txt' },
      ],
    });
    const msg = messages(page1).filter({ hasText: 'документы' });
    await msg.waitFor();
    assert.equal(await msg.locator('img[data-testid="attachment-image"]').getAttribute('src'), `${base}/photo.png`);
    const file = msg.locator(`a[download][href="${base}/statement.pdf"]`);
    assert.match(await file.textContent(), /выписка\.pdf \(33\.8 KB\)/);
    assert.equal(await msg.locator('a[href^="javascript:"]').count(), 0, 'no script URL becomes a link');
    assert.match(await msg.textContent(), /evil\.txt/);
  });

  test('after a network drop the socket comes back and nothing sent meanwhile is missed', async () => {
    const conv = (await A('GET', `/conversations?operator=${op1.id}&status=assigned`)).json.items[0].id;
    assert.equal(await page1.locator('[data-testid="conversation-status"]').count(), 1);
    await page1.context().setOffline(true);
    await page1.evaluate(() => window.sbWorkspace.dropSocket());
    await page1.locator('[data-testid="connection"][data-state="down"]').waitFor();
    await page1.getByTestId('offline-banner').waitFor();

    await say(d, { instance: 'main', external_id: 'c-evil', text: 'пока вас не было' });
    const newConv = await clientSays('c-late', 'новый вопрос во время обрыва', 'Пётр');
    assert.equal(await messages(page1).filter({ hasText: 'пока вас не было' }).count(), 0, 'offline: not shown yet');

    await page1.context().setOffline(false);
    await page1.locator('[data-testid="connection"][data-state="open"]').waitFor({ timeout: 20000 });
    await messages(page1).filter({ hasText: 'пока вас не было' }).waitFor();
    await conversation(page1, newConv).and(page1.locator('[data-new="true"]')).waitFor();
    assert.equal(await conversation(page1, conv).locator('[data-testid="unread"]').count(), 0, 'the open one has nothing unread');
    // Live again: the next message arrives through the new socket.
    await say(d, { instance: 'main', external_id: 'c-evil', text: 'и снова на связи' });
    await messages(page1).filter({ hasText: 'и снова на связи' }).waitFor();
  });

  test('status changes from the header reach the server', async () => {
    await setStatusInUi(page1, op1, 'away');
    await page1.locator('[data-testid="status"][data-status="away"]').waitFor();
    await setStatusInUi(page1, op1, 'online');
  });

  test('the client\'s typing is previewed live where the channel provides it (web chat)', async () => {
    const wc = (p, body) => request(`${d.url}/webchat/api/${p}`, { method: 'POST', body });
    const session = await wc(`session?k=${SITE_KEY}`, {});
    assert.equal(session.status, 200, session.body);
    const v = `k=${SITE_KEY}&v=${encodeURIComponent(session.json.visitor)}`;
    assert.equal((await wc(`message?${v}`, { id: 'w-1', text: 'вопрос с сайта' })).status, 200);
    const item = page1.locator('[data-testid="conversation"][data-channel="webchat"]');
    await item.click();
    await messages(page1).filter({ hasText: 'вопрос с сайта' }).waitFor();
    assert.equal((await wc(`typing?${v}`, { text: 'хочу уточнить <b>лимит</b>' })).status, 200);
    await page1.getByTestId('typing').filter({ hasText: 'хочу уточнить <b>лимит</b>' }).waitFor();
    // Sending the message ends the preview.
    assert.equal((await wc(`message?${v}`, { id: 'w-2', text: 'хочу уточнить лимит' })).status, 200);
    await messages(page1).filter({ hasText: 'хочу уточнить лимит' }).waitFor();
    await page1.getByTestId('typing').waitFor({ state: 'hidden' });
  });

  test('callback requests: the operator marks one done and another no answer, which closes each', async () => {
    for (const [phone, button, result] of [['+7 916 000-11-22', 'callback-done', 'done'],
      ['+7 916 000-33-44', 'callback-no-answer', 'no_answer']]) {
      const r = await request(`${d.url}/hooks/callback/main`, { method: 'POST', body: { phone, name: 'Ольга', when: 'now' } });
      assert.equal(r.status, 200, r.body);
      const item = page1.locator('[data-testid="conversation"][data-channel="callback"]');
      await item.click();
      await page1.getByTestId('take').click();
      await page1.locator('[data-testid="conversation-status"][data-status="assigned"]').waitFor();
      const id = await page1.locator('[data-testid="conversation"].is-open').getAttribute('data-conversation-id');
      await page1.getByTestId(button).click();
      await page1.locator('[data-testid="conversation-status"][data-status="closed"]').waitFor();
      const conv = (await A('GET', `/conversations/${id}`)).json;
      assert.equal(conv.channel, 'callback');
      assert.equal(conv.status, 'closed');
      assert.equal(conv.attributes.callback_result, result);
      await item.waitFor({ state: 'detached' });
    }
  });

  test('supervisor and admin views: live queues, operators, manual assignment, plugins', async () => {
    const page3 = await b.newPage();
    await logIn(page3, ROOT);
    await page3.getByTestId('nav-supervisor').click();
    const queued = await clientSays('c-queue', 'жду в очереди', 'Ольга');
    const waitingNow = (await A('GET', '/queues')).json.items.find((q) => q.group_id === 'support').waiting;
    await page3.locator(`[data-testid="queue-row"][data-group-id="support"][data-waiting="${waitingNow}"]`).waitFor();
    await page3.locator(`[data-testid="operator-row"][data-operator-id="${op1.id}"][data-status="online"]`).waitFor();

    const row = page3.locator(`[data-testid="queued-row"][data-conversation-id="${queued}"]`);
    await row.getByTestId('assign-operator').selectOption(op1.id);
    await row.getByTestId('assign').click();
    await row.waitFor({ state: 'detached' });
    assert.equal((await A('GET', `/conversations/${queued}`)).json.operator_id, op1.id);
    await conversation(page1, queued).waitFor();

    await page3.getByTestId('nav-admin').click();
    await page3.getByTestId('admin-tab-plugins').click();
    await page3.locator('[data-testid="plugin-row"][data-name="workspace"][data-state="running"]').waitFor();
    await page3.getByTestId('admin-tab-templates').click();
    await page3.getByTestId('template-row').filter({ hasText: TPL_HELLO.title }).waitFor();
    await page3.getByTestId('template-add').click();
    await page3.getByTestId('template-title').fill('Ожидание');
    await page3.getByTestId('template-text').fill('Минуту, уточняю.');
    await page3.getByTestId('template-hotkey').fill('alt+2');
    await page3.getByTestId('template-save').click();
    await page3.getByTestId('template-row').filter({ hasText: 'Ожидание' }).waitFor();
    const tpls = (await A('GET', '/templates')).json.items;
    assert.ok(tpls.some((x) => x.title === 'Ожидание' && x.hotkey === 'alt+2'), JSON.stringify(tpls));
    await page3.getByTestId('admin-tab-groups').click();
    await page3.locator('[data-testid="group-row"][data-id="support"]').waitFor();
    await page3.getByTestId('admin-tab-operators').click();
    await page3.locator(`[data-testid="operator-row"][data-id="${op2.id}"]`).waitFor();
    assert.deepEqual(page3.__errors, []);
    await page3.context().close();
  });

  test('a screenshot for the docs (SB_SCREENSHOTS=1), and no script errors on any page', async () => {
    if (process.env.SB_SCREENSHOTS === '1') {
      // A tidy scene: earlier tests' conversations closed, a few realistic ones open.
      for (const st of ['queued', 'assigned']) {
        for (const c of (await A('GET', `/conversations?status=${st}`)).json.items) await A('POST', `/conversations/${c.id}/close`);
      }
      const maria = await clientSays('c-shot-1', 'Добрый день! Не проходит оплата картой в интернет-магазине', 'Мария Соколова');
      expectStatus(await op1.call('POST', `/conversations/${maria}/take`), 200, 'take');
      expectStatus(await op1.call('POST', `/conversations/${maria}/messages`,
        { text: 'Здравствуйте, Мария! Подскажите, какую ошибку показывает магазин?' }), 202, 'reply');
      await say(d, { instance: 'main', external_id: 'c-shot-1', text: 'Пишет «операция отклонена банком-эмитентом»' });
      const clientId = (await A('GET', `/conversations/${maria}`)).json.client_id;
      expectStatus(await A('PATCH', `/clients/${clientId}`, {
        phone: '+79161234567', attributes: { card: '•••• 4417', segment: 'премиум' }, tags: ['vip'],
      }), 200, 'PATCH client');
      await clientSays('c-shot-2', 'Как увеличить лимит по кредитной карте?', 'Дмитрий Орлов');
      await clientSays('c-shot-3', 'Здравствуйте, хочу закрыть вклад досрочно', 'Ирина Волкова');
      await conversation(page1, maria).click();
      await messages(page1).filter({ hasText: 'эмитентом' }).waitFor();
      await page1.locator('[data-testid="attr-row"][data-key="card"]').waitFor();
      await page1.getByTestId('composer').fill('Проверяю платёж, одну минуту…');
      assert.ok(await screenshot(page1, 'workspace.png'));
    }
    assert.deepEqual(page1.__errors, []);
    assert.deepEqual(page2.__errors, []);
  });
});
