'use strict';
// Issue "Conversation engine": one client across channel instances (join and
// automatic merge by phone), undo by audit id, merge by hand, search, and
// erasure on request.
const { test, describe, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { startDaemon } = require('./lib/daemon');
const { startReceiver } = require('./lib/receiver');
const {
  ADMIN_TOKEN, engineConfig, api, show, expectStatus, openWs, makeOperator,
  say, waitEvent, convOf, assignedEv,
} = require('./lib/api');

describe('clients', () => {
  let d, rx, admin, op, sup;
  const A = (method, path, body) => api(d, ADMIN_TOKEN, method, path, body);
  const clientOfConv = async (convId) =>
    expectStatus(await A('GET', `/conversations/${convId}`), 200, `GET conversation ${convId}`).client_id;
  const texts = async (clientId) => {
    const r = await A('GET', `/clients/${clientId}/messages?limit=500`);
    expectStatus(r, 200, `GET /clients/${clientId}/messages`);
    return r.json.items.map((m) => m.text);
  };

  before(async () => {
    rx = await startReceiver();
    d = await startDaemon({
      config: engineConfig({
        groups: [{ id: 'c', max_per_operator: 50 }],
        instances: [{ instance: 'app', group: 'c', callbackUrl: rx.url },
          { instance: 'site', group: 'c', callbackUrl: rx.url }],
      }),
    });
    admin = await openWs(d, ADMIN_TOKEN);
    op = await makeOperator(d, { groups: ['c'], max_conversations: 50 });
    sup = await makeOperator(d, { role: 'supervisor', groups: ['c'], status: null });
  });
  after(async () => {
    if (admin) await admin.close();
    if (d) await d.cleanup();
    if (rx) await rx.close();
  });

  test('a second channel account with a known phone joins the same client: one history', async () => {
    const c1 = await convOf(admin, await say(d, { instance: 'app', external_id: 'j-app', name: 'Анна',
      phone: '+7 (901) 111-22-33', text: 'пишу из приложения' }));
    const cl = await clientOfConv(c1);
    const c2 = await convOf(admin, await say(d, { instance: 'site', external_id: 'j-site',
      phone: '79011112233', text: 'а теперь с сайта' }));
    assert.equal(await clientOfConv(c2), cl, 'same client by phone');
    assert.equal(c2, c1, 'one open conversation shared by its channels');
    const client = expectStatus(await A('GET', `/clients/${cl}`), 200);
    const ids = client.identities.map((i) => `${i.instance}/${i.external_id}`).sort();
    assert.deepEqual(ids, ['app/j-app', 'site/j-site']);
    assert.match(client.phone.replace(/\D/g, ''), /^79011112233$/);
    const hist = await texts(cl);
    assert.ok(hist.includes('пишу из приложения') && hist.includes('а теперь с сайта'), JSON.stringify(hist));
    // The operator's reply goes to the account the client wrote from last.
    const r = await op.call('POST', `/conversations/${c1}/messages`, { text: 'Вижу оба сообщения' });
    assert.equal(r.status, 202, show(r));
    const got = await rx.waitFor((l) => l.some((x) => x.json && x.json.message_id === r.json.id), 5000);
    const cb = got.find((x) => x.json.message_id === r.json.id);
    assert.equal(cb.json.external_id, 'j-site');
    // Search finds it by phone prefix, name and external id.
    for (const query of ['7901111', 'анна', 'j-app']) {
      const s = await op.call('GET', `/clients?query=${encodeURIComponent(query)}`);
      assert.equal(s.status, 200, show(s));
      assert.ok(s.json.items.some((x) => x.id === cl), `search ${query}: ${s.body}`);
    }
  });

  test('auto-merge: a known phone arriving on another client merges the two; undo by audit id', async () => {
    const ca = await convOf(admin, await say(d, { instance: 'app', external_id: 'm-a', name: 'Борис',
      phone: '+7 902 333-44-55', text: 'от А' }));
    const clA = await clientOfConv(ca);
    const cb = await convOf(admin, await say(d, { instance: 'site', external_id: 'm-b', text: 'от Б' }));
    const clB = await clientOfConv(cb);
    assert.notEqual(clA, clB, 'no phone yet: two clients');
    await say(d, { instance: 'site', external_id: 'm-b', phone: '+7-902-333-44-55',
      text: 'теперь с телефоном' });
    const merged = await waitEvent(admin, (e) => e.type === 'client.merged' &&
      [clA, clB].includes(e.client.id) && [clA, clB].includes(e.source_id), 5000, 'client.merged');
    const target = merged.client.id;
    const source = merged.source_id;
    assert.notEqual(target, source);
    assert.equal(merged.by, 'auto');
    assert.match(merged.audit_id, /^\d+$/);
    assert.equal((await A('GET', `/clients/${source}`)).status, 404, 'the source profile is gone');
    const hist = await texts(target);
    for (const t of ['от А', 'от Б', 'теперь с телефоном']) assert.ok(hist.includes(t), `${t} in ${JSON.stringify(hist)}`);
    const client = expectStatus(await A('GET', `/clients/${target}`), 200);
    assert.deepEqual(client.identities.map((i) => i.external_id).sort(), ['m-a', 'm-b']);
    // Both conversations now belong to the target.
    const convs = expectStatus(await A('GET', `/conversations?client=${target}`), 200);
    for (const c of [ca, cb]) assert.ok(convs.items.some((x) => x.id === c), `conversation ${c} listed for the target`);

    const audit = expectStatus(await sup.call('GET', '/audit'), 200);
    const rec = audit.items.find((x) => x.id === merged.audit_id);
    assert.ok(rec, `audit record ${merged.audit_id} listed: ${JSON.stringify(audit.items.slice(0, 3))}`);
    assert.equal(rec.kind, 'merge');
    assert.equal(rec.target_id, target);
    assert.equal(rec.source_id, source);
    assert.equal(rec.undone_at ?? null, null);

    assert.equal((await op.call('POST', `/audit/${merged.audit_id}/undo`)).status, 403);
    const undo = await sup.call('POST', `/audit/${merged.audit_id}/undo`);
    assert.equal(undo.status, 200, show(undo));
    assert.ok(undo.json.undone_at, `undone_at set: ${undo.body}`);
    await waitEvent(admin, (e) => e.type === 'client.unmerged' && e.audit_id === merged.audit_id, 5000, 'client.unmerged');
    const back = await A('GET', `/clients/${source}`);
    assert.equal(back.status, 200, `the source profile is back: ${show(back)}`);
    const histA = await texts(clA);
    const histB = await texts(clB);
    assert.ok(histA.includes('от А') && !histA.includes('от Б'), `A: ${JSON.stringify(histA)}`);
    assert.ok(histB.includes('от Б') && !histB.includes('от А'), `B: ${JSON.stringify(histB)}`);
    assert.equal(await clientOfConv(ca), clA);
    assert.equal(await clientOfConv(cb), clB);
    const idsA = expectStatus(await A('GET', `/clients/${clA}`), 200).identities.map((i) => i.external_id);
    const idsB = expectStatus(await A('GET', `/clients/${clB}`), 200).identities.map((i) => i.external_id);
    assert.deepEqual([idsA, idsB], [['m-a'], ['m-b']]);

    const again = await sup.call('POST', `/audit/${merged.audit_id}/undo`);
    assert.equal(again.status, 409, show(again));
  });

  test('merge by hand (supervisor) and its errors', async () => {
    const c1 = await clientOfConv(await convOf(admin, await say(d, { instance: 'app', external_id: 'h-1', name: 'Вера', text: 'раз' })));
    const c2 = await clientOfConv(await convOf(admin, await say(d, { instance: 'site', external_id: 'h-2', name: 'Вера В.', text: 'два' })));
    assert.equal((await op.call('POST', `/clients/${c1}/merge`, { client_id: c2 })).status, 403);
    const same = await sup.call('POST', `/clients/${c1}/merge`, { client_id: c1 });
    assert.equal(same.status, 400, show(same));
    assert.equal((await sup.call('POST', `/clients/${c1}/merge`, { client_id: '987654321987' })).status, 404);
    assert.equal((await sup.call('POST', `/clients/${c1}/merge`, {})).status, 400);
    const m = await sup.call('POST', `/clients/${c1}/merge`, { client_id: c2 });
    assert.equal(m.status, 200, show(m));
    assert.equal(m.json.client.id, c1);
    assert.match(m.json.audit_id, /^\d+$/);
    assert.deepEqual(m.json.client.identities.map((i) => i.external_id).sort(), ['h-1', 'h-2']);
    assert.equal((await A('GET', `/clients/${c2}`)).status, 404);
    const hist = await texts(c1);
    assert.ok(hist.includes('раз') && hist.includes('два'), JSON.stringify(hist));
    // Patch the profile.
    const p = await op.call('PATCH', `/clients/${c1}`, { name: 'Вера Иванова', attributes: { tariff: 'gold' }, tags: ['vip'] });
    assert.equal(p.status, 200, show(p));
    assert.equal(p.json.name, 'Вера Иванова');
    assert.equal(p.json.attributes.tariff, 'gold');
    assert.deepEqual(p.json.tags, ['vip']);
  });

  test('erasure: DELETE /clients/{id} removes profile and messages; the audit record holds no personal data', async () => {
    const pii = { name: 'Пётр Стиратель', phone: '+7 903 777-88-99', email: 'petr.erase@example.com' };
    const conv = await convOf(admin, await say(d, { instance: 'app', external_id: 'erase-me-ext', ...pii,
      text: 'мой паспорт 4510 123456' }));
    await assignedEv(admin, conv);
    await say(d, { instance: 'app', external_id: 'erase-me-ext', text: 'и адрес Тверская 1' });
    const r = await op.call('POST', `/conversations/${conv}/messages`, { text: 'Спасибо, Пётр' });
    assert.equal(r.status, 202, show(r));
    const cl = await clientOfConv(conv);
    // A second profile of the same person, merged in by hand: its audit snapshot holds personal data.
    const other = await clientOfConv(await convOf(admin, await say(d, { instance: 'site', external_id: 'erase-me-site',
      name: 'Пётр С.', text: 'это тоже я, Тверская 1' })));
    const merge = await sup.call('POST', `/clients/${cl}/merge`, { client_id: other });
    assert.equal(merge.status, 200, show(merge));
    const before = await texts(cl);
    for (const t of ['мой паспорт 4510 123456', 'и адрес Тверская 1', 'Спасибо, Пётр']) assert.ok(before.includes(t), JSON.stringify(before));

    assert.equal((await op.call('DELETE', `/clients/${cl}`)).status, 403);
    assert.equal((await sup.call('DELETE', `/clients/${cl}`)).status, 403);
    const del = await A('DELETE', `/clients/${cl}`);
    assert.equal(del.status, 200, show(del));
    assert.equal(del.json.kind, 'erase');
    assert.match(del.json.id, /^\d+$/);
    const personal = ['Пётр', 'Стиратель', '9037778899', '903 777', 'petr.erase', 'erase-me-ext', 'erase-me-site',
      // the passport number whole: '4510' alone also turns up inside 64-bit ids
      'паспорт', '4510 123456', 'Тверская', 'Спасибо, Пётр'];
    const leaks = (text) => personal.filter((p) => text.includes(p));
    assert.deepEqual(leaks(del.body), [], `erase record: ${del.body}`);

    for (const p of [`/clients/${cl}`, `/clients/${cl}/messages`, `/conversations/${conv}`, `/conversations/${conv}/messages`]) {
      const g = await A('GET', p);
      assert.equal(g.status, 404, `${p}: ${show(g)}`);
    }
    for (const query of ['Стиратель', '7903777', 'petr.erase', 'erase-me-ext']) {
      const s = await A('GET', `/clients?query=${encodeURIComponent(query)}`);
      assert.equal(s.status, 200, show(s));
      assert.deepEqual(s.json.items, [], `search ${query} after erasure: ${s.body}`);
    }
    const conv2 = await A('GET', `/conversations?client=${cl}`);
    assert.ok(conv2.status === 404 || (conv2.status === 200 && conv2.json.items.length === 0), show(conv2));
    const audit = expectStatus(await A('GET', '/audit'), 200);
    const rec = audit.items.find((x) => x.id === del.json.id);
    assert.ok(rec, 'the erase record is listed');
    assert.deepEqual(leaks(JSON.stringify(audit)), [], 'the audit list holds no personal data');
    await waitEvent(admin, (e) => e.type === 'client.erased' && e.client_id === cl, 5000, 'client.erased');
    const undo = await sup.call('POST', `/audit/${merge.json.audit_id}/undo`);
    assert.equal(undo.status, 409, `a merge into an erased client cannot be undone: ${show(undo)}`);
    assert.deepEqual(leaks(undo.body), [], `the merge record after erasure: ${undo.body}`);
    assert.equal((await A('GET', `/clients/${other}`)).status, 404);
    assert.equal((await A('DELETE', `/clients/${cl}`)).status, 404, 'erasing twice: already gone');
    // Writing again from the same account starts a fresh, empty profile.
    const again = await convOf(admin, await say(d, { instance: 'app', external_id: 'erase-me-ext', text: 'снова я' }));
    const cl2 = await clientOfConv(again);
    assert.notEqual(cl2, cl);
    const fresh = await texts(cl2);
    assert.ok(fresh.includes('снова я'));
    assert.deepEqual(leaks(JSON.stringify(fresh)), [], 'nothing of the erased history comes back');
  });
});
