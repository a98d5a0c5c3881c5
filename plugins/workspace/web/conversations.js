// The conversations view: the list (every channel), the open conversation
// with the client's whole history, the composer with templates, and the
// client's profile.
import { t } from './i18n.js';
import { h, fill, formatTime, formatDuration, formatSize, safeUrl, copyText, toast, showError, modal } from './dom.js';
import { channelIcon, uiIcon } from './icons.js';

const PAGE = 50;
const enc = encodeURIComponent;

// --- template hotkeys -----------------------------------------------------------
// A template's `hotkey` is either a key combination ("alt+1", "ctrl+shift+h",
// "f2": modifiers ctrl, alt, shift, meta joined by '+', then one key) that
// inserts the template at the cursor of the composer, or a command starting
// with '/' ("/hi"): typed as the whole composer text, Tab or Enter replaces
// it with the template. Nothing is sent until the operator presses Enter again.
export function parseHotkey(s) {
  const k = String(s || '').trim().toLowerCase();
  if (!k) return null;
  if (k.startsWith('/')) return k.length > 1 ? { slash: k } : null;
  const parts = k.split('+').map((p) => p.trim()).filter(Boolean);
  if (!parts.length) return null;
  const hk = { ctrl: false, alt: false, shift: false, meta: false, key: parts.pop() };
  for (const p of parts) {
    if (p === 'ctrl' || p === 'control') hk.ctrl = true;
    else if (p === 'alt' || p === 'option') hk.alt = true;
    else if (p === 'shift') hk.shift = true;
    else if (p === 'meta' || p === 'cmd') hk.meta = true;
    else return null;
  }
  return hk;
}

function comboMatches(hk, e) {
  if (!hk || hk.slash) return false;
  if (hk.ctrl !== e.ctrlKey || hk.alt !== e.altKey || hk.shift !== e.shiftKey || hk.meta !== e.metaKey) return false;
  const key = hk.key;
  if (/^[0-9]$/.test(key)) return e.code === `Digit${key}` || e.code === `Numpad${key}`;
  if (/^[a-z]$/.test(key)) return e.code === `Key${key.toUpperCase()}`;
  return String(e.key).toLowerCase() === key;
}

function slashTemplate(ctx, text) {
  const want = text.trim().toLowerCase();
  if (!want.startsWith('/')) return null;
  return ctx.templates.find((tp) => { const hk = parseHotkey(tp.hotkey); return hk && hk.slash === want; }) || null;
}

function comboTemplate(ctx, e) {
  if (!(e.ctrlKey || e.altKey || e.metaKey || /^F\d+$/.test(e.key))) return null;
  return ctx.templates.find((tp) => comboMatches(parseHotkey(tp.hotkey), e)) || null;
}

function insertAtCursor(ta, text) {
  const { selectionStart: a, selectionEnd: b, value } = ta;
  ta.value = value.slice(0, a) + text + value.slice(b);
  ta.selectionStart = ta.selectionEnd = a + text.length;
  ta.dispatchEvent(new Event('input'));
}

// --- small pieces -------------------------------------------------------------------
const names = new Map(); // client id -> display name, once known

function clientLabel(c) {
  return (c && (c.name || c.phone || c.email)) || (c && c.identities && c.identities[0] && c.identities[0].external_id) || '';
}

/** A span with the client's name, filled in when the profile arrives. */
function clientName(ctx, clientId) {
  const span = h('span', { class: 'client-name' }, names.get(clientId) || `#${clientId}`);
  if (!names.has(clientId)) {
    ctx.client(clientId).then((c) => {
      if (c) { names.set(clientId, clientLabel(c) || `#${clientId}`); span.textContent = names.get(clientId); }
    });
  }
  return span;
}

function authorLabel(ctx, m) {
  const kind = (m.author && m.author.kind) || (m.direction === 'in' ? 'client' : 'system');
  if (kind === 'operator') return m.author.id ? ctx.operatorName(m.author.id) : t('operator');
  return { client: t('client'), bot: t('botAuthor'), system: t('system') }[kind] || kind;
}

