'use strict';
// Issue "Foundation": the config's bad inputs and the plugin host's, each a
// clear message and exit code 1 (or the plugin skipped), never a crash.
const { test, describe, before, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const {
  buildDir, pluginsDir, startDaemon, runDaemon, request, setArgs, makeTempDir, mixedPluginsDir,
} = require('./lib/daemon');

const fixtures = path.join(buildDir, 'test-plugins');

async function check(yaml, env = {}, extra = []) {
  const dir = makeTempDir();
  const file = path.join(dir, 'sb.yaml');
  fs.writeFileSync(file, yaml);
  const r = await runDaemon(['-c', file, '--check', ...setArgs({ 'storage.path': dir }), ...extra],
    env);
  return { ...r, out: r.stdout + r.stderr, file };
}

const base = (plugins = '[]') => `http:\n  listen: 127.0.0.1:0\nplugins_dir: ${pluginsDir}\nplugins: ${plugins}\n`;

describe('config errors name file:line:col and exit 1', () => {
  test('malformed YAML', async () => {
    const r = await check('http:\n  listen: [1, 2\nstorage: {}\n');
    assert.equal(r.code, 1, r.out);
    assert.match(r.out, /sb\.yaml:\d+:\d+: /);
  });
  test('a wrong type', async () => {
    const r = await check(base() + 'storage:\n  map_size: lots\n');
    assert.equal(r.code, 1, r.out);
    assert.match(r.out, /sb\.yaml:6:\d+: storage\.map_size: /);
    assert.match(r.out, /lots/);
  });
  test('an unknown key deep down', async () => {
    const r = await check(base() + 'auth:\n  bootstrap_admin: { login: a, password: b, pasword: c }\n');
    assert.equal(r.code, 1, r.out);
    assert.match(r.out, /sb\.yaml:6:\d+: auth\.bootstrap_admin\.pasword: unknown key/);
  });
  test('a missing environment variable, and its default', async () => {
    const yaml = base() + 'storage:\n  path: ${SB_TEST_NO_SUCH_VAR}\n';
    const r = await check(yaml, { SB_TEST_NO_SUCH_VAR: null });
    assert.equal(r.code, 1, r.out);
    assert.match(r.out, /sb\.yaml:6:\d+: .*SB_TEST_NO_SUCH_VAR/);
    const ok = await check(base() + 'log:\n  level: ${SB_TEST_NO_SUCH_VAR:-debug}\n',
      { SB_TEST_NO_SUCH_VAR: null });
    assert.equal(ok.code, 0, ok.out);
  });
  test('--set overrides a value and is checked like the file', async () => {
    const r = await check(base(), {}, ['--set', 'log.level=loud']);
    assert.equal(r.code, 1, r.out);
    assert.match(r.out, /log\.level/);
    const ok = await check(base(), {}, ['--set', 'log.level=debug']);
    assert.equal(ok.code, 0, ok.out);
  });
  test('an unreadable config file', async () => {
    const r = await runDaemon(['-c', '/nonexistent/sb.yaml', '--check']);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /\/nonexistent\/sb\.yaml: .*No such file/);
  });
  test('an unknown key in a plugin section is reported by the host', async () => {
    const r = await check(base(`\n  - name: apichannel\n    instance: a\n    config:\n      callbak_url: http://x\n`));
    assert.equal(r.code, 1, r.out);
    assert.match(r.out, /sb\.yaml:8:\d+: plugins\[0\]\.config\.callbak_url: unknown key/);
  });
});

