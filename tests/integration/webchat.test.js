'use strict';
// Issue "Web": the web-chat widget, the omnibutton and callback requests in
// Debian's Chromium (playwright-core), against the real daemon.
//   SB_SCREENSHOTS=1 also writes docs/widget.png.
const { test, describe, before, after } = require('node:test');
const assert = require('node:assert/strict');
const zlib = require('node:zlib');
const { startDaemon, request } = require('./lib/daemon');
const { rawRequest } = require('./lib/api');
const { launchBrowser, watchErrors, screenshot } = require('./lib/browser');

const TOKEN = 'it-webchat-admin-token';
const AUTH = { Authorization: `Bearer ${TOKEN}` };
const KEY = 'site-key-demo-1234';
const ALL_DAY = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'].map((d) => `${d}: "00:00-24:00"`).join(', ');

const CONFIG = `http:\n  listen: 127.0.0.1:0\n  max_body: 1MiB\n` +
  `auth:\n  api_tokens:\n    - { name: it, token: ${TOKEN}, role: admin }\n` +
  'routing:\n  default_group: support\n  groups:\n' +
  '    - { id: support, name: Support, strategy: least_busy, max_per_operator: 3 }\n' +
  'plugins:\n' +
  '  - name: webchat\n    instance: site\n    config:\n' +
  `      site_key: ${KEY}\n      max_file: 64KiB\n      title: "Банк Пример"\n` +
  '      file_types: [image/png, application/pdf]\n' +
  '      channels:\n' +
  '        - { kind: webchat, title: "Чат на сайте" }\n' +
  '        - { kind: telegram, title: Telegram, url: "https://t.me/example_bank_bot?start={token}" }\n' +
  '        - { kind: whatsapp, title: WhatsApp, url: "https://wa.me/79990000000?text=Код%20{token}" }\n' +
  '        - { kind: callback, title: "Перезвоните мне", url: "/hooks/callback/main" }\n' +
  '  - name: webchat\n    instance: other\n    config:\n      site_key: other-site-key-5678\n' +
  '      allowed_origins: ["https://bank.example"]\n' +
  '  - name: callback\n    instance: main\n    config:\n' +
  `      hours: { utc_offset: "+03:00", ${ALL_DAY} }\n      slot_minutes: 30\n      per_ip: 5\n`;

const PNG = Buffer.from('89504e470d0a1a0a0000000d4948445200000001000000010806000000' +
  '1f15c4890000000d49444154789c63000100000500010d0a2db40000000049454e44ae426082', 'hex');