/** Seconds the conversation has waited: in the queue, or for an answer to the client's last message. */
function waitingSince(ctx, c) {
  if (c.status === 'queued') return c.created_at;
  const last = ctx.lastMsg.get(c.id);
  return last && last.direction === 'in' ? last.created_at : null;
}

/**
 * Where the browser opens an attachment. A channel's file behind the API
 * (/api/v1/...) needs the operator's token, and <img> and links cannot
 * send a header: it rides in the query, as for the event stream.
 */
function attachmentUrl(ctx, raw) {
  const url = safeUrl(raw);
  if (!url) return null;
  const u = new URL(url);
  if (u.origin === location.origin && u.pathname.startsWith('/api/v1/') && ctx.api.token) {
    u.searchParams.set('token', ctx.api.token);
  }
  return u.href;
}

function attachmentView(ctx, a) {
  const url = attachmentUrl(ctx, a.url);
  const label = `${a.name || t('attachment')}${a.size ? ` (${formatSize(a.size)})` : ''}`;
  if (!url) return h('div', { class: 'att', testid: 'attachment' }, label);
  const mime = String(a.mime || '');
  if (a.kind === 'image' || mime.startsWith('image/')) {
    return h('a', { class: 'att att--image', href: url, target: '_blank', rel: 'noopener noreferrer', testid: 'attachment' },
      h('img', { src: url, alt: a.name || t('attachment'), loading: 'lazy', testid: 'attachment-image' }));
  }
  if (a.kind === 'audio' || a.kind === 'voice' || mime.startsWith('audio/')) {
    return h('div', { class: 'att', testid: 'attachment' }, h('audio', { src: url, controls: true, preload: 'none' }),
      h('a', { href: url, download: a.name || '', rel: 'noopener noreferrer' }, label));
  }
  if (a.kind === 'video' || mime.startsWith('video/')) {
    return h('div', { class: 'att', testid: 'attachment' }, h('video', { src: url, controls: true, preload: 'metadata' }));
  }
  return h('a', { class: 'att att--file', href: url, download: a.name || '', target: '_blank', rel: 'noopener noreferrer', testid: 'attachment' }, `⬇ ${label}`);
}

function messageView(ctx, m) {
  const kind = (m.author && m.author.kind) || (m.direction === 'in' ? 'client' : 'system');
  const delivery = m.delivery && m.delivery.status;
  return h('div', { class: `msg msg--${kind}`, testid: 'message', dataset: { authorKind: kind, messageId: m.id, direction: m.direction || '' } },
    h('div', { class: 'msg-meta' }, channelIcon(m.channel, 14), h('span', { class: 'msg-author' }, authorLabel(ctx, m)),
      h('time', { datetime: m.created_at }, formatTime(m.created_at)),
      delivery ? h('span', { class: `delivery delivery--${delivery}`, testid: 'delivery', title: (m.delivery && m.delivery.error) || '' }, t(`delivery_${delivery}`)) : null),
    m.text ? h('div', { class: 'msg-text', testid: 'message-text' }, m.text) : null,
    m.buttons && m.buttons.length ? h('div', { class: 'msg-buttons' }, m.buttons.map((b) => h('span', { class: 'chip' }, b.title))) : null,
    m.attachments && m.attachments.length ? h('div', { class: 'msg-atts' }, m.attachments.map((a) => attachmentView(ctx, a))) : null);
}

