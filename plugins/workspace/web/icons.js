// Channel icons as inline SVG, built with DOM calls (no markup parsing):
// a coloured disc with a white glyph. Unknown channels get a neutral dot.
const NS = 'http://www.w3.org/2000/svg';
const PHONE = 'M8 5.5l2 3-1.3 1.3a8 8 0 0 0 5.5 5.5l1.3-1.3 3 2-1.5 2.5C12 18.5 5.5 12 5.5 7z';

const CHANNELS = {
  telegram: { color: '#229ED9', g: [['path', { d: 'M5 11.8l13-5-2.3 11-4.2-3.2-2.2 2.1.3-3.6 5.4-5-6.8 4.2z', fill: '#fff' }]] },
  whatsapp: { color: '#25D366', g: [['path', { d: PHONE, fill: '#fff' }]] },
  viber: { color: '#7360F2', g: [['path', { d: PHONE, fill: '#fff' }], ['path', { d: 'M13 5.5a5 5 0 0 1 5 5', stroke: '#fff', fill: 'none', 'stroke-width': 1.4 }]] },
  vk: { color: '#0077FF', g: [['path', { d: 'M5 8h2.2l2.3 5.3L11.8 8H13v8h-1.6v-4.6L9.7 16h-.5L6.6 10.2V16H5z M14.5 8H16v3.2L18.3 8H20l-2.6 3.6L20 16h-1.8l-1.9-3.3-.3.4V16h-1.5z', fill: '#fff' }]] },
  facebook: { color: '#1877F2', g: [['path', { d: 'M13.2 19v-6h2.1l.4-2.5h-2.5V9c0-.7.3-1.3 1.4-1.3h1.2V5.6c-.5-.1-1.2-.2-2-.2-2 0-3.2 1.2-3.2 3.3v1.8H8.5V13h2.1v6z', fill: '#fff' }]] },
  instagram: { color: '#D6249F', g: [['rect', { x: 6, y: 6, width: 12, height: 12, rx: 3.5, stroke: '#fff', fill: 'none', 'stroke-width': 1.6 }], ['circle', { cx: 12, cy: 12, r: 2.8, stroke: '#fff', fill: 'none', 'stroke-width': 1.6 }], ['circle', { cx: 15.6, cy: 8.4, r: 0.9, fill: '#fff' }]] },
  email: { color: '#6B7280', g: [['rect', { x: 5.5, y: 7.5, width: 13, height: 9, rx: 1, stroke: '#fff', fill: 'none', 'stroke-width': 1.5 }], ['path', { d: 'M6 8l6 4.8L18 8', stroke: '#fff', fill: 'none', 'stroke-width': 1.5 }]] },
  webchat: { color: '#0EA5E9', g: [['path', { d: 'M6 7h12v8h-6l-3.5 3v-3H6z', stroke: '#fff', fill: 'none', 'stroke-width': 1.6, 'stroke-linejoin': 'round' }]] },
  apichannel: { color: '#475569', g: [['path', { d: 'M10 7.5l-4 4.5 4 4.5M14 7.5l4 4.5-4 4.5', stroke: '#fff', fill: 'none', 'stroke-width': 1.7, 'stroke-linecap': 'round' }]] },
  callback: { color: '#F59E0B', g: [['path', { d: PHONE, fill: '#fff' }], ['path', { d: 'M14 4.5v5h5M14 9.5l5-5', stroke: '#fff', fill: 'none', 'stroke-width': 1.4 }]] },
};

function el(name, attrs) {
  const e = document.createElementNS(NS, name);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  return e;
}

/** An <svg> for the channel (title = the channel's name, for a tooltip). */
export function channelIcon(channel, size = 20) {
  const spec = CHANNELS[channel] || { color: '#94A3B8', g: [['circle', { cx: 12, cy: 12, r: 3, fill: '#fff' }]] };
  const svg = el('svg', { viewBox: '0 0 24 24', width: size, height: size, class: 'chan-icon', role: 'img' });
  svg.dataset.channel = String(channel || '');
  const title = el('title', {});
  title.textContent = String(channel || '?');
  svg.append(title, el('circle', { cx: 12, cy: 12, r: 12, fill: spec.color }));
  for (const [name, attrs] of spec.g) svg.append(el(name, attrs));
  return svg;
}

export const KNOWN_CHANNELS = Object.keys(CHANNELS);

const UI = {
  copy: [['rect', { x: 8, y: 8, width: 11, height: 11, rx: 2 }], ['path', { d: 'M5 15V6a1 1 0 0 1 1-1h9' }]],
  edit: [['path', { d: 'M5 19l1-4L15.5 5.5a2 2 0 0 1 3 3L9 18z' }]],
  remove: [['path', { d: 'M7 7l10 10M17 7L7 17' }]],
};

/** A small line icon for a button ('copy', 'edit', 'remove'), drawn in the text colour. */
export function uiIcon(name, size = 14) {
  const svg = el('svg', { viewBox: '0 0 24 24', width: size, height: size, fill: 'none', stroke: 'currentColor',
    'stroke-width': 2, 'stroke-linecap': 'round', 'stroke-linejoin': 'round', 'aria-hidden': 'true' });
  for (const [n, attrs] of UI[name] || []) svg.append(el(n, attrs));
  return svg;
}
