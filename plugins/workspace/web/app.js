// The operator workspace: start-up, login, the shared state fed by the REST
// API and the event stream, the header and the views (#/ conversations,
// #/supervisor, #/admin). Loaded as an ES module by index.html.
import { Api, EventStream } from './api.js';
import { t, setLang, chooseLang, LANGS, lang } from './i18n.js';
import { h, fill, unlockAudio, chime, showError } from './dom.js';
import { conversationsView } from './conversations.js';
import { supervisorView, adminView } from './admin.js';

const root = document.getElementById('root');
const LANG_KEY = 'sb.lang';

/** Everything the views share. Views subscribe with ctx.on(fn) and get (kind, event). */
function makeCtx(api, cfg) {
  const listeners = new Set();
  return {
    api, cfg,
    me: null,          // {user:{id,login,role}, operator}
    convs: new Map(),  // listed (open) conversations by id
    clients: new Map(),
    operators: new Map(),
    groups: new Map(),
    templates: [],
    queues: new Map(), // group id -> {waiting, longest_wait_s, online_operators, at}
    unread: new Map(),
    counted: new Set(), // ids of client messages already in an unread count (never twice)
    lastMsg: new Map(), // conversation id -> its newest message
    fresh: new Set(),   // new conversations not looked at yet (highlighted)
    typing: new Map(),
    openId: null,
    connected: false,
    on(fn) { listeners.add(fn); return () => listeners.delete(fn); },
    emit(kind, ev) { for (const fn of [...listeners]) { try { fn(kind, ev); } catch (e) { console.error(e); } } },
    get myId() { return this.me && this.me.user ? this.me.user.id : null; },
    get role() { return this.me && this.me.user ? this.me.user.role : 'operator'; },
    /** A conversation belongs in the list: open, and for an operator queued or its own. */
    listed(c) {
      if (!c || (c.status !== 'queued' && c.status !== 'assigned')) return false;
      return this.role !== 'operator' || c.status === 'queued' || c.operator_id === this.myId;
    },
    async client(id) {
      if (!id) return null;
      if (!this.clients.has(id)) {
        const p = api.get(`/clients/${encodeURIComponent(id)}`).catch(() => null);
        this.clients.set(id, p);
      }
      return this.clients.get(id);
    },
    operatorName(id) {
      const o = this.operators.get(id);
      return o ? o.name || o.login : id;
    },
  };
}

// --- the list of conversations and catching up ---------------------------------
const isSystem = (m) => m.author && m.author.kind === 'system';

/** Newest messages of c: the preview, and how many client messages are unread. */
async function loadTail(ctx, c, initial) {
  let page;
  try { page = await ctx.api.get(`/conversations/${encodeURIComponent(c.id)}/messages?limit=20`); } catch { return; }
  // System notices (queue position...) are not the conversation: they neither preview nor answer.
  const items = (page.items || []).filter((m) => !isSystem(m));
  if (!items.length) return;
  const known = ctx.lastMsg.get(c.id);
  let unread = 0;
  for (const m of items) {
    if (known && m.id === known.id) break;
    if (initial && m.direction !== 'in') break; // at start: the client's messages not answered yet
    if (m.direction === 'in' && !ctx.counted.has(m.id)) { ctx.counted.add(m.id); unread++; }
  }
  ctx.lastMsg.set(c.id, items[0]);
  if (unread && c.id !== ctx.openId) ctx.unread.set(c.id, (ctx.unread.get(c.id) || 0) + unread);
}

/** (Re)loads the list; conversations new since the last load are announced. */
async function loadList(ctx, initial) {
  const [queued, assigned] = await Promise.all([
    ctx.api.all('/conversations?status=queued&limit=200', 3),
    ctx.api.all('/conversations?status=assigned&limit=200', 3),
  ]);
  const next = new Map();
  for (const c of [...queued, ...assigned]) if (ctx.listed(c)) next.set(c.id, c);
  let news = 0;
  for (const id of next.keys()) if (!initial && !ctx.convs.has(id)) { ctx.fresh.add(id); news++; }
  ctx.convs = next;
  await Promise.all([...next.values()].map((c) => loadTail(ctx, c, initial || !ctx.lastMsg.has(c.id))));
  if (news) notifyNew(ctx);
  ctx.emit('list');
}

function notifyNew(ctx) {
  if (ctx.cfg.sound !== false) chime();
}

/** Applies a conversation from an event; one that joins the list is announced. */
function upsertConversation(ctx, c) {
  if (ctx.listed(c)) {
    if (!ctx.convs.has(c.id)) {
      ctx.fresh.add(c.id);
      notifyNew(ctx);
    }
    ctx.convs.set(c.id, c);
  } else {
    ctx.convs.delete(c.id);
    ctx.fresh.delete(c.id);
    ctx.unread.delete(c.id);
  }
}

