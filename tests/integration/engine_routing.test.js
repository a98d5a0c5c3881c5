'use strict';
// Issue "Conversation engine": routing end to end, the API channel as the
// client and operators over REST + WebSocket. Each test has its own group
// and channel instance (instance <x> routes to group <x>), so tests do not
// share operators or queues.
const { test, describe, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { startDaemon } = require('./lib/daemon');
const { startReceiver } = require('./lib/receiver');
const {
  ADMIN_TOKEN, engineConfig, api, show, expectStatus, conversationOf, openWs, makeOperator,
  say, waitEvent, eventsOf, convOf, assignedEv, callbacksFor,
} = require('./lib/api');

const GROUPS = [
  { id: 'general', strategy: 'least_busy', max_per_operator: 3 },
  { id: 'q', strategy: 'least_busy', max_per_operator: 2 },
  { id: 'dr', strategy: 'least_busy', max_per_operator: 2 },
  { id: 'lb', strategy: 'least_busy', max_per_operator: 10 },
  { id: 'rr', strategy: 'round_robin', max_per_operator: 10 },
  { id: 'st', strategy: 'least_busy', max_per_operator: 10 },
  { id: 'tk', strategy: 'manual', max_per_operator: 10 },
  { id: 'tf', strategy: 'least_busy', max_per_operator: 10 },
  { id: 'tf2', strategy: 'least_busy', max_per_operator: 10 },
  { id: 'ac', strategy: 'least_busy', max_per_operator: 10 },
  { id: 'ra', strategy: 'least_busy', max_per_operator: 10 },
  { id: 'aw', strategy: 'least_busy', max_per_operator: 5 },
];
const INSTANCES = ['q', 'dr', 'lb', 'rr', 'tk', 'tf', 'ac', 'ra', 'aw']
  .map((g) => ({ instance: g, group: g }))
  .concat([{ instance: 'st1', group: 'st' }, { instance: 'st2', group: 'st' }]);

describe('routing', () => {
  let d, rx, admin;
  const A = (method, path, body) => api(d, ADMIN_TOKEN, method, path, body);
  const getConv = async (id) => expectStatus(await A('GET', `/conversations/${id}`), 200, `GET conversation ${id}`);

  before(async () => {
    rx = await startReceiver();
    d = await startDaemon({
      config: engineConfig({
        groups: GROUPS, defaultGroup: 'general',
        instances: INSTANCES.map((i) => ({ ...i, callbackUrl: rx.url })),
      }),
    });
    admin = await openWs(d, ADMIN_TOKEN);
  });
  after(async () => {
    if (admin) await admin.close();
    if (d) await d.cleanup();
    if (rx) await rx.close();
  });

  test('conversations go to an operator up to its limit, then queue; the client is told its position', async () => {
    const patched = await A('PATCH', '/groups/q', { queue_message: 'Вы в очереди, позиция {position}' });
    assert.equal(patched.status, 200, show(patched));
    assert.equal(patched.json.queue_message, 'Вы в очереди, позиция {position}');
    const op = await makeOperator(d, { groups: ['q'], max_conversations: 2 });

    const convs = [];
    for (let i = 1; i <= 4; i++) {
      const mid = await say(d, { instance: 'q', external_id: `q-c${i}`, name: `Клиент ${i}`, text: `вопрос ${i}` });
      convs.push(await convOf(admin, mid));
    }
    for (const id of convs.slice(0, 2)) {
      const ev = await assignedEv(admin, id);
      assert.equal(ev.conversation.operator_id, op.id);
      assert.equal(ev.conversation.status, 'assigned');
      assert.equal(ev.reason, 'route');
    }
    for (const [i, id] of convs.slice(2).entries()) {
      const c = await getConv(id);
      assert.equal(c.status, 'queued', `conversation ${i + 3}: ${JSON.stringify(c)}`);
      assert.equal(c.queue_position, i + 1);
      assert.equal(c.operator_id, null);
      assert.equal(c.group_id, 'q');
    }
    // The queued clients are told where they are, through their channel.
    await rx.waitFor(() => callbacksFor(rx, 'q-c3', /^Вы в очереди, позиция 1$/).length === 1 &&
                           callbacksFor(rx, 'q-c4', /^Вы в очереди, позиция 2$/).length === 1, 5000);
    assert.equal(callbacksFor(rx, 'q-c1', /очереди/).length, 0, 'an assigned client is not told it is queued');
    assert.equal(callbacksFor(rx, 'q-c3')[0].json.conversation_id, convs[2]);

    // Back to the built-in queue message: it names the position too.
    const reset = await A('PATCH', '/groups/q', { queue_message: null });
    assert.equal(reset.status, 200, show(reset));
    const c5 = await convOf(admin, await say(d, { instance: 'q', external_id: 'q-c5', text: 'вопрос 5' }));
    assert.equal((await getConv(c5)).queue_position, 3);
    await rx.waitFor(() => callbacksFor(rx, 'q-c5').length >= 1, 5000);
    const dflt = callbacksFor(rx, 'q-c5')[0].json.text;
    assert.match(dflt, /(^|\D)3(\D|$)/, `the default queue message names position 3: ${dflt}`);

    const queues = await A('GET', '/queues');
    assert.equal(queues.status, 200, show(queues));
    const qs = queues.json.items.find((x) => x.group_id === 'q');
    assert.ok(qs, `queue stats of q: ${queues.body}`);
    assert.equal(qs.waiting, 3);
    assert.equal(qs.online_operators, 1);
    const me = await op.call('GET', '/me');
    assert.equal(me.status, 200, show(me));
    assert.equal(me.json.operator.load, 2);
    await waitEvent(admin, (e) => e.type === 'queue.stats' && e.group_id === 'q' && e.waiting === 3, 5000,
      'queue.stats {group_id: q, waiting: 3}');

    // Groups: a group with a queue, or the default group, cannot be deleted; others can.
    const delQ = await A('DELETE', '/groups/q');
    assert.equal(delQ.status, 409, show(delQ));
    assert.equal((await A('DELETE', '/groups/general')).status, 409, 'the default group stays');
    const mk = await A('POST', '/groups', { id: 'tmp-grp', name: 'Временная', strategy: 'round_robin', max_per_operator: 4 });
    assert.equal(mk.status, 201, show(mk));
    assert.equal(mk.json.strategy, 'round_robin');
    assert.equal((await A('POST', '/groups', { id: 'tmp-grp', name: 'again' })).status, 409, 'the id is taken');
    assert.ok((await A('GET', '/groups')).json.items.some((g) => g.id === 'tmp-grp'));
    const del = await A('DELETE', '/groups/tmp-grp');
    assert.equal(del.status, 204, show(del));
    assert.equal((await A('GET', '/groups/tmp-grp')).status, 404);
  });

  test('an operator coming online drains the queue up to its limit, oldest first (2 of 5)', async () => {
    const op = await makeOperator(d, { groups: ['dr'], max_conversations: 2, status: null });
    const convs = [];
    for (let i = 1; i <= 5; i++) {
      const mid = await say(d, { instance: 'dr', external_id: `dr-c${i}`, text: `ждём ${i}` });
      convs.push(await convOf(admin, mid));
    }
    for (const [i, id] of convs.entries()) {
      const c = await getConv(id);
      assert.equal(c.status, 'queued');
      assert.equal(c.queue_position, i + 1);
    }
    // Nobody is online: each client is told once (the group's offline message), not left silent.
    await rx.waitFor(() => [1, 2, 3, 4, 5].every((p) => callbacksFor(rx, `dr-c${p}`).length >= 1), 5000);
    for (let p = 1; p <= 5; p++) assert.equal(callbacksFor(rx, `dr-c${p}`).length, 1, `dr-c${p} told once`);

    await op.setStatus('online');
    for (const id of convs.slice(0, 2)) {
      const ev = await assignedEv(admin, id);
      assert.equal(ev.conversation.operator_id, op.id);
    }
    const assigned = await A('GET', `/conversations?group=dr&status=assigned`);
    assert.equal(assigned.status, 200, show(assigned));
    assert.deepEqual(assigned.json.items.map((c) => c.id).sort(), convs.slice(0, 2).sort(),
      'exactly the two oldest are assigned: limits hold');
    const queued = await A('GET', `/conversations?group=dr&status=queued`);
    assert.equal(queued.status, 200, show(queued));
    assert.deepEqual(queued.json.items.map((c) => c.id).sort(), convs.slice(2).sort());
    for (const [i, id] of convs.slice(2).entries()) {
      assert.equal((await getConv(id)).queue_position, i + 1, 'positions move up');
    }
    assert.equal(eventsOf(admin, (e) => e.type === 'conversation.assigned' &&
      convs.includes(e.conversation.id)).length, 2);
    const byOp = await A('GET', `/conversations?operator=${op.id}&status=assigned`);
    assert.equal(byOp.json.items.length, 2);

    // Paging through the group's conversations: every one exactly once.
    const seen = [];
    let cursor = null;
    for (let page = 0; page < 20; page++) {
      const r = await A('GET', `/conversations?group=dr&limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
      assert.equal(r.status, 200, show(r));
      assert.ok(r.json.items.length <= 2);
      seen.push(...r.json.items.map((c) => c.id));
      cursor = r.json.next_cursor;
      if (!cursor) break;
    }
    assert.equal(cursor, null, 'paging ends');
    assert.deepEqual([...seen].sort(), [...convs].sort());
    assert.deepEqual(seen, [...convs].reverse(), 'newest first');

    // Closing one frees a place: the next in line (the third) takes it.
    const closed = await op.call('POST', `/conversations/${convs[0]}/close`);
    assert.equal(closed.status, 200, show(closed));
    const ev = await assignedEv(admin, convs[2]);
    assert.equal(ev.conversation.operator_id, op.id);
    assert.equal((await getConv(convs[3])).queue_position, 1);
  });

  /** Sends one message per client in turn; resolves the assigned operator ids. */
  async function routeEach(instance, prefix, n) {
    const ops = [];
    for (let i = 1; i <= n; i++) {
      const mid = await say(d, { instance, external_id: `${prefix}-${i}`, text: `hello ${i}` });
      const conv = await convOf(admin, mid);
      ops.push((await assignedEv(admin, conv)).conversation.operator_id);
    }
    return ops;
  }
  const count = (ids, id) => ids.filter((x) => x === id).length;

  test('least_busy: new conversations go to the least loaded operators', async () => {
    const o1 = await makeOperator(d, { groups: ['lb'], max_conversations: 10 });
    const first = await routeEach('lb', 'lb-a', 2);
    assert.deepEqual(first, [o1.id, o1.id]);
    const o2 = await makeOperator(d, { groups: ['lb'], max_conversations: 10 });
    const o3 = await makeOperator(d, { groups: ['lb'], max_conversations: 10 });
    const next = await routeEach('lb', 'lb-b', 4);
    // Loads were 2/0/0: the four go to o2 and o3, two each; o1 gets none.
    assert.deepEqual([count(next, o1.id), count(next, o2.id), count(next, o3.id)], [0, 2, 2], JSON.stringify(next));
    const loads = await Promise.all([o1, o2, o3].map(async (o) => (await A('GET', `/operators/${o.id}`)).json.load));
    assert.deepEqual(loads, [2, 2, 2]);
  });

  test('round_robin: operators take turns whatever their load', async () => {
    const o1 = await makeOperator(d, { groups: ['rr'], max_conversations: 10 });
    const first = await routeEach('rr', 'rr-a', 2);
    assert.deepEqual(first, [o1.id, o1.id]);
    const o2 = await makeOperator(d, { groups: ['rr'], max_conversations: 10 });
    const o3 = await makeOperator(d, { groups: ['rr'], max_conversations: 10 });
    const next = await routeEach('rr', 'rr-b', 6);
    // Loads were 2/0/0; round robin still gives each of the three two of six.
    assert.deepEqual([count(next, o1.id), count(next, o2.id), count(next, o3.id)], [2, 2, 2], JSON.stringify(next));
    for (const turn of [next.slice(0, 3), next.slice(3)]) {
      assert.equal(new Set(turn).size, 3, `each round of three visits everyone: ${JSON.stringify(next)}`);
    }
  });

  test('sticky: the same client (by phone) on a second channel instance gets its operator again', async () => {
    const s1 = await makeOperator(d, { groups: ['st'], max_conversations: 10 });
    const s2 = await makeOperator(d, { groups: ['st'], max_conversations: 10 });
    const m1 = await say(d, { instance: 'st1', external_id: 'st-app', phone: '+7 900 555-01-01', text: 'из приложения' });
    const c1 = await convOf(admin, m1);
    const first = await assignedEv(admin, c1);
    const x = first.conversation.operator_id === s1.id ? s1 : s2;
    const y = x === s1 ? s2 : s1;
    assert.ok([s1.id, s2.id].includes(first.conversation.operator_id));
    const closed = await x.call('POST', `/conversations/${c1}/close`);
    assert.equal(closed.status, 200, show(closed));

    // Make x the busier one, so that least_busy alone would pick y.
    const other = await convOf(admin, await say(d, { instance: 'st1', external_id: 'st-other', text: 'другой' }));
    const oev = await assignedEv(admin, other);
    if (oev.conversation.operator_id !== x.id) {
      const r = await A('POST', `/conversations/${other}/assign`, { operator_id: x.id });
      assert.equal(r.status, 200, show(r));
      assert.equal(r.json.operator_id, x.id);
    }
    const m2 = await say(d, { instance: 'st2', external_id: 'st-site', phone: '+79005550101', text: 'а теперь с сайта' });
    const c2 = await convOf(admin, m2);
    assert.notEqual(c2, c1, 'the first conversation was closed: a new one opens');
    const ev = await assignedEv(admin, c2);
    assert.equal(ev.conversation.operator_id, x.id, `sticky to ${x.id}, not ${y.id}`);
    assert.equal(ev.reason, 'sticky');
    assert.equal(ev.conversation.client_id, first.conversation.client_id, 'one client across both instances');
    assert.equal(ev.conversation.instance, 'st2');
  });

  test('two operators take the same queued conversation at once: exactly one wins', async () => {
    const t1 = await makeOperator(d, { groups: ['tk'] });
    const t2 = await makeOperator(d, { groups: ['tk'] });
    for (let round = 1; round <= 3; round++) {
      const conv = await convOf(admin, await say(d, { instance: 'tk', external_id: `tk-${round}`, text: 'кто возьмёт?' }));
      assert.equal((await getConv(conv)).status, 'queued', 'manual strategy: waits to be taken');
      const rs = await Promise.all([t1, t2].map((t) => t.call('POST', `/conversations/${conv}/take`)));
      assert.deepEqual(rs.map((r) => r.status).sort(), [200, 409], rs.map(show).join(' | '));
      const wi = rs[0].status === 200 ? 0 : 1;
      const winner = [t1, t2][wi];
      assert.equal(rs[wi].json.operator_id, winner.id);
      assert.equal(rs[wi].json.status, 'assigned');
      const current = conversationOf(rs[1 - wi]);
      assert.equal(current.id, conv, `409 carries the current conversation: ${show(rs[1 - wi])}`);
      assert.equal(current.operator_id, winner.id);
      assert.equal((await getConv(conv)).operator_id, winner.id);
      const ev = await assignedEv(admin, conv);
      assert.equal(ev.reason, 'take');
      assert.equal(eventsOf(admin, (e) => e.type === 'conversation.assigned' && e.conversation.id === conv).length, 1);
    }
    // A supervisor assigns by hand, also to an operator who is offline; an operator may not.
    const sup = await makeOperator(d, { role: 'supervisor', groups: ['tk'], status: null });
    const t3 = await makeOperator(d, { groups: ['tk'], status: null });
    const conv = await convOf(admin, await say(d, { instance: 'tk', external_id: 'tk-assign', text: 'назначьте' }));
    assert.equal((await t1.call('POST', `/conversations/${conv}/assign`, { operator_id: t1.id })).status, 403);
    const r = await sup.call('POST', `/conversations/${conv}/assign`, { operator_id: t3.id });
    assert.equal(r.status, 200, show(r));
    assert.equal(r.json.operator_id, t3.id);
    assert.equal(r.json.status, 'assigned');
    const ev = await assignedEv(admin, conv);
    assert.equal(ev.reason, 'assign');
    assert.equal(ev.by, sup.id);
    const again = await t1.call('POST', `/conversations/${conv}/take`);
    assert.equal(again.status, 409, `an assigned conversation cannot be taken: ${show(again)}`);
    assert.equal(conversationOf(again).operator_id, t3.id);
  });

  test('transfer to an operator (both are told), to a group, and to an offline operator (queued for it)', async () => {
    const f1 = await makeOperator(d, { groups: ['tf'], ws: true });
    const f2 = await makeOperator(d, { groups: ['tf'], ws: true, status: null });
    const off = await makeOperator(d, { groups: ['tf', 'tf2'], status: null });
    const g1 = await makeOperator(d, { groups: ['tf2'], ws: true });
    const conv = await convOf(admin, await say(d, { instance: 'tf', external_id: 'tf-1', text: 'хочу в другой отдел' }));
    assert.equal((await assignedEv(admin, conv)).conversation.operator_id, f1.id);
    await f2.setStatus('online');

    const t1 = await f1.call('POST', `/conversations/${conv}/transfer`, { operator_id: f2.id });
    assert.equal(t1.status, 200, show(t1));
    assert.equal(t1.json.result, 'assigned');
    assert.equal(t1.json.reason, null);
    assert.equal(t1.json.conversation.operator_id, f2.id);
    assert.equal(t1.json.conversation.status, 'assigned');
    for (const o of [f1, f2]) {
      const ev = await waitEvent(o.ws, (e) => e.type === 'conversation.transferred' && e.conversation.id === conv,
        5000, `conversation.transferred on ${o.login}'s socket`);
      assert.equal(ev.from_operator_id, f1.id);
      assert.equal(ev.to_operator_id, f2.id);
      assert.equal(ev.queued, false);
    }
    const hist = await f2.call('GET', `/conversations/${conv}/messages`);
    assert.equal(hist.status, 200, show(hist));
    assert.ok(hist.json.items.some((m) => m.type === 'event'), `a system record of the transfer: ${hist.body}`);
    assert.ok(hist.json.items.some((m) => m.text === 'хочу в другой отдел'), 'the thread is kept');

    const t2 = await f2.call('POST', `/conversations/${conv}/transfer`, { group_id: 'tf2' });
    assert.equal(t2.status, 200, show(t2));
    assert.equal(t2.json.result, 'assigned');
    assert.equal(t2.json.conversation.group_id, 'tf2');
    assert.equal(t2.json.conversation.operator_id, g1.id, 'the only online operator of tf2');
    await waitEvent(g1.ws, (e) => e.type === 'conversation.transferred' && e.conversation.id === conv, 5000,
      'conversation.transferred on the new group operator\'s socket');

    const t3 = await g1.call('POST', `/conversations/${conv}/transfer`, { operator_id: off.id });
    assert.equal(t3.status, 200, show(t3));
    assert.equal(t3.json.result, 'queued');
    assert.equal(t3.json.reason, 'offline');
    assert.equal(t3.json.conversation.status, 'queued');
    assert.equal(t3.json.conversation.queued_for_operator_id, off.id);
    assert.equal(t3.json.conversation.operator_id, null);
    // When it comes online, it gets the conversation first.
    await off.setStatus('online');
    const ev = await assignedEv(admin, conv, (e) => e.conversation.operator_id === off.id);
    assert.equal(ev.conversation.status, 'assigned');

    // To a group where nobody is online, and to an operator who is away.
    const t4 = await off.call('POST', `/conversations/${conv}/transfer`, { group_id: 'general', note: 'в общую' });
    assert.equal(t4.status, 200, show(t4));
    assert.deepEqual([t4.json.result, t4.json.reason, t4.json.conversation.status, t4.json.conversation.group_id],
      ['queued', 'nobody_online', 'queued', 'general']);
    await f1.setStatus('away');
    const t5 = await A('POST', `/conversations/${conv}/transfer`, { operator_id: f1.id });
    assert.equal(t5.status, 200, show(t5));
    assert.deepEqual([t5.json.result, t5.json.reason, t5.json.conversation.queued_for_operator_id],
      ['queued', 'away', f1.id]);
  });

  test('an away operator takes no new conversations; a deleted operator\'s conversations go back to the queue', async () => {
    const o1 = await makeOperator(d, { groups: ['aw'], max_conversations: 5 });
    const o2 = await makeOperator(d, { groups: ['aw'], max_conversations: 5 });
    await o2.setStatus('away');
    const convs = [];
    for (let i = 1; i <= 3; i++) {
      const conv = await convOf(admin, await say(d, { instance: 'aw', external_id: `aw-${i}`, text: `привет ${i}` }));
      assert.equal((await assignedEv(admin, conv)).conversation.operator_id, o1.id, 'away: none for o2');
      convs.push(conv);
    }
    const del = await A('DELETE', `/operators/${o1.id}`);
    assert.ok([200, 204].includes(del.status), show(del));
    assert.equal((await A('GET', `/operators/${o1.id}`)).status, 404);
    assert.equal((await o1.call('GET', '/me')).status, 401, 'a deleted operator\'s session ends');
    for (const [i, id] of convs.entries()) {
      const c = await getConv(id);
      assert.equal(c.status, 'queued', `back in the queue: ${JSON.stringify(c)}`);
      assert.equal(c.operator_id, null);
      assert.equal(c.queue_position, i + 1);
    }
    await o2.setStatus('online');
    for (const id of convs) {
      assert.equal((await assignedEv(admin, id, (e) => e.conversation.operator_id === o2.id)).conversation.operator_id, o2.id);
    }
  });

  test('an idle conversation closes itself after close_after; the client gets the close message', async () => {
    const p = await A('PATCH', '/groups/ac', { close_after: 1500, close_message: 'Диалог закрыт, пишите ещё' });
    assert.equal(p.status, 200, show(p));
    assert.equal(p.json.close_after, 1500);
    const o = await makeOperator(d, { groups: ['ac'] });
    const conv = await convOf(admin, await say(d, { instance: 'ac', external_id: 'ac-1', text: 'спасибо, всё' }));
    await assignedEv(admin, conv);
    const t0 = Date.now(); // the idle clock starts when the reply is stored, after this
    const reply = await o.call('POST', `/conversations/${conv}/messages`, { text: 'Рады помочь!' });
    assert.equal(reply.status, 202, show(reply));
    const ev = await waitEvent(admin, (e) => e.type === 'conversation.closed' && e.conversation.id === conv,
      8000, 'conversation.closed (idle)');
    assert.ok(Date.now() - t0 >= 1400, `closed after ${Date.now() - t0} ms, close_after is 1500`);
    assert.equal(ev.reason, 'idle');
    assert.equal(ev.conversation.status, 'closed');
    await rx.waitFor(() => callbacksFor(rx, 'ac-1', /^Диалог закрыт, пишите ещё$/).length === 1, 5000);
    const c = await getConv(conv);
    assert.equal(c.status, 'closed');
    assert.ok(c.closed_at);
  });

  test('a conversation without an operator reply moves to another online operator after reassign_after', async () => {
    const p = await A('PATCH', '/groups/ra', { reassign_after: 1500 });
    assert.equal(p.status, 200, show(p));
    assert.equal(p.json.reassign_after, 1500);
    const r1 = await makeOperator(d, { groups: ['ra'] });
    const r2 = await makeOperator(d, { groups: ['ra'] });
    const t0 = Date.now(); // before the assignment that arms the timer
    const conv = await convOf(admin, await say(d, { instance: 'ra', external_id: 'ra-1', text: 'ау?' }));
    const first = (await assignedEv(admin, conv)).conversation.operator_id;
    const other = first === r1.id ? r2.id : r1.id;
    const ev = await assignedEv(admin, conv, (e) => e.reason === 'reassign', 8000);
    assert.ok(Date.now() - t0 >= 1400, `reassigned after ${Date.now() - t0} ms, reassign_after is 1500`);
    assert.equal(ev.previous_operator_id, first);
    assert.equal(ev.conversation.operator_id, other);
    assert.equal((await getConv(conv)).operator_id, other);
  });
});

test('queues, loads and sessions survive kill -9', async () => {
  const rx = await startReceiver();
  const d = await startDaemon({
    config: engineConfig({ groups: [{ id: 'k', max_per_operator: 1 }],
      instances: [{ instance: 'k', group: 'k', callbackUrl: rx.url }] }),
  });
  let ws = null;
  try {
    ws = await openWs(d, ADMIN_TOKEN);
    const op = await makeOperator(d, { groups: ['k'], max_conversations: 1 });
    const convs = [];
    for (let i = 1; i <= 3; i++) convs.push(await convOf(ws, await say(d, { instance: 'k', external_id: `k-${i}`, text: `до рестарта ${i}` })));
    assert.equal((await assignedEv(ws, convs[0])).conversation.operator_id, op.id);
    await ws.close();
    ws = null;
    await d.kill();
    await d.restart();
    ws = await openWs(d, ADMIN_TOKEN);
    const get = async (id) => expectStatus(await api(d, ADMIN_TOKEN, 'GET', `/conversations/${id}`), 200);
    assert.equal((await get(convs[0])).operator_id, op.id);
    for (const [i, id] of convs.slice(1).entries()) {
      const c = await get(id);
      assert.equal(c.status, 'queued', 'the limit still holds after the restart');
      assert.equal(c.queue_position, i + 1);
    }
    const me = await op.call('GET', '/me');
    assert.equal(me.status, 200, `the session survives: ${show(me)}`);
    assert.equal(me.json.operator.load, 1);
    if (me.json.operator.status !== 'online') await op.setStatus('online');
    const closed = await op.call('POST', `/conversations/${convs[0]}/close`);
    assert.equal(closed.status, 200, show(closed));
    assert.equal((await assignedEv(ws, convs[1])).conversation.operator_id, op.id);
    assert.equal((await get(convs[2])).queue_position, 1);
  } finally {
    if (ws) await ws.close();
    await d.cleanup();
    await rx.close();
  }
});