async function api(d, method, p, body) {
  const r = await request(`${d.url}${p}`, {
    method, headers: { ...AUTH, 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return r;
}

/** Waits until fn() returns a truthy value (polling the API), up to ms. */
async function until(fn, ms = 5000, what = 'condition') {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function conversations(d, channel) {
  const r = await api(d, 'GET', '/api/v1/conversations');
  assert.equal(r.status, 200, r.body);
  return r.json.items.filter((c) => c.channel === channel);
}

async function messagesOf(d, convId) {
  const r = await api(d, 'GET', `/api/v1/conversations/${convId}/messages`);
  assert.equal(r.status, 200, r.body);
  return r.json.items;
}

/** The webchat conversation holding an inbound message with this text. */
async function convWithText(d, text) {
  return until(async () => {
    for (const c of await conversations(d, 'webchat')) {
      if ((await messagesOf(d, c.id)).some((m) => m.direction === 'in' && m.text === text)) return c;
    }
    return null;
  }, 5000, `a webchat conversation with "${text}"`);
}

/** Opens the widget on the demo page and goes to the chat. */
async function openChat(page) {
  await page.getByTestId('sb-launcher').click();
  await page.locator('[data-testid=sb-channel][data-kind=webchat]').click();
  await page.getByTestId('sb-input').waitFor();
}

async function say(page, text) {
  await page.getByTestId('sb-input').fill(text);
  await page.getByTestId('sb-send').click();
  // stored: the bubble carries the seq the server gave it
  await page.locator('[data-testid=sb-message][data-seq]', { hasText: text }).first().waitFor();
}

describe('web chat widget', () => {
  let d, browser, ctx, page;
  before(async () => {
    d = await startDaemon({ config: CONFIG });
    browser = await launchBrowser();
    ctx = await browser.newContext({ locale: 'ru-RU', viewport: { width: 1280, height: 800 } });
    page = watchErrors(await ctx.newPage());
    await page.goto(`${d.url}/webchat/demo`);
  });
  after(async () => {
    if (browser) await browser.close();
    if (d) await d.cleanup();
  });

  test('widget.js is at most 50 KB gzipped and the demo page embeds it with the site key', async () => {
    const js = await request(`${d.url}/webchat/widget.js`);
    assert.equal(js.status, 200);
    assert.match(js.headers['content-type'], /javascript/);
    const gz = zlib.gzipSync(Buffer.from(js.body, 'utf8'), { level: 9 }).length;
    assert.ok(gz <= 50 * 1024, `gzip size ${gz}`);
    const demo = await request(`${d.url}/webchat/demo`);
    assert.equal(demo.status, 200);
    assert.match(demo.body, new RegExp(`src="/webchat/widget.js" data-site-key="${KEY}"`));
  });

  test('a forged or missing site key, a forged visitor and a foreign origin are refused', async () => {
    for (const q of ['', '?k=forged-key-0000', '?k=']) {
      const r = await request(`${d.url}/webchat/api/session${q}`, { method: 'POST', body: '{}' });
      assert.equal(r.status, 403, q);
      assert.equal(r.json.error.code, 'forbidden');
      assert.match(r.json.error.message, /site key/);
    }
    const s = await request(`${d.url}/webchat/api/session?k=${KEY}`, { method: 'POST', body: '{}' });
    assert.equal(s.status, 200, s.body);
    const v = s.json.visitor;
    const forged = v.slice(0, -1) + (v.endsWith('0') ? '1' : '0');
    const m = await request(`${d.url}/webchat/api/message?k=${KEY}&v=${forged}`, {
      method: 'POST', body: JSON.stringify({ id: 'x1', text: 'hi' }),
    });
    assert.equal(m.status, 403);
    assert.equal(m.json.error.code, 'bad_visitor');
    // a visitor of one site is nobody on another
    const other = await request(`${d.url}/webchat/api/poll?k=other-site-key-5678&v=${v}&wait=0`, {
      headers: { Origin: 'https://bank.example' },
    });
    assert.equal(other.status, 403);
    const foreign = await request(`${d.url}/webchat/api/session?k=other-site-key-5678`, {
      method: 'POST', body: '{}', headers: { Origin: 'https://evil.example' },
    });
    assert.equal(foreign.status, 403);
    assert.match(foreign.json.error.message, /Origin/);
    const allowed = await request(`${d.url}/webchat/api/session?k=other-site-key-5678`, {
      method: 'POST', body: '{}', headers: { Origin: 'https://bank.example' },
    });
    assert.equal(allowed.status, 200);
    assert.equal(allowed.headers['access-control-allow-origin'], 'https://bank.example');
    const bad = [
      [{ text: 'no id' }, /id/], [{ id: 'a b', text: 'x' }, /id/], [{ id: 'b1', text: '   ' }, /text/],
      [{ id: 'b2', text: 'x'.repeat(4097) }, /text/], [{ id: 'b3', text: 5 }, /text/],
    ];
    for (const [body, want] of bad) {
      const r = await request(`${d.url}/webchat/api/message?k=${KEY}&v=${v}`, { method: 'POST', body: JSON.stringify(body) });
      assert.equal(r.status, 400, JSON.stringify(body));
      assert.match(r.json.error.message, want);
    }
  });

  test('the omnibutton lists the configured channels with deep links carrying the start token', async () => {
    await page.getByTestId('sb-launcher').click();
    const entries = page.getByTestId('sb-channel');
    await entries.first().waitFor();
    const kinds = await entries.evaluateAll((els) => els.map((e) => e.getAttribute('data-kind')));
    assert.deepEqual(kinds, ['webchat', 'telegram', 'whatsapp', 'callback']);
    const tg = await page.locator('[data-testid=sb-channel][data-kind=telegram]').getAttribute('href');
    const m = /^https:\/\/t\.me\/example_bank_bot\?start=([A-Za-z0-9_-]{22})$/.exec(tg);
    assert.ok(m, tg);
    const wa = await page.locator('[data-testid=sb-channel][data-kind=whatsapp]').getAttribute('href');
    assert.equal(wa, `https://wa.me/79990000000?text=Код%20${m[1]}`);
    // the messenger side learns whose token it is
    const who = await request(`${d.url}/webchat/api/start/${m[1]}`);
    assert.equal(who.status, 200, who.body);
    const visitor = await page.evaluate((k) => localStorage.getItem(`sb_visitor_${k}`), KEY);
    assert.deepEqual(who.json, { channel: 'webchat', instance: 'site', external_id: visitor.split('.')[0] });
    assert.equal((await request(`${d.url}/webchat/api/start/AAAAAAAAAAAAAAAAAAAAAA`)).status, 404);
    await page.getByTestId('sb-launcher').click();
  });

  test('a visitor writes; the message is in the core; the operator reply appears; reload keeps history', async () => {
    await openChat(page);
    await say(page, 'Здравствуйте, как открыть вклад?');
    const conv = await convWithText(d, 'Здравствуйте, как открыть вклад?');
    const r = await api(d, 'POST', `/api/v1/conversations/${conv.id}/messages`, { text: 'Добрый день! Подскажу.' });
    assert.equal(r.status, 202, r.body);
    await page.locator('[data-testid=sb-message][data-dir=out]', { hasText: 'Добрый день! Подскажу.' }).waitFor();
    await until(async () => (await messagesOf(d, conv.id)).some((x) => x.id === r.json.id && x.delivery.status === 'sent'),
      5000, 'delivery status sent');

    await page.reload();
    await openChat(page);
    await page.locator('[data-testid=sb-message]', { hasText: 'Здравствуйте, как открыть вклад?' }).waitFor();
    await page.locator('[data-testid=sb-message]', { hasText: 'Добрый день! Подскажу.' }).waitFor();
    // and the live channel works again after the reload
    const r2 = await api(d, 'POST', `/api/v1/conversations/${conv.id}/messages`, { text: 'Вы здесь?' });
    assert.equal(r2.status, 202);
    await page.locator('[data-testid=sb-message]', { hasText: 'Вы здесь?' }).waitFor();
  });

  test('HTML in a message is shown as text and never runs', async () => {
    const evil = '<img src=x onerror=window.__xss=1>';
    await say(page, evil);
    const conv = await convWithText(d, evil);
    await api(d, 'POST', `/api/v1/conversations/${conv.id}/messages`, { text: `${evil}<script>window.__xss=2</script>` });
    const out = page.locator('[data-testid=sb-message][data-dir=out]', { hasText: '<script>' });
    await out.waitFor();
    assert.equal(await out.locator('img').count(), 0);
    const inMsg = page.locator('[data-testid=sb-message][data-dir=in]', { hasText: evil }).first();
    assert.equal(await inMsg.locator('img').count(), 0);
    assert.equal(await page.evaluate(() => window.__xss), undefined);
  });

  test('buttons from the operator are buttons; a press comes back as button_id; rating shows stars', async () => {
    await say(page, 'Хочу карту');
    const conv = await convWithText(d, 'Хочу карту');
    await api(d, 'POST', `/api/v1/conversations/${conv.id}/messages`, {
      text: 'Какую?', buttons: [{ id: 'credit', title: 'Кредитную' }, { id: 'debit', title: 'Дебетовую' }],
    });
    await page.locator('[data-testid=sb-button][data-id=debit]').click();
    await until(async () => (await messagesOf(d, conv.id)).some((m) => m.direction === 'in' && m.text === 'Дебетовую'),
      5000, 'the button press');
    const closed = await api(d, 'POST', `/api/v1/conversations/${conv.id}/close`, { ask_rating: true });
    assert.equal(closed.status, 200, closed.body);
    const stars = page.locator('[data-testid=sb-rate]');
    await until(async () => (await stars.count()) === 5, 5000, 'five stars');
    await page.locator('[data-testid=sb-rate][data-id="sb:rate:5"]').click();
    await until(async () => (await api(d, 'GET', `/api/v1/conversations/${conv.id}`)).json.rating === 5,
      5000, 'the rating stored');
  });

  test('files: an allowed one is sent and opens; too big or of a forbidden type is refused with a message', async () => {
    await page.getByTestId('sb-file').setInputFiles({ name: 'big.png', mimeType: 'image/png', buffer: Buffer.alloc(70 * 1024, 1) });
    await page.locator('[data-testid=sb-notice]', { hasText: 'слишком большой' }).waitFor();
    await page.getByTestId('sb-file').setInputFiles({ name: 'page.html', mimeType: 'text/html', buffer: Buffer.from('<b>x</b>') });
    await page.locator('[data-testid=sb-notice]', { hasText: 'не принимаются' }).waitFor();
    await page.getByTestId('sb-file').setInputFiles({ name: 'dot.png', mimeType: 'image/png', buffer: PNG });
    const img = page.locator('[data-testid=sb-message][data-dir=in] img[alt="dot.png"]');
    await img.waitFor();
    assert.equal(await img.evaluate((e) => e.complete && e.naturalWidth), 1);

    // the server refuses on its own too (a widget is not the only client)
    const s = await request(`${d.url}/webchat/api/session?k=${KEY}`, { method: 'POST', body: '{}' });
    const up = (type, body) => request(`${d.url}/webchat/api/upload?k=${KEY}&v=${s.json.visitor}&id=f1&name=a.png`, {
      method: 'POST', headers: { 'Content-Type': type }, body,
    });
    const big = await up('image/png', Buffer.alloc(70 * 1024, 1));
    assert.equal(big.status, 413);
    assert.match(big.json.error.message, /file: over the limit of 65536 bytes/);
    const html = await up('text/html', '<script>alert(1)</script>');
    assert.equal(html.status, 415);
    assert.match(html.json.error.message, /Content-Type/);
    const ok = await up('image/png', PNG);
    assert.equal(ok.status, 200, ok.body);
    const att = ok.json.message.attachments[0];
    const file = await request(`${d.url}${att.url}`);
    assert.equal(file.status, 200);
    assert.equal(file.headers['content-type'], 'image/png');
    assert.equal(file.headers['x-content-type-options'], 'nosniff');
    const conv = await until(async () => {
      for (const c of await conversations(d, 'webchat')) {
        const m = (await messagesOf(d, c.id)).find((x) => x.attachments && x.attachments.some((a) => a.url === att.url));
        if (m) return m;
      }
      return null;
    }, 5000, 'the attachment in the core');
    assert.equal(conv.attachments[0].mime, 'image/png');
  });

  test('long poll answers as soon as a reply is stored', async () => {
    const s = await request(`${d.url}/webchat/api/session?k=${KEY}`, { method: 'POST', body: '{}' });
    const v = s.json.visitor;
    const sent = await request(`${d.url}/webchat/api/message?k=${KEY}&v=${v}`, {
      method: 'POST', body: JSON.stringify({ id: 'p1', text: 'poll me' }),
    });
    assert.equal(sent.status, 200, sent.body);
    const again = await request(`${d.url}/webchat/api/message?k=${KEY}&v=${v}`, {
      method: 'POST', body: JSON.stringify({ id: 'p1', text: 'poll me' }),
    });
    assert.equal(again.json.duplicate, true);
    assert.equal(again.json.message.seq, sent.json.message.seq);
    const conv = await convWithText(d, 'poll me');
    // the queue notice may have come already; wait past everything stored so far
    const now = await request(`${d.url}/webchat/api/poll?k=${KEY}&v=${v}&after=0&wait=0`);
    const t0 = Date.now();
    const waiting = request(`${d.url}/webchat/api/poll?k=${KEY}&v=${v}&after=${now.json.seq}&wait=20000`);
    await api(d, 'POST', `/api/v1/conversations/${conv.id}/messages`, { text: 'pong' });
    const got = await waiting;
    assert.equal(got.status, 200);
    assert.ok(Date.now() - t0 < 10000);
    assert.deepEqual(got.json.messages.map((m) => m.text), ['pong']);
  });

  test('erasing the client removes the visitor\'s history and files here too', async () => {
    const s0 = await request(`${d.url}/webchat/api/session?k=${KEY}`, { method: 'POST', body: '{}' });
    const v = s0.json.visitor;
    const up = await request(`${d.url}/webchat/api/upload?k=${KEY}&v=${v}&id=e1&name=scan.png`, {
      method: 'POST', headers: { 'Content-Type': 'image/png' }, body: PNG,
    });
    assert.equal(up.status, 200, up.body);
    const fileUrl = up.json.message.attachments[0].url;
    assert.equal((await request(`${d.url}${fileUrl}`)).status, 200);
    const said = await request(`${d.url}/webchat/api/message?k=${KEY}&v=${v}`, {
      method: 'POST', body: JSON.stringify({ id: 'e2', text: 'erase me please' }),
    });
    assert.equal(said.status, 200, said.body);
    const conv = await convWithText(d, 'erase me please');
    const del = await api(d, 'DELETE', `/api/v1/clients/${conv.client_id}`);
    assert.equal(del.status, 200, del.body);
    await until(async () => (await request(`${d.url}${fileUrl}`)).status === 404, 5000, 'the file gone');
    const s1 = await request(`${d.url}/webchat/api/session?k=${KEY}`, {
      method: 'POST', body: JSON.stringify({ visitor: v }),
    });
    assert.equal(s1.status, 200, s1.body);
    assert.equal(s1.json.visitor, v, 'the same visitor');
    assert.deepEqual(s1.json.messages, [], 'no history left for the erased visitor');
  });

  test('without WebSockets the widget falls back to the long poll', async () => {
    const noWs = await browser.newContext({ locale: 'ru-RU' });
    await noWs.addInitScript(() => { delete window.WebSocket; });
    const p = watchErrors(await noWs.newPage());
    await p.goto(`${d.url}/webchat/demo`);
    await openChat(p);
    await say(p, 'пишу без WebSocket');
    const conv = await convWithText(d, 'пишу без WebSocket');
    await api(d, 'POST', `/api/v1/conversations/${conv.id}/messages`, { text: 'ответ через poll' });
    await p.locator('[data-testid=sb-message][data-dir=out]', { hasText: 'ответ через poll' }).waitFor();
    assert.equal(await p.evaluate(() => typeof window.WebSocket), 'undefined');
    assert.deepEqual(p.__errors, []);
    await noWs.close();
  });

  test('the callback form puts a conversation of channel callback in the queue', async () => {
    await page.getByTestId('sb-launcher').click();
    if (!(await page.getByTestId('sb-menu').isVisible())) await page.getByTestId('sb-launcher').click();
    await page.locator('[data-testid=sb-channel][data-kind=callback]').click();
    await page.getByTestId('sb-callback-phone').fill('+7 (999) 555-12-34');
    await page.getByTestId('sb-callback-name').fill('Анна');
    await page.locator('[data-testid=sb-callback-time] option[value=now]').waitFor({ state: 'attached' });
    await page.getByTestId('sb-callback-time').selectOption('now');
    await page.getByTestId('sb-callback-submit').click();
    await page.locator('[data-testid=sb-callback-result]', { hasText: 'Спасибо' }).waitFor();
    const conv = await until(async () => (await conversations(d, 'callback'))[0], 5000, 'a callback conversation');
    assert.equal(conv.status, 'queued');
    const msgs = (await messagesOf(d, conv.id)).filter((m) => m.direction === 'in');
    assert.deepEqual(msgs.map((m) => m.text), ['Перезвонить: Анна, сейчас']);
    const client = await api(d, 'GET', `/api/v1/clients/${conv.client_id}`);
    assert.match(client.json.phone, /79995551234/);
    // bad input names the field; the per-address limit holds (each part
    // from its own source address)
    const post = (body, localAddress = '127.0.0.3') =>
      rawRequest(`${d.url}/hooks/callback/main`, { method: 'POST', body: JSON.stringify(body), localAddress });
    assert.match((await post({ phone: '12', when: 'now' })).json.error.message, /phone/);
    assert.match((await post({ phone: '123456', name: 'x'.repeat(257), when: 'now' })).json.error.message, /name/);
    const past = await post({ phone: '123456', when: Date.now() - 3600000 });
    assert.equal(past.status, 422);
    assert.match(past.json.error.message, /when/);
    const slots = await request(`${d.url}/hooks/callback/main/slots`);
    const slot = slots.json.slots[0].at;
    assert.equal((await post({ phone: '123456', when: slot + 60000 })).status, 422);
    const inSlot = await post({ phone: '123456', name: 'Пётр', when: slot, id: 'r1' });
    assert.equal(inSlot.status, 200, inSlot.body);
    for (let i = 0; i < 5; i++) assert.equal((await post({ phone: 'x' }, '127.0.0.2')).status, 400);
    const limited = await post({ phone: '1234567', when: 'now' }, '127.0.0.2');
    assert.equal(limited.status, 429);
    assert.equal(limited.json.error.code, 'rate_limited');
  });

  test('a phone-width screen gets a full-screen panel', async () => {
    const phone = await browser.newContext({ viewport: { width: 375, height: 667 }, isMobile: true, hasTouch: true, locale: 'en-US' });
    const p = watchErrors(await phone.newPage());
    await p.goto(`${d.url}/webchat/demo`);
    await openChat(p);
    const box = await p.getByTestId('sb-panel').boundingBox();
    assert.equal(Math.round(box.width), 375);
    assert.equal(Math.round(box.height), 667);
    assert.equal(await p.getByTestId('sb-send').textContent(), 'Send');
    await say(p, 'from a phone');
    assert.deepEqual(p.__errors, []);
    await phone.close();
  });

  test('no script errors in the widget', () => {
    // the refused uploads answer 413/415 on purpose: Chromium logs those itself
    assert.deepEqual(page.__errors, []);
  });

  test('screenshot of the widget (SB_SCREENSHOTS=1)', { skip: process.env.SB_SCREENSHOTS !== '1' }, async () => {
    const shot = await browser.newContext({ locale: 'ru-RU', viewport: { width: 1100, height: 720 } });
    const p = await shot.newPage();
    await p.goto(`${d.url}/webchat/demo`);
    await openChat(p);
    await say(p, 'Здравствуйте! Какая ставка по вкладу «Надёжный»?');
    const conv = await convWithText(d, 'Здравствуйте! Какая ставка по вкладу «Надёжный»?');
    await api(d, 'POST', `/api/v1/conversations/${conv.id}/messages`, {
      text: 'Добрый день! До 16% годовых. Открыть вклад онлайн?',
      buttons: [{ id: 'yes', title: 'Да, открыть' }, { id: 'later', title: 'Позже' }],
    });
    await p.locator('[data-testid=sb-button]').first().waitFor();
    assert.ok(await screenshot(p, 'widget.png'));
    await shot.close();
  });

  test('the daemon stops cleanly, with no sanitizer report', async () => {
    await page.close();
    assert.equal(await d.stop(), 0);
    const bad = d.logs.filter((l) => /Sanitizer|runtime error/.test(l));
    assert.deepEqual(bad, []);
  });
});