describe('plugin loading', () => {
  let dir;
  before(() => { dir = mixedPluginsDir(); });

  const one = (name) => `http:\n  listen: 127.0.0.1:0\nplugins_dir: PDIR\nplugins_strict: true\n` +
    `plugins:\n  - { name: ${name}, instance: x }\n`;
  const cases = [
    ['missing', /plugin missing: cannot load .*missing\.so/],
    ['not_elf', /plugin not_elf: cannot load .*not_elf\.so/],
    ['no_entry', /not a Switchboard plugin \(no symbol sb_plugin_entry\)/],
    ['bad_abi', /built for plugin ABI 2\.0, this host speaks 1\.1/],
    ['init_fail', /plugins\[0\]\.config\.reason: this plugin always fails/],
  ];
  for (const [name, re] of cases) {
    test(`strict: ${name} stops the start with one clear message`, async () => {
      const r = await check(one(name).replace('PDIR', dir));
      assert.equal(r.code, 1, r.out);
      assert.match(r.out, re);
    });
  }

  describe('not strict: bad plugins are skipped, the rest runs', () => {
    let d;
    before(async () => {
      const yaml = `http:\n  listen: 127.0.0.1:0\nwatchdog: 50ms\nplugins_dir: ${dir}\n` +
        'auth:\n  api_tokens:\n    - { name: t, token: admin-token, role: admin }\n' +
        'plugins:\n' +
        ['bad_abi', 'no_entry', 'not_elf', 'init_fail', 'missing']
          .map((n) => `  - { name: ${n}, instance: x }\n`).join('') +
        '  - { name: slow, instance: one, config: { spin: 120ms } }\n' +
        '  - { name: slow, instance: two, config: { spin: 1ms } }\n';
      d = await startDaemon({ config: yaml, set: { plugins_dir: dir } });
    });
    after(async () => { if (d) await d.cleanup(); });

    test('healthz is 200 and the plugin list says why each failed', async () => {
      assert.equal((await request(`${d.url}/healthz`)).status, 200);
      const r = await request(`${d.url}/api/v1/plugins`, { headers: { Authorization: 'Bearer admin-token' } });
      assert.equal(r.status, 200, r.body);
      const byName = Object.fromEntries(r.json.map((p) => [`${p.name}/${p.instance}`, p]));
      for (const n of ['bad_abi', 'no_entry', 'not_elf', 'init_fail', 'missing']) {
        assert.equal(byName[`${n}/x`].state, 'failed', n);
        assert.ok(byName[`${n}/x`].last_error.length > 0, n);
      }
      assert.equal(byName['slow/one'].state, 'running');
      assert.equal(byName['slow/two'].state, 'running');
    });

    test('a failed init leaves no route behind', async () => {
      const r = await request(`${d.url}/hooks/init_fail/x`);
      assert.equal(r.status, 404);
      assert.equal(r.json.error.code, 'not_found');
    });

    test('two instances of one .so work side by side with their own storage', async () => {
      for (let i = 1; i <= 2; i++) {
        const a = await request(`${d.url}/hooks/slow/two`);
        assert.deepEqual(a.json, { instance: 'two', count: i });
      }
      const b = await request(`${d.url}/hooks/slow/one`);
      assert.deepEqual(b.json, { instance: 'one', count: 1 });
    });

    test('the watchdog names a slow callback with its plugin instance', async () => {
      await request(`${d.url}/hooks/slow/one`);
      await d.waitForLog(/module=watchdog plugin=slow\/one .*http handler/, 5000);
    });
  });
});

describe('the data directory', () => {
  test('locked by another running switchboard', async () => {
    const d = await startDaemon();
    try {
      const r = await runDaemon(['-c', d.configPath, ...setArgs({
        'http.listen': '127.0.0.1:0', 'storage.path': d.dataDir, plugins_dir: pluginsDir })]);
      assert.equal(r.code, 1, r.stderr);
      assert.match(r.stderr, /locked by another running switchboard/);
    } finally {
      await d.cleanup();
    }
  });
  test('not a writable directory', async () => {
    const r = await runDaemon(['-c', path.join(__dirname, '..', '..', 'conf', 'switchboard.yaml'),
      ...setArgs({ 'http.listen': '127.0.0.1:0', 'storage.path': '/dev/null/data', plugins_dir: pluginsDir })]);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /storage\.path \/dev\/null\/data: /);
  });
});

test('SIGHUP reloads a plugin whose section changed', async () => {
  const yaml = (url) => `http:\n  listen: 127.0.0.1:0\nplugins:\n` +
    `  - { name: apichannel, instance: r, config: { callback_url: "${url}" } }\n`;
  const d = await startDaemon({ config: yaml('http://127.0.0.1:9/a') });
  try {
    fs.writeFileSync(d.configPath, yaml('http://127.0.0.1:9/b'));
    process.kill(d.pid, 'SIGHUP');
    await d.waitForLog(/plugin=apichannel\/r msg="reloaded"/, 5000);
    fs.writeFileSync(d.configPath, yaml('ftp://nope'));
    process.kill(d.pid, 'SIGHUP');
    await d.waitForLog(/reload refused, keeping the old config: .*callback_url/, 5000);
    assert.equal((await request(`${d.url}/healthz`)).status, 200);
  } finally {
    assert.equal(await d.stop(), 0);
    await d.cleanup();
  }
});
