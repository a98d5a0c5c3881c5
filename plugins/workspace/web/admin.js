// The supervisor view (live queues, operators, manual assignment) and the
// admin view (operators, groups, templates, plugin instances).
import { t } from './i18n.js';
import { h, fill, formatDuration, formatTime, showError, modal } from './dom.js';
import { channelIcon } from './icons.js';

const enc = encodeURIComponent;

function table(testid, headers, rows) {
  return h('table', { class: 'grid', testid },
    h('thead', {}, h('tr', {}, headers.map((x) => h('th', {}, x)))),
    h('tbody', {}, rows));
}

/** The client's name, filled in when its profile arrives. */
function clientName(ctx, id) {
  const span = h('span', {}, `#${id}`);
  ctx.client(id).then((c) => { if (c) span.textContent = c.name || c.phone || c.email || `#${id}`; });
  return span;
}

// --- supervisor ---------------------------------------------------------------------
export function supervisorView(ctx, main) {
  const queuesEl = h('div');
  const opsEl = h('div');
  const queuedEl = h('div');
  fill(main, h('div', { class: 'page' },
    h('h2', {}, t('queues')), queuesEl,
    h('h2', {}, t('operators')), opsEl,
    h('h2', {}, t('queuedConvs')), queuedEl));

  const longest = (q) => (q.longest_wait_s || 0) + (q.waiting ? (Date.now() - q.at) / 1000 : 0);

  function renderQueues() {
    const ids = new Set([...ctx.groups.keys(), ...ctx.queues.keys()]);
    fill(queuesEl, table('queues', [t('group'), t('waitingCount'), t('longestWait'), t('onlineOps')],
      [...ids].map((id) => {
        const q = ctx.queues.get(id) || { waiting: 0, longest_wait_s: 0, online_operators: 0, at: Date.now() };
        const g = ctx.groups.get(id);
        return h('tr', { testid: 'queue-row', dataset: { groupId: id, waiting: q.waiting } },
          h('td', {}, g ? g.name || id : id),
          h('td', { class: q.waiting ? 'hot' : '' }, q.waiting || 0),
          h('td', { dataset: { queueWait: id } }, q.waiting ? formatDuration(longest(q)) : '—'),
          h('td', {}, q.online_operators ?? '—'));
      })));
  }

  function renderOps() {
    const ops = [...ctx.operators.values()].sort((a, b) => String(a.name || a.login).localeCompare(String(b.name || b.login)));
    fill(opsEl, table('operators-live', [t('name'), t('status'), t('load'), t('groups')],
      ops.map((o) => h('tr', { testid: 'operator-row', dataset: { operatorId: o.id, status: o.status || '' } },
        h('td', {}, o.name || o.login), h('td', {}, h('span', { class: `dot dot--${o.status}` }), ` ${t(o.status || 'offline')}`,
          o.status_since ? h('span', { class: 'muted' }, ` ${t('since', { t: formatTime(o.status_since) })}`) : null),
        h('td', {}, `${o.load ?? 0} / ${o.max_conversations ?? '–'}`), h('td', {}, (o.groups || []).join(', '))))));
  }

  function renderQueued() {
    const queued = [...ctx.convs.values()].filter((c) => c.status === 'queued')
      .sort((a, b) => a.created_at.localeCompare(b.created_at));
    const ops = [...ctx.operators.values()].filter((o) => o.status !== 'offline');
    fill(queuedEl, queued.length ? table('queued', ['', t('group'), t('waitingCount'), t('assign')], queued.map((c) => {
      const sel = h('select', { class: 'input input--small', testid: 'assign-operator' },
        h('option', { value: '' }, t('chooseOperator')),
        ops.map((o) => h('option', { value: o.id }, `${o.name || o.login} (${o.load ?? 0}/${o.max_conversations ?? '–'})`)));
      return h('tr', { testid: 'queued-row', dataset: { conversationId: c.id } },
        h('td', {}, channelIcon(c.channel, 18), ' ', clientName(ctx, c.client_id), h('span', { class: 'muted' }, ` #${c.id}`)),
        h('td', {}, (ctx.groups.get(c.group_id) || {}).name || c.group_id || ''),
        h('td', { dataset: { since: c.created_at } }, formatDuration((Date.now() - Date.parse(c.created_at)) / 1000)),
        h('td', {}, sel, h('button', {
          type: 'button', class: 'btn btn--small', testid: 'assign',
          onclick: async () => {
            if (!sel.value) return;
            try { await ctx.api.post(`/conversations/${enc(c.id)}/assign`, { operator_id: sel.value }); } catch (e) { showError(e); }
          },
        }, t('assign'))));
    })) : h('div', { class: 'empty' }, t('noConversations')));
  }

  const renderAll = () => { renderQueues(); renderOps(); renderQueued(); };
  renderAll();
  return ctx.on((kind) => {
    if (kind === 'tick') {
      for (const el of queuesEl.querySelectorAll('[data-queue-wait]')) {
        const q = ctx.queues.get(el.dataset.queueWait);
        if (q && q.waiting) el.textContent = formatDuration(longest(q));
      }
      for (const el of queuedEl.querySelectorAll('[data-since]')) el.textContent = formatDuration((Date.now() - Date.parse(el.dataset.since)) / 1000);
      return;
    }
    if (kind === 'queue.stats' || kind.startsWith('group.')) renderQueues();
    if (kind.startsWith('operator.') || kind === 'list') renderOps();
    if (kind.startsWith('conversation.') || kind === 'list' || kind.startsWith('operator.')) renderQueued();
    if (kind === 'catchup') renderAll();
  });
}

