'use strict';
// Issue "Web", done means: a site visitor and operators, each in their own
// Chromium context, through the web-chat widget (plugins/webchat), the
// callback form (plugins/callback) and the operator workspace
// (plugins/workspace), all served by one daemon.
const { test, describe, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { startDaemon } = require('./lib/daemon');
const { launchBrowser } = require('./lib/browser');
const { ADMIN_TOKEN, engineConfig, api, expectStatus, makeOperator, until } = require('./lib/api');

const KEY = 'e2e-site-key-0001';
const TPL = { title: 'Приветствие', text: 'Здравствуйте! Меня зовут Алексей, чем могу помочь?', hotkey: 'alt+1' };
const ALL_DAY = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'].map((d) => `${d}: "00:00-24:00"`).join(', ');

const PLUGINS = 'plugins:\n' +
  `  - { name: webchat, instance: site, config: { site_key: ${KEY}, title: "Банк Пример", channels: [` +
  '{ kind: webchat, title: "Чат" }, { kind: callback, title: "Перезвоните мне", url: "/hooks/callback/main" }] } }\n' +
  `  - { name: callback, instance: main, config: { hours: { utc_offset: "+03:00", ${ALL_DAY} } } }\n` +
  '  - { name: workspace, instance: main, config: { lang: ru } }\n';

describe('web: visitor, widget, workspace', () => {
  let d, b, visitor, page1, page2, op1, op2;
  const A = (method, path, body) => api(d, ADMIN_TOKEN, method, path, body);
  const item = (page, id) => page.locator(`[data-testid="conversation"][data-conversation-id="${id}"]`);
  const widgetMsg = (text) => visitor.locator('[data-testid=sb-message]', { hasText: text });

  async function logIn(page, who) {
    await page.goto(`${d.url}/workspace/`);
    await page.getByTestId('login').fill(who.login);
    await page.getByTestId('password').fill(who.password);
    await page.getByTestId('submit').click();
    await page.locator('[data-testid="connection"][data-state="open"]').waitFor();
    await page.getByTestId('status').selectOption('online');
    await until(async () => (await who.call('GET', '/me')).json.operator.status === 'online', { what: `${who.login} online` });
  }

  /** The one conversation of `channel` holding an inbound message with this text. */
  async function convWith(channel, text) {
    return until(async () => {
      for (const c of (await A('GET', '/conversations')).json.items.filter((x) => x.channel === channel)) {
        const msgs = (await A('GET', `/conversations/${c.id}/messages`)).json.items;
        if (msgs.some((m) => m.direction === 'in' && m.text === text)) return c.id;
      }
      return null;
    }, { what: `a ${channel} conversation with "${text}"` });
  }

  async function openChat() {
    await visitor.getByTestId('sb-launcher').click();
    await visitor.locator('[data-testid=sb-channel][data-kind=webchat]').click();
  }

  before(async () => {
    d = await startDaemon({
      config: engineConfig({ groups: [{ id: 'support', name: 'Поддержка', strategy: 'manual', max_per_operator: 10 }] }) +
        PLUGINS,
    });
    op1 = await makeOperator(d, { login: 'alexey', name: 'Алексей', groups: ['support'], status: null });
    op2 = await makeOperator(d, { login: 'boris', name: 'Борис', groups: ['support'], status: null });
    expectStatus(await A('POST', '/templates', TPL), 201, 'POST /templates');
    b = await launchBrowser();
    visitor = await b.newPage();
    page1 = await b.newPage();
    page2 = await b.newPage();
  });

  after(async () => {
    if (b) await b.close();
    if (d) await d.cleanup();
  });

  let conv;
  test('a visitor writes; the operator sees it live, takes it and answers with a template hotkey; the visitor sees the answer', async () => {
    await logIn(page1, op1);
    await visitor.goto(`${d.url}/webchat/demo`);
    await openChat();
    await visitor.getByTestId('sb-input').fill('Здравствуйте, хочу открыть вклад');
    await visitor.getByTestId('sb-send').click();
    conv = await convWith('webchat', 'Здравствуйте, хочу открыть вклад');

    const it = item(page1, conv);
    await it.and(page1.locator('[data-new="true"]')).waitFor();
    assert.equal(await it.getAttribute('data-channel'), 'webchat');
    // what the visitor types shows up live, before it is sent
    await visitor.getByTestId('sb-input').fill('А какой процент');
    await it.filter({ hasText: 'А какой процент' }).waitFor();
    await visitor.getByTestId('sb-input').fill('');

    await it.click();
    await page1.getByTestId('message').filter({ hasText: 'хочу открыть вклад' }).waitFor();
    await page1.getByTestId('take').click();
    await page1.locator('[data-testid="conversation-status"][data-status="assigned"]').waitFor();
    await page1.getByTestId('composer').focus();
    await page1.keyboard.press('Alt+1');
    assert.equal(await page1.getByTestId('composer').inputValue(), TPL.text);
    await page1.keyboard.press('Enter');
    await widgetMsg(TPL.text).waitFor();
  });

  test('transfer to a second operator in another browser context; the history goes along', async () => {
    await logIn(page2, op2);
    await page1.getByTestId('transfer').click();
    await page1.locator(`[data-testid="transfer-operator"][data-operator-id="${op2.id}"]`).click();
    const it2 = item(page2, conv);
    await it2.waitFor();
    await item(page1, conv).waitFor({ state: 'detached' });
    assert.equal((await A('GET', `/conversations/${conv}`)).json.operator_id, op2.id);
    await it2.click();
    await page2.getByTestId('message').filter({ hasText: 'Меня зовут Алексей' }).waitFor();
    await page2.getByTestId('composer').fill('Я Борис, продолжу. Ставка до 16% годовых.');
    await page2.getByTestId('send').click();
    await widgetMsg('Ставка до 16% годовых').waitFor();
  });

  test('the visitor reloads the page and sees the whole history', async () => {
    await visitor.reload();
    await openChat();
    for (const text of ['хочу открыть вклад', 'Меня зовут Алексей', 'Ставка до 16% годовых']) await widgetMsg(text).waitFor();
    // and stays live
    expectStatus(await op2.call('POST', `/conversations/${conv}/messages`, { text: 'Что-нибудь ещё?' }), 202, 'reply');
    await widgetMsg('Что-нибудь ещё?').waitFor();
  });

  test('a callback request appears in the operators\' queue', async () => {
    await visitor.getByTestId('sb-launcher').click();
    await visitor.getByTestId('sb-launcher').click();
    await visitor.locator('[data-testid=sb-channel][data-kind=callback]').click();
    await visitor.getByTestId('sb-callback-phone').fill('+7 916 123-45-67');
    await visitor.getByTestId('sb-callback-name').fill('Мария');
    await visitor.locator('[data-testid=sb-callback-time] option[value=now]').waitFor({ state: 'attached' });
    await visitor.getByTestId('sb-callback-submit').click();
    await visitor.locator('[data-testid=sb-callback-result]', { hasText: 'Спасибо' }).waitFor();
    const cb = await convWith('callback', 'Перезвонить: Мария, сейчас');
    const it = item(page1, cb);
    await it.and(page1.locator('[data-status="queued"]')).waitFor();
    assert.equal(await it.getAttribute('data-channel'), 'callback');
    await it.click();
    await page1.getByTestId('message').filter({ hasText: 'Перезвонить: Мария, сейчас' }).waitFor();
  });

  test('no script errors on any page', () => {
    assert.deepEqual(visitor.__errors, []);
    assert.deepEqual(page1.__errors, []);
    assert.deepEqual(page2.__errors, []);
  });
});
