'use strict';
// Issue "Conversation engine": logins and sessions, roles, what an operator
// may see, bad input, login rate limits, and the OpenAPI document.
const { test, describe, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { startDaemon } = require('./lib/daemon');
const { startReceiver } = require('./lib/receiver');
const { connectWs } = require('./lib/ws');
const {
  ADMIN_TOKEN, ROOT, engineConfig, api, show, expectStatus, conversationOf, login, mustLogin,
  wsUrl, openWs, makeOperator, say, waitEvent, convOf, assignedEv, until,
} = require('./lib/api');

const MISSING = '987654321987';

function assertError(r, status, code) {
  assert.equal(r.status, status, show(r));
  assert.ok(r.json && r.json.error && typeof r.json.error.message === 'string',
    `error body {"error":{"code","message"}}: ${show(r)}`);
  if (code) assert.equal(r.json.error.code, code, show(r));
}

describe('auth, roles and input', () => {
  let d, rx, op, sup;
  const A = (method, path, body) => api(d, ADMIN_TOKEN, method, path, body);

  before(async () => {
    rx = await startReceiver();
    d = await startDaemon({
      config: engineConfig({
        groups: [{ id: 'g1', max_per_operator: 5 }, { id: 'g2', max_per_operator: 5 }],
        instances: [{ instance: 'a1', group: 'g1', callbackUrl: rx.url },
          { instance: 'a2', group: 'g2', callbackUrl: rx.url }],
      }),
    });
    op = await makeOperator(d, { groups: ['g1'], max_conversations: 5, ws: true });
    sup = await makeOperator(d, { role: 'supervisor', groups: ['g1'], status: null });
  });
  after(async () => {
    if (op && op.ws) await op.ws.close();
    if (d) await d.cleanup();
    if (rx) await rx.close();
  });

  test('login, /me and logout', async () => {
    const r = await login(d, ROOT.login, ROOT.password);
    assert.equal(r.status, 200, show(r));
    assert.match(r.json.token, /^\S{20,}$/);
    assert.equal(r.json.user.login, ROOT.login);
    assert.equal(r.json.user.role, 'admin');
    assert.match(r.json.user.id, /^\d+$/);
    const exp = Date.parse(r.json.expires_at);
    assert.ok(exp > Date.now(), `expires_at in the future: ${r.json.expires_at}`);
    assert.match(r.json.expires_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);

    const me = await api(d, r.json.token, 'GET', '/me');
    assert.equal(me.status, 200, show(me));
    assert.deepEqual(me.json.user, r.json.user);

    const opMe = await op.call('GET', '/me');
    assert.equal(opMe.status, 200, show(opMe));
    assert.equal(opMe.json.user.role, 'operator');
    assert.equal(opMe.json.operator.id, op.id);
    assert.deepEqual(opMe.json.operator.groups, ['g1']);
    assert.equal(opMe.json.operator.status, 'online');
    assert.equal(opMe.json.operator.password, undefined);
    assert.equal(opMe.json.operator.password_hash, undefined);

    assertError(await login(d, ROOT.login, 'wrong-password'), 401);
    assertError(await login(d, 'nobody-here', 'whatever'), 401);
    assertError(await api(d, null, 'POST', '/auth/login', { login: ROOT.login }), 400);
    assertError(await api(d, null, 'POST', '/auth/login', { password: 'x' }), 400);
    assertError(await api(d, null, 'POST', '/auth/login', '{"login":'), 400);

    const out = await api(d, r.json.token, 'POST', '/auth/logout');
    assert.equal(out.status, 204, show(out));
    assertError(await api(d, r.json.token, 'GET', '/me'), 401);
  });

  test('roles: 401 without or with a bad token, 403 for a role that may not', async () => {
    for (const token of [null, 'not-a-token', `${ADMIN_TOKEN}x`]) {
      assertError(await api(d, token, 'GET', '/operators'), 401, 'unauthorized');
      assertError(await api(d, token, 'GET', '/conversations'), 401);
      assertError(await api(d, token, 'GET', '/me'), 401);
    }
    await assert.rejects(connectWs(`${d.url.replace(/^http/, 'ws')}/api/v1/ws`), (e) => e.status === 401);
    await assert.rejects(connectWs(wsUrl(d, 'bogus')), (e) => e.status === 401);

    const opDenied = [
      ['POST', '/operators', { login: 'x1', password: 'p', role: 'admin' }],
      ['PATCH', `/operators/${op.id}`, { max_conversations: 100 }],
      ['DELETE', `/operators/${sup.id}`], ['POST', '/groups', { id: 'gx', name: 'X' }],
      ['PATCH', '/groups/g1', { max_per_operator: 100 }], ['DELETE', '/groups/g2'],
      ['GET', '/queues'], ['POST', '/templates', { title: 't', text: 'x' }],
      ['POST', '/clients/1/merge', { client_id: '2' }], ['DELETE', '/clients/1'],
      ['GET', '/audit'], ['POST', '/audit/1/undo'], ['POST', '/conversations/1/assign', { operator_id: op.id }],
      ['GET', '/plugins'],
    ];
    for (const [m, p, b] of opDenied) assertError(await op.call(m, p, b), 403, 'forbidden');
    // the team is visible to everyone (transfers, the supervisor's view), never a hash
    const team = await op.call('GET', '/operators');
    assert.equal(team.status, 200, team.body);
    assert.ok(team.json.items.some((o) => o.id === sup.id));
    assert.ok(!/hash|password/.test(team.body));
    const supDenied = [['POST', '/operators', { login: 'x2', password: 'p' }],
      ['DELETE', '/clients/1'], ['POST', '/groups', { id: 'gy', name: 'Y' }]];
    for (const [m, p, b] of supDenied) assertError(await sup.call(m, p, b), 403, 'forbidden');

    // What each role may do.
    assert.equal((await op.call('GET', '/groups')).status, 200);
    assert.equal((await op.call('GET', '/groups/g1')).status, 200);
    assert.equal((await op.call('GET', '/templates')).status, 200);
    assert.equal((await sup.call('GET', '/queues')).status, 200);
    assert.equal((await sup.call('GET', '/audit')).status, 200);
    const tpl = await sup.call('POST', '/templates', { title: 'Привет', text: 'Здравствуйте! Чем помочь?', hotkey: 'F1' });
    assert.equal(tpl.status, 201, show(tpl));
    const tpls = await op.call('GET', '/templates');
    assert.ok(tpls.json.items.some((t) => t.id === tpl.json.id && t.text === 'Здравствуйте! Чем помочь?'));
    assert.equal((await A('GET', '/operators')).status, 200);
  });

  test('an operator sees only the conversations of its groups', async () => {
    const other = await convOf(await openAdmin(),
      await say(d, { instance: 'a2', external_id: 'g2-client', text: 'в чужую группу' }));
    const mine = await say(d, { instance: 'a1', external_id: 'g1-client', text: 'в свою группу' });
    // Log order: the g2 message came first, so by the time the g1 one
    // reaches the operator, a leaked g2 event would have arrived too.
    const ev = await waitEvent(op.ws, (e) => e.type === 'message.created' && e.message.id === mine, 5000);
    const own = ev.conversation_id;
    assert.equal(op.ws.messages.filter((e) => e.conversation_id === other ||
      (e.conversation && e.conversation.id === other)).length, 0, 'no event of a g2 conversation');

    assert.equal((await op.call('GET', `/conversations/${own}`)).status, 200);
    assertError(await op.call('GET', `/conversations/${other}`), 403, 'forbidden');
    assertError(await op.call('GET', `/conversations/${other}/messages`), 403);
    assertError(await op.call('POST', `/conversations/${other}/messages`, { text: 'hi' }), 403);
    for (const act of ['take', 'close']) assertError(await op.call('POST', `/conversations/${other}/${act}`), 403);
    assertError(await op.call('POST', `/conversations/${other}/transfer`, { group_id: 'g1' }), 403);
    assertError(await op.call('PUT', `/conversations/${other}/tags`, ['x']), 403);
    assert.equal((await A('GET', `/conversations/${other}`)).json.status, 'queued', 'untouched');
    const list = await op.call('GET', '/conversations');
    assert.equal(list.status, 200, show(list));
    assert.ok(list.json.items.some((c) => c.id === own));
    assert.ok(!list.json.items.some((c) => c.id === other), 'the list leaves out other groups');
    assert.ok(list.json.items.every((c) => c.group_id === 'g1' || c.operator_id === op.id));
    assert.ok('next_cursor' in list.json);
    // Supervisors and admins see everything.
    assert.equal((await sup.call('GET', `/conversations/${other}`)).status, 200);
    assert.equal((await A('GET', `/conversations/${other}`)).status, 200);
  });

  let adminWs = null;
  async function openAdmin() {
    if (!adminWs) adminWs = await openWs(d, ADMIN_TOKEN);
    return adminWs;
  }
  after(async () => { if (adminWs) await adminWs.close(); });

  test('unknown ids are 404, a second close is 409 with the current state, bad input is 400', async () => {
    for (const [m, p, b] of [['GET', `/conversations/${MISSING}`], ['GET', `/conversations/${MISSING}/messages`],
      ['POST', `/conversations/${MISSING}/close`], ['POST', `/conversations/${MISSING}/transfer`, { group_id: 'g1' }],
      ['GET', `/clients/${MISSING}`], ['GET', `/clients/${MISSING}/messages`], ['PATCH', `/clients/${MISSING}`, { name: 'x' }],
      ['GET', `/operators/${MISSING}`], ['PATCH', `/operators/${MISSING}`, { name: 'x' }],
      ['DELETE', `/operators/${MISSING}`], ['GET', '/groups/no-such-group'], ['PATCH', '/groups/no-such-group', { name: 'x' }],
      ['GET', `/templates/${MISSING}`], ['DELETE', `/templates/${MISSING}`], ['POST', `/audit/${MISSING}/undo`],
      ['DELETE', `/clients/${MISSING}`]]) {
      assertError(await A(m, p, b), 404, 'not_found');
    }
    assertError(await op.call('POST', `/conversations/${MISSING}/take`), 404);

    const ws = await openAdmin();
    const conv = await convOf(ws, await say(d, { instance: 'a1', external_id: 'close-twice', text: 'закройте' }));
    await assignedEv(ws, conv);
    assertError(await op.call('POST', `/conversations/${conv}/transfer`, { operator_id: MISSING }), 404);
    assertError(await op.call('POST', `/conversations/${conv}/transfer`, { group_id: 'no-such-group' }), 404);
    assertError(await op.call('POST', `/conversations/${conv}/transfer`, {}), 400);
    assertError(await op.call('POST', `/conversations/${conv}/transfer`, { operator_id: sup.id, group_id: 'g1' }), 400);
    assertError(await op.call('POST', `/conversations/${conv}/messages`, {}), 400);
    assertError(await op.call('PUT', `/conversations/${conv}/tags`, { not: 'an array' }), 400);
    const tags = await op.call('PUT', `/conversations/${conv}/tags`, ['vip', 'доставка']);
    assert.equal(tags.status, 200, show(tags));
    assert.deepEqual(tags.json.tags, ['vip', 'доставка']);
    const attrs = await op.call('PATCH', `/conversations/${conv}/attributes`, { order: 'A-17', note: 'перезвонить' });
    assert.equal(attrs.status, 200, show(attrs));
    assert.deepEqual(attrs.json.attributes, { order: 'A-17', note: 'перезвонить' });
    const removed = await op.call('PATCH', `/conversations/${conv}/attributes`, { note: null });
    assert.deepEqual(removed.json.attributes, { order: 'A-17' }, 'null removes a key');

    const c1 = await op.call('POST', `/conversations/${conv}/close`);
    assert.equal(c1.status, 200, show(c1));
    assert.equal(c1.json.status, 'closed');
    const c2 = await op.call('POST', `/conversations/${conv}/close`);
    assert.equal(c2.status, 409, show(c2));
    const cur = conversationOf(c2);
    assert.equal(cur.id, conv, `409 carries the current conversation: ${show(c2)}`);
    assert.equal(cur.status, 'closed');
    assert.ok(cur.closed_at);
    assertError(await op.call('POST', `/conversations/${conv}/messages`, { text: 'поздно' }), 409);

    // Two closes at once: one wins.
    const conv2 = await convOf(ws, await say(d, { instance: 'a1', external_id: 'close-race', text: 'закройте дважды' }));
    await assignedEv(ws, conv2);
    const both = await Promise.all([op.call('POST', `/conversations/${conv2}/close`), A('POST', `/conversations/${conv2}/close`)]);
    assert.deepEqual(both.map((x) => x.status).sort(), [200, 409], both.map(show).join(' | '));

    // Bad fields are named.
    let r = await A('POST', '/operators', { password: 'pw-12345678', name: 'n' });
    assertError(r, 400);
    assert.match(r.json.error.message, /login/);
    r = await A('POST', '/operators', { login: 'bad-max', password: 'pw-123456', max_conversations: 0 });
    assertError(r, 400);
    assert.match(r.json.error.message, /max_conversations/);
    r = await A('POST', '/operators', { login: 'bad-group', password: 'pw-123456', groups: ['no-such-group'] });
    assertError(r, 400);
    assert.match(r.json.error.message, /groups/);
    r = await A('POST', '/operators', { login: 'bad-role', password: 'pw-123456', role: 'god' });
    assertError(r, 400);
    assert.match(r.json.error.message, /role/);
    assertError(await A('POST', '/operators', { login: op.login, password: 'pw-123456' }), 409);
    r = await A('PATCH', '/groups/g1', { strategy: 'random' });
    assertError(r, 400);
    assert.match(r.json.error.message, /strategy/);
    assertError(await op.call('PUT', '/me/status', { status: 'sleeping' }), 400);
    assertError(await A('GET', '/conversations?status=weird'), 400);
    assertError(await A('GET', '/conversations?limit=0'), 400);
    r = await A('GET', '/conversations?cursor=garbage');
    assertError(r, 400);
    assert.match(r.json.error.message, /cursor/);
  });

  test('a bad history cursor is a 400 that names the field (api.md: "say which field")', async () => {
    const ws = await openAdmin();
    const conv = await convOf(ws, await say(d, { instance: 'a1', external_id: 'cursor-field', text: 'курсор' }));
    const cl = (await A('GET', `/conversations/${conv}`)).json.client_id;
    const problems = [];
    for (const p of [`/clients/${cl}/messages?before=garbage`, `/conversations/${conv}/messages?before=garbage`]) {
      const r = await A('GET', p);
      assertError(r, 400);
      if (!/before|cursor/.test(r.json.error.message)) problems.push(`${p}: ${r.json.error.message}`);
    }
    assert.deepEqual(problems, []);
  });

  test('conversation attributes keep their JSON types (numbers and booleans)', async () => {
    const ws = await openAdmin();
    const conv = await convOf(ws, await say(d, { instance: 'a1', external_id: 'attr-types', text: 'атрибуты' }));
    const r = await op.call('PATCH', `/conversations/${conv}/attributes`, { paid: true, items: 3, order: 'A-18' });
    assert.equal(r.status, 200, show(r));
    assert.deepEqual(r.json.attributes, { paid: true, items: 3, order: 'A-18' });
    assert.deepEqual((await op.call('GET', `/conversations/${conv}`)).json.attributes, { paid: true, items: 3, order: 'A-18' });
    const cl = await op.call('PATCH', `/clients/${r.json.client_id}`, { attributes: { vip: false, age: 42 } });
    assert.equal(cl.status, 200, show(cl));
    assert.deepEqual(cl.json.attributes, { vip: false, age: 42 }, 'client attributes too');
  });

  test('GET /openapi.json: OpenAPI 3.1; every operation it lists exists on the server', async () => {
    const r = await api(d, null, 'GET', '/api/v1/openapi.json');
    assert.equal(r.status, 200, show(r));
    const doc = JSON.parse(r.body);
    assert.match(doc.openapi, /^3\.1\.\d+$/);
    assert.ok(doc.info && doc.info.title && doc.info.version);
    assert.ok(doc.paths && typeof doc.paths === 'object');
    const base = (doc.servers && doc.servers[0] && doc.servers[0].url) || '';
    const prefix = /\/api\/v1\/?$/.test(base) ? '/api/v1' : '';
    const full = (p) => (p.startsWith('/api/') || p.startsWith('/healthz') || p.startsWith('/metrics') ||
      p.startsWith('/hooks/') || !prefix ? p : `${prefix}${p}`);
    const norm = (p) => full(p).replace(/\{[^}]+\}/g, '{}');
    const ops = [];
    for (const [p, item] of Object.entries(doc.paths)) {
      for (const m of ['get', 'post', 'put', 'patch', 'delete']) {
        // plugins' routes exist only with the plugin: plugin_api_docs.test.js
        if (item[m] && !item[m]['x-plugin']) ops.push([m.toUpperCase(), p]);
      }
    }
    const have = new Set(ops.map(([m, p]) => `${m} ${norm(p)}`));
    for (const known of ['POST /api/v1/auth/login', 'GET /api/v1/me', 'PUT /api/v1/me/status',
      'GET /api/v1/operators', 'POST /api/v1/operators', 'PATCH /api/v1/groups/{}',
      'GET /api/v1/conversations', 'GET /api/v1/conversations/{}', 'POST /api/v1/conversations/{}/take',
      'POST /api/v1/conversations/{}/transfer', 'POST /api/v1/conversations/{}/close',
      'POST /api/v1/clients/{}/merge', 'DELETE /api/v1/clients/{}', 'POST /api/v1/audit/{}/undo',
      'GET /api/v1/queues', 'GET /api/v1/templates']) {
      assert.ok(have.has(known), `${known} is in the document (has: ${[...have].sort().join(', ')})`);
    }
    assert.ok(ops.length >= 30, `${ops.length} operations documented`);
    const problems = [];
    for (const [m, p] of ops) {
      const path = full(p).replace(/\{([^}]+)\}/g, (_, name) => (/instance/.test(name) ? 'a1' : '1'));
      const res = await api(d, null, m, path, ['POST', 'PUT', 'PATCH'].includes(m) ? {} : undefined);
      if (res.status === 404 || res.status === 405) problems.push(`${m} ${p} -> ${res.status}`);
      // Public: marked `security: []` in the document, or known to be open.
      const sec = doc.paths[p][m.toLowerCase()].security ?? doc.security;
      const open = (Array.isArray(sec) && sec.length === 0) ||
        /\/auth\/(login|logout)$|openapi\.json$|\/healthz$|^\/hooks\//.test(path);
      if (!open && path.startsWith('/api/v1/') && res.status !== 401) {
        problems.push(`${m} ${p} -> ${res.status} without a token (401 expected)`);
      }
    }
    assert.deepEqual(problems, []);
  });
});

