// Small DOM helpers. Text always goes in as text nodes (textContent), so
// nothing a client or an operator typed is ever parsed as markup.
import { t, lang } from './i18n.js';

/**
 * h('div', {class: 'x', testid: 'send', onclick: fn, dataset: {a: 1}}, 'text', child, [more])
 * Strings and numbers become text nodes; null/false children are skipped.
 */
export function h(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k === 'class') e.className = v;
    else if (k === 'testid') e.setAttribute('data-testid', v);
    else if (k === 'dataset') Object.assign(e.dataset, v);
    else if (k.startsWith('on') && typeof v === 'function') e.addEventListener(k.slice(2), v);
    else if (k === 'value' || k === 'checked' || k === 'disabled' || k === 'selected') e[k] = v;
    else e.setAttribute(k, v === true ? '' : String(v));
  }
  append(e, children);
  return e;
}

function append(e, children) {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    if (Array.isArray(c)) append(e, c);
    else if (c instanceof Node) e.append(c);
    else e.append(document.createTextNode(String(c)));
  }
}

/** Replaces every child of e. */
export function fill(e, ...children) {
  e.replaceChildren();
  append(e, children);
  return e;
}

/** "12:05", or "3 Dec 12:05" for another day. */
export function formatTime(iso) {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '';
  const loc = lang() === 'ru' ? 'ru-RU' : 'en-GB';
  const time = d.toLocaleTimeString(loc, { hour: '2-digit', minute: '2-digit' });
  if (new Date().toDateString() === d.toDateString()) return time;
  return `${d.toLocaleDateString(loc, { day: 'numeric', month: 'short' })} ${time}`;
}

/** Seconds -> "45s", "3:07", "1:02:03" (compact, for waiting times). */
export function formatDuration(s) {
  s = Math.max(0, Math.floor(s));
  const hh = Math.floor(s / 3600), mm = Math.floor((s % 3600) / 60), ss = s % 60;
  if (hh) return `${hh}:${String(mm).padStart(2, '0')}:${String(ss).padStart(2, '0')}`;
  if (mm) return `${mm}:${String(ss).padStart(2, '0')}`;
  return `${ss}s`;
}

export function formatSize(n) {
  if (!n) return '';
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KB`;
  return `${(n / 1024 / 1024).toFixed(1)} MB`;
}

/** Only http(s) and same-origin paths may become a link or a src. */
export function safeUrl(u) {
  if (typeof u !== 'string' || !u) return null;
  try {
    const url = new URL(u, location.href);
    return url.protocol === 'http:' || url.protocol === 'https:' ? url.href : null;
  } catch { return null; }
}

/** Copies text; falls back to a hidden textarea where the Clipboard API is not allowed. */
export async function copyText(text) {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    const ta = h('textarea', { class: 'offscreen', readonly: true });
    ta.value = text;
    document.body.append(ta);
    ta.select();
    const ok = document.execCommand('copy');
    ta.remove();
    return ok;
  }
}

/** A short toast at the bottom of the screen. */
export function toast(message, kind = 'info') {
  let box = document.querySelector('.toasts');
  if (!box) { box = h('div', { class: 'toasts', role: 'status', 'aria-live': 'polite' }); document.body.append(box); }
  const item = h('div', { class: `toast toast--${kind}`, testid: 'toast' }, message);
  box.append(item);
  setTimeout(() => item.remove(), 4000);
}

export function showError(err) {
  toast(t('error', { msg: err && err.message ? err.message : String(err) }), 'error');
}

// --- the new-conversation sound: two short tones made with WebAudio ------------
let audio = null;

/** Creates the audio context; call it from a user gesture (the login click). */
export function unlockAudio() {
  try {
    if (!audio) audio = new (window.AudioContext || window.webkitAudioContext)();
    if (audio.state === 'suspended') audio.resume();
  } catch { audio = null; }
}

export function chime() {
  if (!audio) return;
  const now = audio.currentTime;
  for (const [i, freq] of [880, 1318.5].entries()) {
    const osc = audio.createOscillator();
    const gain = audio.createGain();
    osc.type = 'sine';
    osc.frequency.value = freq;
    const at = now + i * 0.14;
    gain.gain.setValueAtTime(0.0001, at);
    gain.gain.exponentialRampToValueAtTime(0.2, at + 0.02);
    gain.gain.exponentialRampToValueAtTime(0.0001, at + 0.13);
    osc.connect(gain).connect(audio.destination);
    osc.start(at);
    osc.stop(at + 0.14);
  }
}

/** A modal dialog; resolves when closed. build(close) returns the content. */
export function modal(title, build, testid = 'dialog') {
  return new Promise((resolve) => {
    const close = (v) => { back.remove(); document.removeEventListener('keydown', onKey); resolve(v); };
    const onKey = (e) => { if (e.key === 'Escape') close(null); };
    const back = h('div', { class: 'modal-back', onclick: (e) => { if (e.target === back) close(null); } },
      h('div', { class: 'modal', role: 'dialog', 'aria-modal': 'true', testid },
        h('div', { class: 'modal-head' }, h('h2', {}, title),
          h('button', { class: 'icon-btn', type: 'button', title: t('cancel'), onclick: () => close(null) }, '×')),
        build(close)));
    document.body.append(back);
    document.addEventListener('keydown', onKey);
    const first = back.querySelector('input, textarea, select, button:not(.icon-btn)');
    if (first) first.focus();
  });
}
