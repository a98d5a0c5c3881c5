/* Switchboard web-chat widget and omnibutton. One script tag embeds it:
 *   <script src="https://chat.example/webchat/widget.js" data-site-key="KEY" async></script>
 * Plain ES5-level JavaScript, no framework; everything lives in a shadow
 * root so the site's CSS and ours never meet. User text is only ever set
 * with textContent. The visitor API is described in plugins/webchat/README.md. */
(function () {
  'use strict';
  if (window.__sbWebchat) return;
  window.__sbWebchat = true;

  var script = document.currentScript || document.querySelector('script[data-site-key]');
  if (!script) return;
  var SITE = script.getAttribute('data-site-key') || '';
  var BASE = new URL(script.src, location.href).origin;
  var API = BASE + '/webchat/api/';
  var STORE = 'sb_visitor_' + SITE.replace(/[^A-Za-z0-9_.-]/g, '');

  var TEXT = {
    ru: {
      title: 'Напишите нам', open: 'Открыть чат', close: 'Закрыть', placeholder: 'Сообщение…',
      send: 'Отправить', attach: 'Прикрепить файл', menu: 'Как с вами связаться?',
      chat: 'Чат на сайте', back: 'Назад', tooBig: 'Файл слишком большой: не больше ',
      badType: 'Файлы этого типа не принимаются', failed: 'Не отправлено. Проверьте связь.',
      rate: 'Оцените, пожалуйста, разговор', thanks: 'Спасибо за оценку!',
      cbTitle: 'Обратный звонок', phone: 'Телефон', name: 'Имя', when: 'Когда позвонить',
      now: 'Сейчас', cbSend: 'Перезвоните мне', cbDone: 'Спасибо! Мы вам перезвоним.',
      cbClosed: 'Сейчас мы не работаем: выберите время', mb: ' МБ', empty: 'Задайте вопрос — мы ответим здесь.'
    },
    en: {
      title: 'Chat with us', open: 'Open chat', close: 'Close', placeholder: 'Message…',
      send: 'Send', attach: 'Attach a file', menu: 'How shall we talk?',
      chat: 'Chat on this site', back: 'Back', tooBig: 'The file is too big: at most ',
      badType: 'Files of this type are not accepted', failed: 'Not sent. Check your connection.',
      rate: 'Please rate the conversation', thanks: 'Thank you for rating!',
      cbTitle: 'Call me back', phone: 'Phone', name: 'Name', when: 'When to call',
      now: 'Now', cbSend: 'Call me back', cbDone: 'Thank you! We will call you back.',
      cbClosed: 'We are closed now: pick a time', mb: ' MB', empty: 'Ask a question: we answer here.'
    }
  };

  function pickLang(conf) {
    if (conf === 'ru' || conf === 'en') return conf;
    var nav = (navigator.languages && navigator.languages[0]) || navigator.language || 'ru';
    return /^en\b/i.test(nav) ? 'en' : 'ru';
  }
  var lang = pickLang(script.getAttribute('data-lang'));
  function t(k) { return TEXT[lang][k]; }

  var CSS = [
    ':host{all:initial}',
    '*{box-sizing:border-box;font-family:system-ui,-apple-system,"Segoe UI",Roboto,Arial,sans-serif}',
    '.sbw-launcher{position:fixed;bottom:20px;width:60px;height:60px;border-radius:50%;border:0;cursor:pointer;',
    'background:#1f6feb;color:#fff;box-shadow:0 4px 14px rgba(0,0,0,.25);z-index:2147483000;display:flex;',
    'align-items:center;justify-content:center}',
    '.sbw-launcher svg{width:28px;height:28px;fill:#fff}',
    '.sbw-right{right:20px}.sbw-left{left:20px}',
    '.sbw-badge{position:absolute;top:-2px;right:-2px;min-width:20px;height:20px;border-radius:10px;',
    'background:#d1242f;color:#fff;font-size:12px;line-height:20px;text-align:center;padding:0 5px}',
    '.sbw-panel{position:fixed;bottom:90px;width:370px;height:560px;max-height:calc(100vh - 110px);',
    'background:#fff;color:#1f2328;border-radius:14px;box-shadow:0 8px 30px rgba(0,0,0,.25);',
    'z-index:2147483001;display:flex;flex-direction:column;overflow:hidden;font-size:14px}',
    '.sbw-hidden{display:none!important}',
    '.sbw-head{background:#1f6feb;color:#fff;padding:12px 14px;display:flex;align-items:center;gap:8px}',
    '.sbw-head b{flex:1;font-size:16px}',
    '.sbw-icon{background:transparent;border:0;color:inherit;cursor:pointer;font-size:20px;line-height:1;padding:4px}',
    '.sbw-view{flex:1;display:flex;flex-direction:column;min-height:0}',
    '.sbw-menu{padding:14px;overflow:auto}',
    '.sbw-menu p{margin:0 0 10px;color:#57606a}',
    '.sbw-ch{display:flex;align-items:center;gap:10px;width:100%;padding:11px 12px;margin:0 0 8px;',
    'border:1px solid #d0d7de;border-radius:10px;background:#f6f8fa;color:#1f2328;text-decoration:none;',
    'cursor:pointer;font-size:15px;text-align:left}',
    '.sbw-ch:hover{background:#eaeef2}',
    '.sbw-dot{width:26px;height:26px;border-radius:50%;flex:none;background:#8c959f}',
    '.sbw-k-webchat{background:#1f6feb}.sbw-k-telegram{background:#2aabee}.sbw-k-whatsapp{background:#25d366}',
    '.sbw-k-viber{background:#7360f2}.sbw-k-vk{background:#0077ff}.sbw-k-facebook{background:#0866ff}',
    '.sbw-k-instagram{background:#e1306c}.sbw-k-callback{background:#2da44e}',
    '.sbw-log{flex:1;overflow-y:auto;padding:12px;display:flex;flex-direction:column;gap:8px;background:#f6f8fa}',
    '.sbw-empty{color:#57606a;text-align:center;margin:auto 0}',
    '.sbw-msg{max-width:82%;padding:8px 11px;border-radius:12px;white-space:pre-wrap;word-wrap:break-word;',
    'overflow-wrap:anywhere;line-height:1.35}',
    '.sbw-in{align-self:flex-end;background:#1f6feb;color:#fff;border-bottom-right-radius:3px}',
    '.sbw-out{align-self:flex-start;background:#fff;border:1px solid #d0d7de;border-bottom-left-radius:3px}',
    '.sbw-pending{opacity:.6}.sbw-failed{outline:2px solid #d1242f}',
    '.sbw-msg img{max-width:100%;max-height:220px;display:block;border-radius:8px;margin-top:4px}',
    '.sbw-msg a{color:inherit}',
    '.sbw-btns{display:flex;flex-wrap:wrap;gap:6px;margin-top:8px}',
    '.sbw-btn{border:1px solid #1f6feb;color:#1f6feb;background:#fff;border-radius:14px;padding:5px 11px;cursor:pointer}',
    '.sbw-btn:disabled{opacity:.5;cursor:default}',
    '.sbw-star{border:0;background:transparent;font-size:26px;color:#d4a72c;cursor:pointer;padding:0 2px}',
    '.sbw-star:disabled{cursor:default}',
    '.sbw-note{padding:6px 12px;background:#fff8c5;color:#4d2d00;font-size:13px}',
    '.sbw-compose{display:flex;gap:6px;padding:8px;border-top:1px solid #d0d7de;align-items:flex-end}',
    '.sbw-compose textarea{flex:1;resize:none;border:1px solid #d0d7de;border-radius:10px;padding:8px;',
    'font-size:15px;max-height:120px;min-height:38px}',
    '.sbw-send{background:#1f6feb;color:#fff;border:0;border-radius:10px;padding:9px 12px;cursor:pointer}',
    '.sbw-attach{background:#f6f8fa;border:1px solid #d0d7de;border-radius:10px;padding:8px;cursor:pointer;color:#57606a;',
    'display:flex}.sbw-attach svg{width:20px;height:20px}',
    '.sbw-form{padding:14px;display:flex;flex-direction:column;gap:10px;overflow:auto}',
    '.sbw-form label{display:flex;flex-direction:column;gap:4px;color:#57606a;font-size:13px}',
    '.sbw-form input,.sbw-form select{border:1px solid #d0d7de;border-radius:8px;padding:9px;font-size:15px;color:#1f2328}',
    '@media (max-width:480px){.sbw-panel{left:0!important;right:0!important;top:0;bottom:0;width:100%;',
    'height:100%;max-height:none;border-radius:0}}'
  ].join('');

  // ---- small DOM helpers (text only through textContent) ----
  function el(tag, cls, text, attrs) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = String(text);
    for (var k in attrs || {}) if (Object.prototype.hasOwnProperty.call(attrs, k)) e.setAttribute(k, attrs[k]);
    return e;
  }
  function icon(d, filled) {
    var ns = 'http://www.w3.org/2000/svg';
    var svg = document.createElementNS(ns, 'svg');
    svg.setAttribute('viewBox', '0 0 24 24');
    var p = document.createElementNS(ns, 'path');
    p.setAttribute('d', d);
    if (!filled) p.setAttribute('style', 'fill:none;stroke:currentColor;stroke-width:2;stroke-linecap:round');
    svg.appendChild(p);
    return svg;
  }
  function rid() {
    var b = new Uint8Array(12);
    (window.crypto || window.msCrypto).getRandomValues(b);
    return Array.prototype.map.call(b, function (x) { return (x < 16 ? '0' : '') + x.toString(16); }).join('');
  }
  function safeUrl(u) {
    if (typeof u !== 'string') return null;
    if (/^\/[^/\\]/.test(u)) return BASE + u;
    return /^(https?:|viber:|tg:|whatsapp:)/i.test(u) ? u : null;
  }
  function getStored() {
    var v = null;
    try { v = localStorage.getItem(STORE); } catch (e) { /* storage off */ }
    if (!v) {
      var m = document.cookie.match(new RegExp('(?:^|; )' + STORE + '=([^;]*)'));
      v = m ? decodeURIComponent(m[1]) : null;
    }
    return v;
  }
  function setStored(v) {
    try { if (v) localStorage.setItem(STORE, v); else localStorage.removeItem(STORE); } catch (e) { /* off */ }
    document.cookie = STORE + '=' + (v ? encodeURIComponent(v) : '') + ';path=/;max-age=' +
      (v ? 31536000 : 0) + ';SameSite=Lax';
  }

  // ---- HTTP ----
  function call(method, path, body, ctype) {
    var url = API + path + (path.indexOf('?') < 0 ? '?' : '&') + 'k=' + encodeURIComponent(SITE) +
      (state.visitor ? '&v=' + encodeURIComponent(state.visitor) : '');
    var opts = { method: method, credentials: 'omit' };
    if (body !== undefined) {
      // text/plain keeps JSON posts "simple" (no CORS preflight).
      opts.body = ctype ? body : JSON.stringify(body);
      opts.headers = { 'Content-Type': ctype || 'text/plain;charset=UTF-8' };
    }
    return fetch(url, opts).then(function (r) {
      return r.text().then(function (txt) {
        var j = null;
        try { j = txt ? JSON.parse(txt) : null; } catch (e) { j = null; }
        if (r.status === 403 && j && j.error && j.error.code === 'bad_visitor') restart();
        if (!r.ok) {
          var err = new Error((j && j.error && j.error.message) || ('HTTP ' + r.status));
          err.status = r.status;
          throw err;
        }
        return j;
      });
    });
  }

  // ---- state ----
  var state = { visitor: getStored(), seq: 0, cfg: null, ws: null, wsOk: false, open: false,
    unread: 0, started: false, rendered: {}, pendingEls: {}, pollGen: 0, retry: 0 };

  // ---- building the UI ----
  var host = el('div', null, null, { id: 'sb-webchat' });
  var root = host.attachShadow ? host.attachShadow({ mode: 'open' }) : host;
  root.appendChild(el('style', null, CSS));
  var launcher = el('button', 'sbw-launcher sbw-right', null,
    { 'data-testid': 'sb-launcher', type: 'button', 'aria-label': t('open') });
  launcher.appendChild(icon('M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H8l-4 4V6a2 2 0 0 1 2-2z', true));
  var badge = el('span', 'sbw-badge sbw-hidden');
  launcher.appendChild(badge);

  var panel = el('div', 'sbw-panel sbw-hidden', null, { role: 'dialog', 'data-testid': 'sb-panel' });
  var head = el('div', 'sbw-head');
  var backBtn = el('button', 'sbw-icon sbw-hidden', '‹', { type: 'button', 'aria-label': t('back') });
  var titleEl = el('b', null, t('title'));
  var closeBtn = el('button', 'sbw-icon', '×', { type: 'button', 'aria-label': t('close'), 'data-testid': 'sb-close' });
  head.appendChild(backBtn); head.appendChild(titleEl); head.appendChild(closeBtn);
  panel.appendChild(head);

  var menuView = el('div', 'sbw-view sbw-menu sbw-hidden', null, { 'data-testid': 'sb-menu' });
  var chatView = el('div', 'sbw-view sbw-hidden');
  var log = el('div', 'sbw-log', null, { 'data-testid': 'sb-log', 'aria-live': 'polite' });
  var emptyEl = el('div', 'sbw-empty', t('empty'));
  log.appendChild(emptyEl);
  var note = el('div', 'sbw-note sbw-hidden', null, { 'data-testid': 'sb-notice', role: 'status' });
  var compose = el('div', 'sbw-compose');
  var fileInput = el('input', 'sbw-hidden', null, { type: 'file', 'data-testid': 'sb-file' });
  var attachBtn = el('button', 'sbw-attach', null, { type: 'button', 'aria-label': t('attach'), title: t('attach') });
  attachBtn.appendChild(icon('M16.5 6.5 8.6 14.4a2 2 0 0 0 2.8 2.8l8-8a4 4 0 0 0-5.7-5.7l-8 8a6 6 0 0 0 8.5 8.5l7-7'));
  var input = el('textarea', null, null, { rows: '1', 'data-testid': 'sb-input', placeholder: t('placeholder'), spellcheck: 'true' });
  var sendBtn = el('button', 'sbw-send', t('send'), { type: 'button', 'data-testid': 'sb-send' });
  compose.appendChild(fileInput); compose.appendChild(attachBtn); compose.appendChild(input); compose.appendChild(sendBtn);
  chatView.appendChild(log); chatView.appendChild(note); chatView.appendChild(compose);
  var cbView = el('div', 'sbw-view sbw-form sbw-hidden', null, { 'data-testid': 'sb-callback' });
  panel.appendChild(menuView); panel.appendChild(chatView); panel.appendChild(cbView);
  root.appendChild(launcher);
  root.appendChild(panel);

  function show(view) {
    [menuView, chatView, cbView].forEach(function (v) { v.classList.toggle('sbw-hidden', v !== view); });
    var hasMenu = state.cfg && state.cfg.channels && state.cfg.channels.length > 0;
    backBtn.classList.toggle('sbw-hidden', view === menuView || !hasMenu);
    if (view === chatView) {
      state.unread = 0;
      renderBadge();
      log.scrollTop = log.scrollHeight;
      input.focus();
    }
  }
  function renderBadge() {
    badge.textContent = String(state.unread);
    badge.classList.toggle('sbw-hidden', state.unread === 0);
  }
  function notice(text) {
    note.textContent = text || '';
    note.classList.toggle('sbw-hidden', !text);
  }
  function setOpen(open) {
    state.open = open;
    panel.classList.toggle('sbw-hidden', !open);
    if (!open) return;
    var chans = (state.cfg && state.cfg.channels) || [];
    show(chans.length ? menuView : chatView);
  }

  // ---- omnibutton ----
  function renderMenu() {
    menuView.textContent = '';
    menuView.appendChild(el('p', null, t('menu')));
    (state.cfg.channels || []).forEach(function (c) {
      var isLink = c.kind !== 'webchat' && c.kind !== 'callback';
      var url = isLink ? safeUrl(c.url) : null;
      if (isLink && !url) return;
      var item = el(isLink ? 'a' : 'button', 'sbw-ch', null, { 'data-testid': 'sb-channel', 'data-kind': c.kind });
      if (isLink) { item.href = url; item.target = '_blank'; item.rel = 'noopener noreferrer'; } else item.type = 'button';
      item.appendChild(el('span', 'sbw-dot sbw-k-' + c.kind));
      item.appendChild(el('span', null, c.title));
      if (c.kind === 'webchat') item.addEventListener('click', function () { show(chatView); });
      if (c.kind === 'callback') item.addEventListener('click', function () { openCallback(c); });
      menuView.appendChild(item);
    });
  }

  // ---- callback form ----
  function openCallback(c) {
    var url = safeUrl(c.url);
    cbView.textContent = '';
    cbView.appendChild(el('b', null, c.title || t('cbTitle')));
    var phone = el('input', null, null, { type: 'tel', autocomplete: 'tel', 'data-testid': 'sb-callback-phone', maxlength: '32' });
    var name = el('input', null, null, { type: 'text', autocomplete: 'name', 'data-testid': 'sb-callback-name', maxlength: '256' });
    var when = el('select', null, null, { 'data-testid': 'sb-callback-time' });
    var lp = el('label', null, t('phone')); lp.appendChild(phone);
    var ln = el('label', null, t('name')); ln.appendChild(name);
    var lw = el('label', null, t('when')); lw.appendChild(when);
    var res = el('div', 'sbw-note sbw-hidden', null, { 'data-testid': 'sb-callback-result', role: 'status' });
    var submit = el('button', 'sbw-send', t('cbSend'), { type: 'button', 'data-testid': 'sb-callback-submit' });
    [lp, ln, lw, res, submit].forEach(function (x) { cbView.appendChild(x); });
    show(cbView);
    if (!url) return;
    var reqId = rid();
    fetch(url + '/slots', { credentials: 'omit' }).then(function (r) { return r.json(); }).then(function (j) {
      if (j.open_now) when.appendChild(el('option', null, t('now'), { value: 'now' }));
      (j.slots || []).forEach(function (s) { when.appendChild(el('option', null, s.label, { value: String(s.at) })); });
      if (!j.open_now) { res.textContent = t('cbClosed'); res.classList.remove('sbw-hidden'); }
    }).catch(function () { when.appendChild(el('option', null, t('now'), { value: 'now' })); });
    submit.addEventListener('click', function () {
      submit.disabled = true;
      var w = when.value === 'now' || !when.value ? 'now' : Number(when.value);
      fetch(url, { method: 'POST', credentials: 'omit', headers: { 'Content-Type': 'text/plain;charset=UTF-8' },
        body: JSON.stringify({ id: reqId, phone: phone.value, name: name.value, when: w }) })
        .then(function (r) {
          return r.json().catch(function () { return null; }).then(function (j) {
            if (!r.ok) throw new Error((j && j.error && j.error.message) || ('HTTP ' + r.status));
            res.textContent = t('cbDone');
            phone.disabled = name.disabled = when.disabled = true;
          });
        }).catch(function (e) { res.textContent = e.message; submit.disabled = false; })
        .then(function () { res.classList.remove('sbw-hidden'); });
    });
  }

  // ---- messages ----
  function renderItem(m) {
    var box = el('div', 'sbw-msg ' + (m.dir === 'in' ? 'sbw-in' : 'sbw-out'), null,
      { 'data-testid': 'sb-message', 'data-seq': String(m.seq || ''), 'data-dir': m.dir });
    var rating = (m.buttons || []).length > 0 && m.buttons.every(function (b) { return /^sb:rate:[1-5]$/.test(b.id); });
    if (m.text) box.appendChild(el('div', null, m.text));
    else if (rating) box.appendChild(el('div', null, t('rate')));
    (m.attachments || []).forEach(function (a) {
      var url = safeUrl(a.url);
      if (!url) return;
      if (a.kind === 'image') {
        var img = el('img', null, null, { alt: a.name || '' });
        img.src = url;
        box.appendChild(img);
      } else {
        var link = el('a', null, a.name || url, { target: '_blank', rel: 'noopener noreferrer' });
        link.href = url;
        box.appendChild(link);
      }
    });
    if ((m.buttons || []).length) {
      var row = el('div', 'sbw-btns');
      m.buttons.forEach(function (b) {
        var star = rating ? Number(b.id.slice(8)) : 0;
        var btn = el('button', rating ? 'sbw-star' : 'sbw-btn', rating ? '★' : b.title,
          { type: 'button', 'data-testid': rating ? 'sb-rate' : 'sb-button', 'data-id': b.id, 'aria-label': b.title || String(star) });
        btn.addEventListener('click', function () {
          Array.prototype.forEach.call(row.querySelectorAll('button'), function (x) { x.disabled = true; });
          sendMessage({ button_id: b.id, text: b.title || (rating ? String(star) : '') });
          if (rating) row.appendChild(el('span', null, ' ' + t('thanks')));
        });
        row.appendChild(btn);
      });
      box.appendChild(row);
    }
    return box;
  }
  function addItems(list) {
    var fresh = 0;
    (list || []).forEach(function (m) {
      if (!m || !m.seq || state.rendered[m.seq]) return;
      state.rendered[m.seq] = true;
      if (m.seq > state.seq) state.seq = m.seq;
      var pend = m.dir === 'in' && state.pendingEls[m.id];
      if (pend) { pend.parentNode && pend.parentNode.removeChild(pend); delete state.pendingEls[m.id]; }
      var node = renderItem(m);
      var after = null;
      Array.prototype.some.call(log.querySelectorAll('[data-seq]'), function (n) {
        if (Number(n.getAttribute('data-seq')) > m.seq) { after = n; return true; }
        return false;
      });
      log.insertBefore(node, after);
      if (m.dir === 'out') fresh++;
    });
    emptyEl.classList.toggle('sbw-hidden', log.querySelector('[data-seq]') !== null);
    if (fresh && (!state.open || chatView.classList.contains('sbw-hidden'))) { state.unread += fresh; renderBadge(); }
    log.scrollTop = log.scrollHeight;
  }

  function sendMessage(msg, tries) {
    msg.id = msg.id || rid();
    if (!msg.button_id && !state.pendingEls[msg.id]) {
      var p = renderItem({ dir: 'in', text: msg.text });
      p.classList.add('sbw-pending');
      p.removeAttribute('data-seq');
      state.pendingEls[msg.id] = p;
      log.appendChild(p);
      emptyEl.classList.add('sbw-hidden');
      log.scrollTop = log.scrollHeight;
    }
    return call('POST', 'message', msg).then(function (j) {
      notice('');
      addItems([j.message]);
    }).catch(function (e) {
      // The same id again is stored once, so a retry is always safe.
      if (!e.status && (tries || 0) < 3) {
        return new Promise(function (res) { setTimeout(res, 1000 * ((tries || 0) + 1)); })
          .then(function () { return sendMessage(msg, (tries || 0) + 1); });
      }
      var pend = state.pendingEls[msg.id];
      if (pend) pend.classList.add('sbw-failed');
      notice(e.status ? e.message : t('failed'));
    });
  }
  function submitInput() {
    var text = input.value;
    if (!text.trim()) return;
    input.value = '';
    typingNow('');
    sendMessage({ text: text });
  }

  // ---- typing preview, throttled ----
  var typingTimer = null, typingLast = 0;
  function typingNow(text) {
    typingLast = Date.now();
    if (state.wsOk) state.ws.send(JSON.stringify({ type: 'typing', text: text }));
    else if (state.started) call('POST', 'typing', { text: text }).catch(function () { /* preview only */ });
  }
  function onTyping() {
    if (typingTimer) return;
    var wait = Math.max(0, 700 - (Date.now() - typingLast));
    typingTimer = setTimeout(function () { typingTimer = null; typingNow(input.value.slice(0, 1024)); }, wait);
  }

  // ---- files ----
  function upload(file) {
    var cfg = state.cfg || {};
    if (cfg.max_file && file.size > cfg.max_file) {
      notice(t('tooBig') + (Math.round(cfg.max_file / 104857.6) / 10) + t('mb'));
      return;
    }
    if (cfg.file_types && cfg.file_types.indexOf(file.type) < 0) { notice(t('badType')); return; }
    var id = rid();
    call('POST', 'upload?id=' + id + '&name=' + encodeURIComponent(file.name.slice(0, 128)), file, file.type)
      .then(function (j) { notice(''); addItems([j.message]); })
      .catch(function (e) {
        notice(e.status === 413 ? t('tooBig') + (Math.round((cfg.max_file || 0) / 104857.6) / 10) + t('mb')
          : e.status === 415 ? t('badType') : e.message);
      });
  }

  // ---- live: WebSocket, else long poll ----
  function connect() {
    var gen = ++state.pollGen;
    if (state.cfgWs && window.WebSocket && !state.noWs) {
      var opened = false;
      var ws = new WebSocket(API.replace(/^http/, 'ws') + 'ws?k=' + encodeURIComponent(SITE) +
        '&v=' + encodeURIComponent(state.visitor) + '&after=' + state.seq);
      state.ws = ws;
      ws.onopen = function () { opened = true; state.wsOk = true; state.retry = 0; };
      ws.onmessage = function (ev) {
        var j = null;
        try { j = JSON.parse(ev.data); } catch (e) { return; }
        if (j && j.type === 'messages') addItems(j.messages);
      };
      ws.onclose = function () {
        state.wsOk = false;
        if (gen !== state.pollGen) return;
        if (!opened) state.noWs = true; // never opened: a proxy in the way; poll instead
        setTimeout(connect, Math.min(10000, 1000 * ++state.retry));
      };
      return;
    }
    (function poll() {
      if (gen !== state.pollGen) return;
      call('GET', 'poll?after=' + state.seq + '&wait=25000').then(function (j) {
        state.retry = 0;
        addItems(j.messages);
        poll();
      }).catch(function () {
        setTimeout(poll, Math.min(10000, 1000 * ++state.retry));
      });
    })();
  }

  function applyConfig(cfg) {
    state.cfg = cfg;
    lang = pickLang(cfg.lang || script.getAttribute('data-lang'));
    titleEl.textContent = cfg.title || t('title');
    input.setAttribute('placeholder', t('placeholder'));
    sendBtn.textContent = t('send');
    emptyEl.textContent = t('empty');
    var left = cfg.position === 'left';
    launcher.classList.toggle('sbw-left', left);
    launcher.classList.toggle('sbw-right', !left);
    panel.style.left = left ? '20px' : '';
    panel.style.right = left ? '' : '20px';
    if (cfg.file_types) fileInput.setAttribute('accept', cfg.file_types.join(','));
    renderMenu();
  }

  function start() {
    return call('POST', 'session', { visitor: state.visitor }).then(function (j) {
      state.visitor = j.visitor;
      setStored(j.visitor);
      state.cfgWs = j.ws;
      state.started = true;
      applyConfig(j.config || {});
      addItems(j.messages);
      connect();
    }).catch(function () {
      setTimeout(start, Math.min(30000, 2000 * ++state.retry));
    });
  }
  function restart() {
    if (state.ws) try { state.ws.close(); } catch (e) { /* gone */ }
    state.pollGen++;
    state.visitor = null;
    state.seq = 0;
    state.rendered = {};
    setStored(null);
    Array.prototype.forEach.call(log.querySelectorAll('[data-seq]'), function (n) { log.removeChild(n); });
    start();
  }

  // ---- events ----
  launcher.addEventListener('click', function () { setOpen(!state.open); });
  closeBtn.addEventListener('click', function () { setOpen(false); });
  backBtn.addEventListener('click', function () { show(menuView); });
  sendBtn.addEventListener('click', submitInput);
  input.addEventListener('keydown', function (e) {
    if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) { e.preventDefault(); submitInput(); }
  });
  input.addEventListener('input', onTyping);
  attachBtn.addEventListener('click', function () { fileInput.click(); });
  fileInput.addEventListener('change', function () {
    if (fileInput.files && fileInput.files[0]) upload(fileInput.files[0]);
    fileInput.value = '';
  });

  function mount() { document.body.appendChild(host); start(); }
  if (document.body) mount(); else document.addEventListener('DOMContentLoaded', mount);
})();