async function onEvent(ctx, ev) {
  switch (ev.type) {
    case 'message.created': {
      const m = ev.message;
      const id = ev.conversation_id;
      if (!ctx.convs.has(id)) {
        // A conversation not in the list yet (its created event may have been filtered): fetch it.
        try { const c = await ctx.api.get(`/conversations/${encodeURIComponent(id)}`); if (ctx.listed(c)) upsertConversation(ctx, c); } catch { /* not visible */ }
      }
      if (ctx.convs.has(id) && !isSystem(m)) {
        ctx.lastMsg.set(id, m);
        if (m.direction === 'in' && id !== ctx.openId && !ctx.counted.has(m.id)) {
          ctx.counted.add(m.id);
          ctx.unread.set(id, (ctx.unread.get(id) || 0) + 1);
        }
        if (m.direction === 'in') ctx.typing.delete(id);
      }
      break;
    }
    case 'conversation.created': case 'conversation.queued': case 'conversation.assigned':
    case 'conversation.transferred': case 'conversation.closed': case 'conversation.updated':
      if (ev.conversation) upsertConversation(ctx, ev.conversation);
      break;
    case 'typing':
      if (ev.text) ctx.typing.set(ev.conversation_id, ev.text); else ctx.typing.delete(ev.conversation_id);
      break;
    case 'client.created': case 'client.updated': case 'client.merged':
      if (ev.client) ctx.clients.set(ev.client.id, Promise.resolve(ev.client));
      break;
    case 'operator.created': case 'operator.updated': case 'operator.status':
      if (ev.operator) ctx.operators.set(ev.operator.id, ev.operator);
      if (ev.operator && ev.operator.id === ctx.myId && ctx.me) ctx.me.operator = ev.operator;
      break;
    case 'operator.deleted':
      if (ev.operator) ctx.operators.delete(ev.operator.id);
      break;
    case 'group.created': case 'group.updated':
      if (ev.group) ctx.groups.set(ev.group.id, ev.group);
      break;
    case 'group.deleted':
      if (ev.group) ctx.groups.delete(ev.group.id);
      break;
    case 'template.created': case 'template.updated': case 'template.deleted':
      await loadTemplates(ctx);
      break;
    case 'queue.stats':
      ctx.queues.set(ev.group_id, { ...ev, at: Date.now() });
      break;
    default:
      break;
  }
  ctx.emit(ev.type, ev);
}

async function loadTemplates(ctx) {
  try { ctx.templates = await ctx.api.all('/templates?limit=500', 2); } catch { ctx.templates = []; }
}

async function loadPeople(ctx) {
  // Operators: the full list where the role may read it; others learn them from events.
  try { for (const o of await ctx.api.all('/operators?limit=500', 2)) ctx.operators.set(o.id, o); } catch { /* 403 */ }
  if (ctx.me && ctx.me.operator) ctx.operators.set(ctx.me.operator.id, ctx.me.operator);
  try { for (const g of await ctx.api.all('/groups?limit=500', 2)) ctx.groups.set(g.id, g); } catch { /* none */ }
  if (ctx.role !== 'operator') {
    try { for (const q of (await ctx.api.get('/queues')).items || []) ctx.queues.set(q.group_id, { ...q, at: Date.now() }); } catch { /* none */ }
  }
}

// --- login ----------------------------------------------------------------------------
function loginView(ctx, onDone) {
  const loginIn = h('input', { testid: 'login', name: 'login', autocomplete: 'username', required: true, autofocus: true });
  const passIn = h('input', { testid: 'password', name: 'password', type: 'password', autocomplete: 'current-password', required: true });
  const err = h('div', { class: 'login-error', testid: 'login-error', role: 'alert' });
  const submit = h('button', { testid: 'submit', type: 'submit', class: 'btn btn--primary' }, t('signIn'));
  const form = h('form', {
    class: 'login-box',
    onsubmit: async (e) => {
      e.preventDefault();
      unlockAudio(); // a user gesture: the sound may play from now on
      submit.disabled = true;
      submit.textContent = t('signingIn');
      err.textContent = '';
      try {
        await ctx.api.login(loginIn.value.trim(), passIn.value);
        onDone();
      } catch (ex) {
        err.textContent = ex.status === 401 || ex.status === 400 ? t('loginFailed') : t('error', { msg: ex.message });
        submit.disabled = false;
        submit.textContent = t('signIn');
      }
    },
  },
  h('h1', {}, ctx.cfg.title || 'Switchboard'), h('p', { class: 'muted' }, t('appName')),
  h('label', {}, t('login'), loginIn), h('label', {}, t('password'), passIn), err, submit);
  fill(root, h('div', { class: 'login-page' }, form));
  loginIn.focus();
}

