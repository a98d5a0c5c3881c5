'use strict';
// Helpers for the Telegram integration tests: a free port, the npm emulator
// telegram-test-api made to send the secret header as Telegram does, and
// the daemon's config for a Telegram instance.
const net = require('node:net');
const { request } = require('./daemon');

const ADMIN_TOKEN = 'it-admin-token';
const AUTH = { Authorization: `Bearer ${ADMIN_TOKEN}` };

/** A TCP port free right now on 127.0.0.1 (for servers that cannot take 0). */
function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/** The daemon's YAML with one Telegram instance (and an admin API token). */
function telegramConfig({ apiUrl, token, mode = 'poll', secret, publicUrl, instance = 'bot', extra = {} }) {
  const lines = [
    'http:', '  listen: 127.0.0.1:0',
    'log:', '  level: debug',
    'auth:', '  api_tokens:', `    - { name: it, token: ${ADMIN_TOKEN}, role: admin }`,
    'plugins:', '  - name: telegram', `    instance: ${instance}`, '    config:',
    `      token: "${token}"`, `      api_url: "${apiUrl}"`, `      mode: ${mode}`,
  ];
  if (secret) lines.push(`      secret_token: "${secret}"`);
  if (publicUrl) lines.push(`      public_url: "${publicUrl}"`);
  for (const [k, v] of Object.entries(extra)) lines.push(`      ${k}: ${v}`);
  return `${lines.join('\n')}\n`;
}

/**
 * Starts telegram-test-api on a free port. The emulator posts webhook
 * updates without X-Telegram-Bot-Api-Secret-Token; Telegram sends the
 * secret_token given to setWebhook there, so the delivery is redone here
 * the way Telegram does it (and recorded in `posted` for redelivery tests).
 * Resolves {server, url, posted, client(opts), stop()}.
 */
async function startEmulator(token) {
  const TelegramServer = require('telegram-test-api');
  const port = await freePort();
  const server = new TelegramServer({ port, host: '127.0.0.1', storeTimeout: 60 });
  const posted = [];
  server.addUserUpdate = async (update) => {
    const hook = server.webhooks[update.botToken];
    if (!hook) {
      server.storage.userMessages.push(update);
    } else {
      const body = TelegramServer.formatUpdate(update);
      const headers = hook.secret_token ? { 'X-Telegram-Bot-Api-Secret-Token': hook.secret_token } : {};
      // The emulator's client routes do not wait for this: never throw.
      const r = await request(hook.url, { method: 'POST', headers, body }).catch((e) => ({ status: 0, body: e.message }));
      posted.push({ body, status: r.status, answer: r.body });
    }
    server.updateId++;
  };
  await server.start();
  return {
    server,
    url: `http://127.0.0.1:${port}`,
    posted,
    client: (opts) => server.getClient(token, opts),
    stop: () => server.stop(),
  };
}

/** POST an operator reply; resolves the stored message (202). */
async function reply(d, conversationId, body) {
  const r = await request(`${d.url}/api/v1/conversations/${conversationId}/messages`, {
    method: 'POST', headers: { ...AUTH, 'Content-Type': 'application/json' }, body: JSON.stringify(body),
  });
  if (r.status !== 202) throw new Error(`reply: HTTP ${r.status} ${r.body}`);
  return r.json;
}

async function messages(d, conversationId) {
  const r = await request(`${d.url}/api/v1/conversations/${conversationId}/messages?limit=500`, { headers: AUTH });
  if (r.status !== 200 || !r.json || !Array.isArray(r.json.items)) {
    throw new Error(`messages: HTTP ${r.status} ${r.body.slice(0, 300)}`);
  }
  return r.json.items;
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

module.exports = { ADMIN_TOKEN, AUTH, freePort, telegramConfig, startEmulator, reply, messages, sleep };
