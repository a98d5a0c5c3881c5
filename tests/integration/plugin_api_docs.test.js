'use strict';
// The plugins' routes that core/api/openapi.json documents (operations marked
// x-plugin) are served by those plugins in the real daemon, with the roles
// the document names: every documented operation answers something other
// than the core's "no such API path", and an operator is refused exactly
// where the document says operators are not allowed.
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { startDaemon, repoRoot } = require('./lib/daemon');
const { engineConfig, api, makeOperator, ADMIN_TOKEN } = require('./lib/api');

const doc = JSON.parse(fs.readFileSync(path.join(repoRoot, 'core', 'api', 'openapi.json'), 'utf8'));
const values = { kb: 'faq', id: 'a1', instance: 'x', file_id: 'AgADdocs' };
const fill = (p) => p.replace(/\{(\w+)\}/g, (_, k) => values[k]);

let d, op;
before(async () => {
  const extra = [
    '  - { name: textbot, instance: faq, config: { kb: faq } }',
    `  - { name: buttonbot, instance: x, config: { scenario: "${path.join(repoRoot, 'conf', 'buttonbot', 'bank.yaml')}",`,
    '      secrets: [{ name: orders_url, value: "http://127.0.0.1:9" }, { name: orders_token, value: t }],',
    '      textbot: { url: "http://127.0.0.1:9", token: t, kb: faq } } }',
    '  - { name: botgateway, instance: x, config: { url: "http://127.0.0.1:9/bot", secret: s, token: bot-token-1234 } }',
    '  - { name: telegram, instance: x, config: { token: "1:docs", api_url: "http://127.0.0.1:9", mode: poll } }',
  ].join('\n');
  d = await startDaemon({ config: `${engineConfig({ groups: [{ id: 'support' }], instances: [{ instance: 'main', callbackUrl: 'http://127.0.0.1:9/cb' }] })}${extra}\n` });
  op = await makeOperator(d, { groups: ['support'] });
  const plugins = (await api(d, ADMIN_TOKEN, 'GET', '/plugins')).json;
  for (const p of plugins) assert.equal(p.state, 'running', `${p.name}/${p.instance}: ${p.last_error}`);
});
after(async () => { if (d) await d.cleanup(); });

test('every x-plugin operation is served, with the documented roles', async () => {
  let checked = 0;
  for (const [p, item] of Object.entries(doc.paths)) {
    for (const [method, o] of Object.entries(item)) {
      if (method === 'parameters' || !o['x-plugin']) continue;
      const body = method === 'get' || method === 'delete' ? undefined : {};
      const who = `${method.toUpperCase()} ${p}`;
      const r = await api(d, ADMIN_TOKEN, method.toUpperCase(), fill(p), body);
      assert.ok(!(r.status === 404 && /no such API path/.test(r.body)), `${who} is not served: ${r.body}`);
      const roles = o['x-roles'];
      if (roles && !roles.includes('operator')) {
        const asOp = await api(d, op.token, method.toUpperCase(), fill(p), body);
        assert.equal(asOp.status, 403, `${who} as an operator: ${asOp.body}`);
      }
      if (roles) {
        const anon = await api(d, null, method.toUpperCase(), fill(p), body);
        assert.equal(anon.status, 401, `${who} without a token: ${anon.body}`);
      }
      checked++;
    }
  }
  assert.ok(checked >= 10, `only ${checked} plugin operations documented`);
});