// --- admin: one CRUD table per kind ------------------------------------------------------
/**
 * fields: [{key, label, type: 'text'|'number'|'password'|'select'|'list'|'textarea', options, create, edit}]
 * (create/edit false hides a field in that form; 'list' is comma-separated).
 */
function crud(ctx, el, { name, path, fields, columns, idKey = 'id', update = 'PATCH', label }) {
  let items = [];
  const load = async () => {
    try { items = await ctx.api.all(`${path}?limit=500`, 2); } catch (e) { showError(e); items = []; }
    render();
  };
  const form = async (item) => {
    const inputs = {};
    const done = await modal(item ? `${t('edit')}: ${label(item)}` : t('add'), (close) => {
      const rows = fields.filter((f) => (item ? f.edit !== false : f.create !== false)).map((f) => {
        let v = item ? item[f.key] : f.default;
        if (f.type === 'list') v = (v || []).join(', ');
        let input;
        if (f.type === 'select') input = h('select', { class: 'input' }, f.options.map((o) => h('option', { value: o, selected: o === v }, o)));
        else if (f.type === 'textarea') input = h('textarea', { class: 'input', rows: 4, spellcheck: 'true' });
        else input = h('input', { class: 'input', type: f.type === 'number' ? 'number' : f.type === 'password' ? 'password' : 'text' });
        if (f.type !== 'select') input.value = v === null || v === undefined ? '' : String(v);
        input.setAttribute('data-testid', `${name}-${f.key}`);
        inputs[f.key] = input;
        return h('label', { class: 'form-row' }, f.label, input, f.help ? h('span', { class: 'muted small' }, f.help) : null);
      });
      return h('form', {
        class: 'form',
        onsubmit: (e) => { e.preventDefault(); close(true); },
      }, rows, h('div', { class: 'form-actions' },
        h('button', { type: 'button', class: 'btn btn--ghost', onclick: () => close(null) }, t('cancel')),
        h('button', { type: 'submit', class: 'btn btn--primary', testid: `${name}-save` }, t('save'))));
    }, `${name}-form`);
    if (!done) return;
    const body = {};
    for (const [k, input] of Object.entries(inputs)) {
      const f = fields.find((x) => x.key === k);
      let v = input.value;
      if (f.type === 'number') { if (v === '') continue; v = Number(v); }
      else if (f.type === 'list') v = v.split(',').map((s) => s.trim()).filter(Boolean);
      else if (f.type === 'password' && !v) continue;
      else if (f.nullable && v === '') v = null;
      body[k] = v;
    }
    try {
      if (item) await ctx.api.call(update, `${path}/${enc(item[idKey])}`, body);
      else await ctx.api.post(path, body);
      await load();
    } catch (e) { showError(e); }
  };
  const render = () => {
    fill(el,
      h('div', { class: 'toolbar' }, h('button', { type: 'button', class: 'btn btn--primary', testid: `${name}-add`, onclick: () => form(null) }, t('add'))),
      table(`${name}-table`, [...columns.map((c) => c.label), ''], items.map((it) => h('tr', { testid: `${name}-row`, dataset: { id: it[idKey] } },
        columns.map((c) => h('td', {}, c.render ? c.render(it) : it[c.key] ?? '')),
        h('td', { class: 'row-actions' },
          h('button', { type: 'button', class: 'btn btn--small', testid: `${name}-edit`, onclick: () => form(it) }, t('edit')),
          h('button', {
            type: 'button', class: 'btn btn--small btn--danger', testid: `${name}-delete`,
            onclick: async () => {
              const ok = await modal(t('confirmDelete', { name: label(it) }), (close) => h('div', { class: 'form-actions' },
                h('button', { type: 'button', class: 'btn btn--ghost', onclick: () => close(null) }, t('cancel')),
                h('button', { type: 'button', class: 'btn btn--danger', testid: 'confirm-delete', onclick: () => close(true) }, t('delete'))));
              if (!ok) return;
              try { await ctx.api.del(`${path}/${enc(it[idKey])}`); await load(); } catch (e) { showError(e); }
            },
          }, t('delete')))))));
  };
  load();
  return load;
}