describe('sessions expire; login attempts are limited', () => {
  let d;
  before(async () => {
    d = await startDaemon({ config: engineConfig({ groups: [{ id: 'g' }], tokenTtl: '2s' }) });
  });
  after(async () => { if (d) await d.cleanup(); });

  test('a session past auth.token_ttl is refused with 401', async () => {
    // The bootstrap admin is created once its password is hashed.
    const token = await until(async () => {
      const r = await login(d, ROOT.login, ROOT.password);
      return r.status === 200 ? r.json.token : null;
    }, { ms: 5000, what: 'bootstrap admin login' });
    const t0 = Date.now();
    assert.equal((await api(d, token, 'GET', '/me')).status, 200);
    const ws = await openWs(d, token);
    await until(async () => (await api(d, token, 'GET', '/me')).status === 401,
      { ms: 6000, every: 100, what: 'session expiry' });
    assert.ok(Date.now() - t0 >= 1500, `expired after ${Date.now() - t0} ms with token_ttl 2s`);
    assertError(await api(d, token, 'GET', '/conversations'), 401);
    await assert.rejects(connectWs(wsUrl(d, token)), (e) => e.status === 401);
    await ws.close();
    // A fresh login works again.
    assert.ok(await mustLogin(d, ROOT.login, ROOT.password));
  });

  test('too many attempts for one login, or from one address, get 429', async () => {
    const mk = await api(d, ADMIN_TOKEN, 'POST', '/operators', { login: 'victim', password: 'victim-pass-1', groups: ['g'] });
    expectStatus(mk, 201, 'create victim');
    // Per login: 10 wrong passwords, then even the right one is refused.
    const opts = { localAddress: '127.0.0.2' };
    let first429 = 0;
    for (let i = 1; i <= 30 && !first429; i++) {
      const r = await login(d, 'victim', `wrong-${i}`, opts);
      if (r.status === 429) first429 = i;
      else assert.equal(r.status, 401, show(r));
    }
    assert.ok(first429 > 3, `429 came after ${first429 - 1} failed attempts`);
    const r429 = await login(d, 'victim', 'victim-pass-1', { localAddress: '127.0.0.3' });
    assertError(r429, 429);
    // Another login from yet another address is not affected.
    assert.equal((await login(d, ROOT.login, ROOT.password, { localAddress: '127.0.0.4' })).status, 200);

    // Per address: many logins from one address.
    const addr = { localAddress: '127.0.0.5' };
    let hit = 0;
    for (let batch = 0; batch < 15 && !hit; batch++) {
      const rs = await Promise.all(Array.from({ length: 10 }, (_, k) =>
        login(d, `ghost-${batch}-${k}`, 'nope', addr)));
      for (const r of rs) {
        if (r.status === 429) hit++;
        else assert.equal(r.status, 401, show(r));
      }
    }
    assert.ok(hit > 0, 'no 429 after 150 attempts from one address');
    assertError(await login(d, 'ghost-fresh', 'nope', addr), 429);
    assertError(await login(d, ROOT.login, ROOT.password, addr), 429);
    assert.equal((await login(d, 'ghost-fresh', 'nope', { localAddress: '127.0.0.6' })).status, 401);
  });
});