// --- the shell ------------------------------------------------------------------------------
function statusSelect(ctx) {
  const sel = h('select', {
    testid: 'status', class: 'status-select', title: t('status'),
    onchange: async () => {
      const want = sel.value;
      try {
        const op = await ctx.api.put('/me/status', { status: want });
        ctx.me.operator = op;
        ctx.operators.set(op.id, op);
      } catch (e) { showError(e); }
      paint();
    },
  }, ['online', 'away', 'offline'].map((s) => h('option', { value: s }, t(s))));
  const paint = () => {
    const s = ctx.me.operator ? ctx.me.operator.status : 'offline';
    sel.value = s;
    sel.dataset.status = s;
  };
  paint();
  ctx.on((kind, ev) => { if (kind === 'operator.status' && ev.operator && ev.operator.id === ctx.myId) paint(); });
  return sel;
}

function shell(ctx, logout) {
  const nav = h('nav', { class: 'nav' });
  const route = () => (location.hash.replace(/^#\/?/, '') || 'conversations').split('/')[0];
  const links = [['conversations', t('workspace')]];
  if (ctx.role !== 'operator') links.push(['supervisor', t('supervisor')]);
  if (ctx.role === 'admin') links.push(['admin', t('admin')]);
  const conn = h('span', { class: 'conn', testid: 'connection', dataset: { state: 'connecting' } });
  const langSel = h('select', {
    class: 'lang-select', title: t('language'), testid: 'lang',
    onchange: () => { localStorage.setItem(LANG_KEY, langSel.value); location.reload(); },
  }, LANGS.map((l) => h('option', { value: l, selected: l === lang() }, l.toUpperCase())));
  const header = h('header', { class: 'top' },
    h('div', { class: 'brand' }, ctx.cfg.title || 'Switchboard'), nav,
    h('div', { class: 'top-right' }, conn, ctx.me.operator ? statusSelect(ctx) : null, langSel,
      h('span', { class: 'me', testid: 'me' }, ctx.me.user.login),
      h('button', { class: 'btn btn--ghost', type: 'button', testid: 'logout', onclick: logout }, t('logout'))));
  const banner = h('div', { class: 'banner', testid: 'offline-banner', hidden: true }, t('reconnecting'));
  const main = h('main', { class: 'main' });
  fill(root, h('div', { class: 'app' }, header, banner, main));

  ctx.on((kind) => {
    if (kind !== 'connection') return;
    conn.dataset.state = ctx.connected ? 'open' : 'down';
    conn.title = ctx.connected ? 'online' : t('reconnecting');
    banner.hidden = ctx.connected;
  });

  let dispose = null;
  const show = () => {
    const r = route();
    const allowed = links.some(([k]) => k === r) ? r : 'conversations';
    fill(nav, links.map(([k, label]) => h('a', { href: `#/${k}`, class: k === allowed ? 'active' : '', testid: `nav-${k}` }, label)));
    if (dispose) dispose();
    main.replaceChildren();
    const view = allowed === 'supervisor' ? supervisorView : allowed === 'admin' ? adminView : conversationsView;
    dispose = view(ctx, main);
  };
  window.addEventListener('hashchange', show);
  show();
}

// --- start --------------------------------------------------------------------------------
async function start() {
  let cfg = {};
  try { cfg = await (await fetch('config.json', { cache: 'no-store' })).json(); } catch { cfg = {}; }
  setLang(chooseLang(cfg.lang || 'ru', navigator.languages || [navigator.language], localStorage.getItem(LANG_KEY)));
  document.title = `${cfg.title || 'Switchboard'} — ${t('appName')}`;
  const api = new Api(cfg.api);
  let ctx = null;
  let stream = null;
  let queue = Promise.resolve();

  const logout = async () => {
    if (stream) stream.stop();
    await api.logout();
    location.hash = '';
    location.reload();
  };
  api.onUnauthorized = () => { if (stream) stream.stop(); api.setToken(''); location.reload(); };

  const enter = async () => {
    ctx = makeCtx(api, cfg);
    try {
      ctx.me = await api.get('/me');
    } catch {
      api.setToken('');
      loginView(makeCtx(api, cfg), enter);
      return;
    }
    await Promise.all([loadPeople(ctx), loadTemplates(ctx)]);
    shell(ctx, logout);
    // The list is loaded once the stream is open, so no event falls between the two.
    stream = new EventStream(api, {
      // One at a time, in order: handling an event may wait for the API.
      onEvent: (ev) => { queue = queue.then(() => onEvent(ctx, ev)).catch((e) => console.error(e)); },
      onOpen: (again) => {
        ctx.connected = true;
        ctx.emit('connection');
        // In the event queue, so no event is applied to a list about to be replaced.
        queue = queue.then(async () => {
          if (again) await loadPeople(ctx); // events were lost while the socket was down
          await loadList(ctx, !again);
          if (again) ctx.emit('catchup');
        }).catch(showError);
      },
      onState: (s) => { if (s !== 'open') { ctx.connected = false; ctx.emit('connection'); } },
    });
    // A hook for diagnostics and tests: drop the socket as a network failure would.
    window.sbWorkspace = { dropSocket: () => stream.drop(), get connected() { return ctx.connected; } };
    stream.start();
    setInterval(() => ctx.emit('tick'), 1000);
  };

  if (api.token) await enter();
  else loginView(makeCtx(api, cfg), enter);
}

start();