export function adminView(ctx, main) {
  const tabs = [
    ['operators', t('operators')], ['groups', t('groups')], ['templates', t('templates')], ['plugins', t('plugins')],
  ];
  let current = sessionStorage.getItem('sb.adminTab') || 'operators';
  const tabsEl = h('div', { class: 'tabs' });
  const body = h('div', { class: 'page-body' });
  fill(main, h('div', { class: 'page' }, tabsEl, body));

  const show = () => {
    fill(tabsEl, tabs.map(([k, label]) => h('button', {
      type: 'button', class: `tab${k === current ? ' active' : ''}`, testid: `admin-tab-${k}`,
      onclick: () => { current = k; sessionStorage.setItem('sb.adminTab', k); show(); },
    }, label)));
    body.replaceChildren();
    if (current === 'operators') {
      crud(ctx, body, {
        name: 'operator', path: '/operators', label: (o) => o.login,
        fields: [
          { key: 'login', label: t('login'), edit: false },
          { key: 'name', label: t('name') },
          { key: 'password', label: t('password'), type: 'password' },
          { key: 'role', label: t('role'), type: 'select', options: ['operator', 'supervisor', 'admin'], default: 'operator' },
          { key: 'groups', label: t('groups'), type: 'list' },
          { key: 'max_conversations', label: t('maxConversations'), type: 'number', default: 5 },
        ],
        columns: [
          { key: 'login', label: t('login') }, { key: 'name', label: t('name') }, { key: 'role', label: t('role') },
          { label: t('groups'), render: (o) => (o.groups || []).join(', ') },
          { label: t('status'), render: (o) => t(o.status || 'offline') },
          { label: t('load'), render: (o) => `${o.load ?? 0} / ${o.max_conversations ?? '–'}` },
        ],
      });
    } else if (current === 'groups') {
      crud(ctx, body, {
        name: 'group', path: '/groups', label: (g) => g.name || g.id,
        fields: [
          { key: 'id', label: t('id'), edit: false },
          { key: 'name', label: t('name') },
          { key: 'strategy', label: t('strategy'), type: 'select', options: ['least_busy', 'round_robin', 'longest_idle', 'skills', 'manual'], default: 'least_busy' },
          { key: 'max_per_operator', label: t('maxPerOperator'), type: 'number', default: 3 },
        ],
        columns: [
          { key: 'id', label: t('id') }, { key: 'name', label: t('name') }, { key: 'strategy', label: t('strategy') },
          { key: 'max_per_operator', label: t('maxPerOperator') }, { label: t('waitingCount'), render: (g) => g.waiting ?? 0 },
        ],
      });
    } else if (current === 'templates') {
      crud(ctx, body, {
        name: 'template', path: '/templates', update: 'PUT', label: (x) => x.title,
        fields: [
          { key: 'title', label: t('title') },
          { key: 'text', label: t('text'), type: 'textarea' },
          { key: 'hotkey', label: t('hotkey'), nullable: true, help: t('hotkeyHelp') },
        ],
        columns: [
          { key: 'title', label: t('title') }, { label: t('text'), render: (x) => h('span', { class: 'clip' }, x.text) },
          { label: t('hotkey'), render: (x) => (x.hotkey ? h('kbd', {}, x.hotkey) : '') },
        ],
      });
    } else {
      const load = async () => {
        let items = [];
        try { const r = await ctx.api.get('/plugins'); items = Array.isArray(r) ? r : (r && r.items) || []; } catch (e) { showError(e); }
        fill(body, h('div', { class: 'toolbar' }, h('button', { type: 'button', class: 'btn', testid: 'plugins-refresh', onclick: load }, t('refresh'))),
          table('plugins-table', [t('plugin'), t('instance'), t('kind'), t('version'), t('state'), t('lastError')],
            items.map((p) => h('tr', { testid: 'plugin-row', dataset: { name: p.name, instance: p.instance, state: p.state } },
              h('td', {}, p.name), h('td', {}, p.instance), h('td', {}, p.kind), h('td', {}, p.version || ''),
              h('td', {}, h('span', { class: `state state--${p.state}` }, p.state)), h('td', { class: 'error-text' }, p.last_error || '')))));
      };
      load();
    }
  };
  show();
  return () => {};
}