// --- the view ---------------------------------------------------------------------------
export function conversationsView(ctx, main) {
  let filter = sessionStorage.getItem('sb.filter') || 'all';
  const listEl = h('div', { class: 'conv-list', testid: 'conversation-list', role: 'list' });
  const tabs = h('div', { class: 'tabs' });
  const convPane = h('section', { class: 'conv-pane', testid: 'conversation-pane' });
  const profilePane = h('aside', { class: 'profile-pane', testid: 'profile' });
  fill(main, h('div', { class: 'workspace' }, h('aside', { class: 'list-pane' }, tabs, listEl), convPane, profilePane));

  // ---- list
  function sorted() {
    const all = [...ctx.convs.values()].filter((c) =>
      filter === 'all' || (filter === 'queue' ? c.status === 'queued' : c.operator_id === ctx.myId));
    const last = (c) => { const m = ctx.lastMsg.get(c.id); return m ? m.created_at : c.created_at; };
    return all.sort((a, b) => {
      if (a.status !== b.status) return a.status === 'queued' ? -1 : 1;
      if (a.status === 'queued') return (a.queue_position || 0) - (b.queue_position || 0) || a.created_at.localeCompare(b.created_at);
      return last(b).localeCompare(last(a));
    });
  }

  function renderTabs() {
    const counts = { all: ctx.convs.size, mine: 0, queue: 0 };
    for (const c of ctx.convs.values()) { if (c.status === 'queued') counts.queue++; if (c.operator_id === ctx.myId) counts.mine++; }
    fill(tabs, ['all', 'mine', 'queue'].map((k) => h('button', {
      type: 'button', class: `tab${filter === k ? ' active' : ''}`, testid: `filter-${k}`,
      onclick: () => { filter = k; sessionStorage.setItem('sb.filter', k); renderList(); },
    }, t(k), h('span', { class: 'count' }, counts[k]))));
  }

  function renderList() {
    renderTabs();
    const items = sorted();
    if (!items.length) { fill(listEl, h('div', { class: 'empty' }, t('noConversations'))); return; }
    fill(listEl, items.map((c) => {
      const unread = ctx.unread.get(c.id) || 0;
      const last = ctx.lastMsg.get(c.id);
      const typing = ctx.typing.get(c.id);
      const since = waitingSince(ctx, c);
      const isNew = ctx.fresh.has(c.id);
      return h('div', {
        class: `conv-item${isNew ? ' is-new' : ''}${ctx.openId === c.id ? ' is-open' : ''}`, role: 'listitem', tabindex: 0,
        testid: 'conversation', dataset: { conversationId: c.id, status: c.status, channel: c.channel, new: isNew ? 'true' : 'false' },
        onclick: () => openConversation(c.id),
        onkeydown: (e) => { if (e.key === 'Enter') openConversation(c.id); },
      },
      channelIcon(c.channel, 28),
      h('div', { class: 'conv-body' },
        h('div', { class: 'conv-top' }, clientName(ctx, c.client_id),
          last ? h('time', { class: 'muted' }, formatTime(last.created_at)) : null),
        h('div', { class: `conv-preview${typing ? ' is-typing' : ''}` }, typing ? `✎ ${typing}` : last ? last.text || `[${t('attachment')}]` : ''),
        h('div', { class: 'conv-tags' },
          c.status === 'queued' ? h('span', { class: 'pill pill--queue', testid: 'queue-position' }, t('queuePos', { n: c.queue_position || '?' })) : null,
          c.status === 'assigned' && c.operator_id !== ctx.myId ? h('span', { class: 'pill' }, t('assignedTo', { name: ctx.operatorName(c.operator_id) })) : null,
          since ? h('span', { class: 'pill pill--wait', testid: 'waiting', dataset: { since } }, t('waiting', { t: formatDuration((Date.now() - Date.parse(since)) / 1000) })) : null)),
      unread ? h('span', { class: 'badge', testid: 'unread' }, unread > 99 ? '99+' : unread) : null);
    }));
  }

  function tickWaits() {
    for (const el of main.querySelectorAll('[data-since]')) {
      el.textContent = t('waiting', { t: formatDuration((Date.now() - Date.parse(el.dataset.since)) / 1000) });
    }
  }

  // ---- the open conversation
  let open = null; // {conv, client, msgs: Map, cursor, done}
  let msgsEl = null, typingEl = null, headEl = null, composer = null;

  async function openConversation(id) {
    ctx.openId = id;
    ctx.unread.delete(id);
    ctx.fresh.delete(id);
    renderList();
    let conv = ctx.convs.get(id);
    try { conv = await ctx.api.get(`/conversations/${enc(id)}`); } catch (e) { if (!conv) { showError(e); return; } }
    if (ctx.openId !== id) return;
    open = { conv, client: null, msgs: new Map(), cursor: null, done: false };
    buildPane();
    await Promise.all([loadMessages(), loadClient()]);
  }

  async function loadClient() {
    const cid = open.conv.client_id;
    try { open.client = await ctx.api.get(`/clients/${enc(cid)}`); } catch (e) { showError(e); return; }
    ctx.clients.set(cid, Promise.resolve(open.client));
    names.set(cid, clientLabel(open.client) || `#${cid}`);
    renderHead();
    renderProfile();
  }

  async function loadMessages(older) {
    const o = open;
    const q = older && o.cursor ? `&cursor=${enc(o.cursor)}` : '';
    let page;
    try { page = await ctx.api.get(`/clients/${enc(o.conv.client_id)}/messages?limit=${PAGE}${q}`); } catch (e) { showError(e); return; }
    if (open !== o) return;
    for (const m of page.items || []) o.msgs.set(m.id, m);
    if (older || !o.cursor) { o.cursor = page.next_cursor; o.done = !page.next_cursor; }
    renderMessages(older ? 'keep' : 'bottom');
  }

  /** After a reconnect: the messages newer than the newest one shown (pages until a known id). */
  async function catchUp() {
    const o = open;
    if (!o) return;
    try { o.conv = await ctx.api.get(`/conversations/${enc(o.conv.id)}`); } catch { /* keep */ }
    let cursor = null;
    for (let i = 0; i < 10; i++) {
      const page = await ctx.api.get(`/clients/${enc(o.conv.client_id)}/messages?limit=${PAGE}${cursor ? `&cursor=${enc(cursor)}` : ''}`);
      if (open !== o) return;
      let hit = false;
      for (const m of page.items || []) { if (o.msgs.has(m.id)) hit = true; o.msgs.set(m.id, m); }
      cursor = page.next_cursor;
      if (hit || !cursor) break;
    }
    renderHead();
    renderMessages('bottom');
    loadClient();
  }

  function buildPane() {
    headEl = h('div', { class: 'conv-head' });
    msgsEl = h('div', { class: 'messages', testid: 'messages' });
    typingEl = h('div', { class: 'typing', testid: 'typing', hidden: true });
    composer = h('textarea', {
      class: 'composer', testid: 'composer', spellcheck: 'true', rows: 3, placeholder: t('composer'),
      lang: document.documentElement.lang, 'aria-label': t('composer'), maxlength: 65536,
      onkeydown: composerKey,
    });
    const sendBtn = h('button', { class: 'btn btn--primary', type: 'button', testid: 'send', onclick: send }, t('send'));
    const tplBtn = h('button', { class: 'btn', type: 'button', testid: 'templates', title: 'Ctrl+K', onclick: pickTemplate }, t('templates'));
    fill(convPane, headEl, msgsEl, typingEl, h('div', { class: 'composer-row' }, composer, h('div', { class: 'composer-actions' }, tplBtn, sendBtn)));
    renderHead();
    renderTyping();
    renderProfile();
    composer.focus();
  }

  function renderEmpty() {
    fill(convPane, h('div', { class: 'empty empty--big' }, t('selectConversation')));
    fill(profilePane);
  }

  function actionButton(testid, label, fn, cls = '') {
    return h('button', {
      type: 'button', class: `btn ${cls}`, testid,
      onclick: async (e) => {
        const b = e.currentTarget;
        b.disabled = true;
        try { await fn(); } catch (err) { showError(err); } finally { b.disabled = false; }
      },
    }, label);
  }

  function setConv(c) {
    if (!c || !c.id) return;
    if (open && open.conv.id === c.id) open.conv = c;
    renderHead();
  }

  function renderHead() {
    if (!open || !headEl) return;
    const c = open.conv;
    const canAct = c.status === 'queued' || c.status === 'assigned' || c.status === 'bot';
    const path = `/conversations/${enc(c.id)}`;
    fill(headEl,
      channelIcon(c.channel, 32),
      h('div', { class: 'conv-title' },
        h('div', { class: 'conv-name' }, open.client ? clientLabel(open.client) || `#${c.client_id}` : clientName(ctx, c.client_id)),
        h('div', { class: 'muted', testid: 'conversation-status', dataset: { status: c.status } },
          `${c.channel} · ${t(c.status)}`, c.operator_id ? ` · ${ctx.operatorName(c.operator_id)}` : '',
          c.status === 'queued' && c.queue_position ? ` · ${t('queuePos', { n: c.queue_position })}` : '')),
      h('div', { class: 'conv-actions' },
        c.status === 'queued' || (c.status === 'bot') ? actionButton('take', t('take'), async () => setConv(await ctx.api.post(`${path}/take`)), 'btn--primary') : null,
        c.channel === 'callback' && canAct ? [
          actionButton('callback-done', t('callbackDone'), () => callbackResult('done'), 'btn--ok'),
          actionButton('callback-no-answer', t('callbackNoAnswer'), () => callbackResult('no_answer')),
        ] : null,
        canAct ? actionButton('transfer', t('transfer'), transferDialog) : null,
        // the client is asked to rate the conversation (not a phone callback: nowhere to ask)
        canAct ? actionButton('close', t('close'), async () => setConv(await ctx.api.post(`${path}/close`,
          { ask_rating: c.channel !== 'callback' })), 'btn--danger') : null));
  }

  async function callbackResult(result) {
    const path = `/conversations/${enc(open.conv.id)}`;
    await ctx.api.patch(`${path}/attributes`, { callback_result: result });
    setConv(await ctx.api.post(`${path}/close`));
  }

  function renderMessages(scroll) {
    if (!open || !msgsEl) return;
    const atBottom = msgsEl.scrollHeight - msgsEl.scrollTop - msgsEl.clientHeight < 40;
    const fromBottom = msgsEl.scrollHeight - msgsEl.scrollTop;
    const list = [...open.msgs.values()].sort((a, b) => a.created_at.localeCompare(b.created_at) || a.id.localeCompare(b.id, 'en', { numeric: true }));
    const nodes = [];
    if (!open.done) nodes.push(h('button', { class: 'btn btn--ghost load-earlier', type: 'button', testid: 'load-earlier', onclick: () => loadMessages(true) }, t('loadEarlier')));
    let prevConv = null;
    for (const m of list) {
      if (m.conversation_id !== prevConv) {
        nodes.push(h('div', { class: 'conv-sep' }, `#${m.conversation_id} · ${m.channel || ''}`));
        prevConv = m.conversation_id;
      }
      nodes.push(messageView(ctx, m));
    }
    fill(msgsEl, nodes);
    if (scroll === 'keep') msgsEl.scrollTop = msgsEl.scrollHeight - fromBottom;
    else if (scroll === 'bottom' || atBottom) msgsEl.scrollTop = msgsEl.scrollHeight;
  }

  function renderTyping() {
    if (!typingEl || !open) return;
    const text = ctx.typing.get(open.conv.id);
    typingEl.hidden = !text;
    typingEl.textContent = text ? t('typing', { text }) : '';
  }

  // ---- composer
  async function send() {
    const text = composer.value;
    if (!text.trim() || !open) return;
    const o = open;
    composer.value = '';
    try {
      const r = await ctx.api.post(`/conversations/${enc(o.conv.id)}/messages`, { text });
      const m = r && r.message ? r.message : r;
      if (m && m.id && open === o) { o.msgs.set(m.id, m); renderMessages('bottom'); }
    } catch (e) {
      if (!composer.value) composer.value = text; // nothing lost
      showError(e);
    }
  }

  function composerKey(e) {
    if (e.isComposing) return;
    if ((e.key === 'Enter' && !e.shiftKey && !e.ctrlKey && !e.altKey && !e.metaKey) || (e.key === 'Tab' && !e.shiftKey)) {
      const tp = slashTemplate(ctx, composer.value);
      if (tp) { e.preventDefault(); composer.value = ''; insertAtCursor(composer, tp.text); return; }
      if (e.key === 'Enter') { e.preventDefault(); send(); }
      return;
    }
    if ((e.ctrlKey || e.metaKey) && e.key.toLowerCase() === 'k' && !e.shiftKey && !e.altKey) { e.preventDefault(); pickTemplate(); return; }
    const tp = comboTemplate(ctx, e);
    if (tp) { e.preventDefault(); insertAtCursor(composer, tp.text); }
  }

  async function pickTemplate() {
    const chosen = await modal(t('templates'), (close) => {
      const search = h('input', { class: 'input', testid: 'template-search', placeholder: t('searchTemplates'), type: 'search' });
      const list = h('div', { class: 'tpl-list', role: 'listbox' });
      let shown = [];
      let sel = 0;
      const render = () => {
        const q = search.value.trim().toLowerCase();
        shown = ctx.templates.filter((tp) => !q || `${tp.title}\n${tp.text}\n${tp.hotkey || ''}`.toLowerCase().includes(q));
        sel = Math.min(sel, Math.max(0, shown.length - 1));
        if (!shown.length) { fill(list, h('div', { class: 'empty' }, t('noTemplates'))); return; }
        fill(list, shown.map((tp, i) => h('div', {
          class: `tpl-item${i === sel ? ' active' : ''}`, role: 'option', testid: 'template-item', dataset: { templateId: tp.id },
          onclick: () => close(tp),
        }, h('div', { class: 'tpl-title' }, tp.title, tp.hotkey ? h('kbd', {}, tp.hotkey) : null), h('div', { class: 'tpl-text muted' }, tp.text))));
      };
      search.addEventListener('input', () => { sel = 0; render(); });
      search.addEventListener('keydown', (e) => {
        if (e.key === 'ArrowDown') { sel = Math.min(shown.length - 1, sel + 1); render(); e.preventDefault(); }
        else if (e.key === 'ArrowUp') { sel = Math.max(0, sel - 1); render(); e.preventDefault(); }
        else if (e.key === 'Enter') { e.preventDefault(); if (shown[sel]) close(shown[sel]); }
      });
      render();
      return h('div', { class: 'tpl-picker' }, search, list);
    }, 'template-picker');
    if (chosen && composer) { composer.focus(); insertAtCursor(composer, chosen.text); }
  }

  // ---- transfer
  async function transferDialog() {
    const c = open.conv;
    const target = await modal(t('transferTo'), (close) => {
      const note = h('input', { class: 'input', testid: 'transfer-note', placeholder: t('note'), maxlength: 500 });
      const ops = [...ctx.operators.values()].filter((o) => o.id !== ctx.myId && o.role !== undefined)
        .sort((a, b) => (a.status === 'online' ? 0 : 1) - (b.status === 'online' ? 0 : 1) || String(a.name).localeCompare(String(b.name)));
      const groups = [...ctx.groups.values()];
      return h('div', { class: 'transfer' },
        h('h3', {}, t('toOperator')),
        ops.length ? h('div', { class: 'pick-list' }, ops.map((o) => h('button', {
          type: 'button', class: `pick status--${o.status}`, testid: 'transfer-operator', dataset: { operatorId: o.id, status: o.status || '' },
          onclick: () => close({ operator_id: o.id, note: note.value }),
        }, h('span', { class: `dot dot--${o.status}` }), o.name || o.login, h('span', { class: 'muted' }, ` ${t(o.status || 'offline')} · ${o.load ?? 0}/${o.max_conversations ?? '–'}`)))) : h('div', { class: 'empty' }, t('noOperators')),
        h('h3', {}, t('toGroup')),
        h('div', { class: 'pick-list' }, groups.map((g) => h('button', {
          type: 'button', class: 'pick', testid: 'transfer-group', dataset: { groupId: g.id },
          onclick: () => close({ group_id: g.id, note: note.value }),
        }, g.name || g.id, g.id === c.group_id ? h('span', { class: 'muted' }, ' ✓') : null))),
        note);
    }, 'transfer-dialog');
    if (!target) return;
    const body = target.operator_id ? { operator_id: target.operator_id } : { group_id: target.group_id };
    if (target.note && target.note.trim()) body.note = target.note.trim();
    const r = await ctx.api.post(`/conversations/${enc(c.id)}/transfer`, body);
    setConv(r && r.conversation ? r.conversation : r);
  }

  // ---- profile
  function tagEditor(testid, tags, save) {
    const input = h('input', { class: 'input input--small', testid: `${testid}-input`, placeholder: t('addTag'), maxlength: 64 });
    input.addEventListener('keydown', async (e) => {
      if (e.key !== 'Enter') return;
      e.preventDefault();
      const v = input.value.trim();
      if (!v || tags.includes(v)) { input.value = ''; return; }
      try { await save([...tags, v]); input.value = ''; } catch (err) { showError(err); }
    });
    return h('div', { class: 'tags' },
      tags.map((tg) => h('span', { class: 'chip', testid: testid, dataset: { tag: tg } }, tg,
        h('button', { type: 'button', class: 'chip-x', title: t('delete'), testid: `${testid}-remove`, onclick: () => save(tags.filter((x) => x !== tg)).catch(showError) }, '×'))),
      input);
  }

  function renderProfile() {
    if (!open) { fill(profilePane); return; }
    const cl = open.client;
    const conv = open.conv;
    if (!cl) { fill(profilePane, h('h2', {}, t('profile'))); return; }
    const patchClient = async (body) => {
      open.client = await ctx.api.patch(`/clients/${enc(cl.id)}`, body);
      ctx.clients.set(cl.id, Promise.resolve(open.client));
      names.set(cl.id, clientLabel(open.client) || `#${cl.id}`);
      renderProfile();
      renderHead();
    };
    const field = (key, label) => {
      const v = cl[key] || '';
      const span = h('span', { class: 'field-value', testid: `profile-${key}` }, v || '—');
      const row = h('div', { class: 'field' }, h('span', { class: 'field-label' }, label), span);
      row.append(h('button', {
        type: 'button', class: 'icon-btn', title: t('edit'), testid: `profile-${key}-edit`,
        onclick: () => {
          const input = h('input', { class: 'input input--small', value: v, testid: `profile-${key}-input` });
          input.addEventListener('keydown', (e) => {
            if (e.key === 'Enter') patchClient({ [key]: input.value.trim() || null }).catch(showError);
            if (e.key === 'Escape') renderProfile();
          });
          span.replaceWith(input);
          input.focus();
        },
      }, uiIcon('edit')));
      return row;
    };
    const attrs = Object.entries(cl.attributes || {});
    const keyIn = h('input', { class: 'input input--small', testid: 'attr-key', placeholder: t('key'), maxlength: 64 });
    const valIn = h('input', { class: 'input input--small', testid: 'attr-value', placeholder: t('value'), maxlength: 1024 });
    const addAttr = async () => {
      const k = keyIn.value.trim();
      if (!k) { keyIn.focus(); return; }
      try { await patchClient({ attributes: { [k]: valIn.value } }); } catch (e) { showError(e); }
    };
    valIn.addEventListener('keydown', (e) => { if (e.key === 'Enter') addAttr(); });
    fill(profilePane,
      h('h2', {}, t('profile')),
      field('name', t('name')), field('phone', t('phone')), field('email', t('email')),
      h('h3', {}, t('channels')),
      h('div', { class: 'identities' }, (cl.identities || []).map((i) => h('div', { class: 'identity' }, channelIcon(i.channel, 16), ` ${i.instance || ''} · ${i.external_id || ''}`))),
      h('h3', {}, t('attributes')),
      h('div', { class: 'attrs' }, attrs.map(([k, v]) => {
        const text = typeof v === 'string' ? v : JSON.stringify(v);
        const valEl = h('span', { class: 'attr-value' }, text);
        return h('div', { class: 'attr', testid: 'attr-row', dataset: { key: k } },
          h('span', { class: 'attr-key' }, k), valEl,
          h('span', { class: 'attr-btns' },
            h('button', { type: 'button', class: 'icon-btn', title: t('copy'), testid: 'attr-copy', onclick: async () => { if (await copyText(text)) toast(t('copied')); } }, uiIcon('copy')),
            h('button', {
              type: 'button', class: 'icon-btn', title: t('edit'), testid: 'attr-edit',
              onclick: () => {
                const input = h('input', { class: 'input input--small', value: text, testid: 'attr-edit-input' });
                input.addEventListener('keydown', (e) => {
                  if (e.key === 'Enter') patchClient({ attributes: { [k]: input.value } }).catch(showError);
                  if (e.key === 'Escape') renderProfile();
                });
                valEl.replaceWith(input);
                input.focus();
              },
            }, uiIcon('edit')),
            h('button', { type: 'button', class: 'icon-btn', title: t('delete'), testid: 'attr-delete', onclick: () => patchClient({ attributes: { [k]: null } }).catch(showError) }, uiIcon('remove'))));
      })),
      h('div', { class: 'attr-add' }, keyIn, valIn, h('button', { type: 'button', class: 'btn btn--small', testid: 'attr-add', onclick: addAttr }, t('add'))),
      h('h3', {}, t('clientTags')),
      tagEditor('client-tag', cl.tags || [], (tags) => patchClient({ tags })),
      h('h3', {}, t('convTags')),
      tagEditor('conv-tag', conv.tags || [], async (tags) => {
        const r = await ctx.api.put(`/conversations/${enc(conv.id)}/tags`, tags);
        open.conv = r && r.id ? r : { ...open.conv, tags };
        renderProfile();
      }),
      Object.keys(conv.attributes || {}).length ? [h('h3', {}, `${t('attributes')} · #${conv.id}`),
        h('div', { class: 'attrs' }, Object.entries(conv.attributes).map(([k, v]) => h('div', { class: 'attr' }, h('span', { class: 'attr-key' }, k), h('span', { class: 'attr-value' }, typeof v === 'string' ? v : JSON.stringify(v)))))] : null);
  }

  // ---- events
  const off = ctx.on((kind, ev) => {
    if (kind === 'tick') { tickWaits(); return; }
    if (kind === 'message.created' || kind === 'message.updated') {
      if (open && ev.message && ev.message.client_id === open.conv.client_id) {
        open.msgs.set(ev.message.id, ev.message);
        if (kind === 'message.created' && ev.message.direction === 'in') ctx.typing.delete(ev.conversation_id);
        renderMessages();
        renderTyping();
        if (ctx.openId === ev.conversation_id) ctx.unread.delete(ev.conversation_id);
      }
      renderList();
      return;
    }
    if (kind === 'typing') { renderTyping(); renderList(); return; }
    if (kind.startsWith('conversation.')) {
      if (open && ev.conversation && ev.conversation.id === open.conv.id) { open.conv = ev.conversation; renderHead(); }
      renderList();
      return;
    }
    if ((kind === 'client.updated' || kind === 'client.merged') && ev.client) {
      names.set(ev.client.id, clientLabel(ev.client) || `#${ev.client.id}`);
      if (open && ev.client.id === open.conv.client_id) { open.client = ev.client; renderProfile(); renderHead(); }
      renderList();
      return;
    }
    if (kind === 'catchup') { catchUp().catch(showError); renderList(); return; }
    if (kind === 'list' || kind.startsWith('operator.')) renderList();
  });

  renderList();
  if (ctx.openId && ctx.convs.has(ctx.openId)) openConversation(ctx.openId);
  else renderEmpty();

  // Keys pressed outside any field while a conversation is open go to the composer (template hotkeys too).
  const onDocKey = (e) => {
    if (!composer || !open || e.target.closest('input, textarea, select, [role=dialog]')) return;
    const tp = comboTemplate(ctx, e);
    if (tp) { e.preventDefault(); composer.focus(); insertAtCursor(composer, tp.text); }
  };
  document.addEventListener('keydown', onDocKey);
  return () => { off(); document.removeEventListener('keydown', onDocKey); };
}
