// DOM helpers. Everything user-supplied reaches the page through textContent or attributes set
// one by one: never through innerHTML, so message text cannot become markup.

/// h('div.cls#id', {attrs, on: {click}}, ...children): children are nodes or strings (as text).
export function h(tag, attrs, ...children) {
  const [name, ...rest] = tag.split(/(?=[.#])/);
  const el = document.createElement(name || 'div');
  for (const r of rest) {
    if (r[0] === '.') el.classList.add(r.slice(1));
    else if (r[0] === '#') el.id = r.slice(1);
  }
  if (attrs && (typeof attrs !== 'object' || attrs instanceof Node || Array.isArray(attrs))) {
    children.unshift(attrs);
    attrs = null;
  }
  if (attrs) {
    for (const [k, v] of Object.entries(attrs)) {
      if (v === undefined || v === null || v === false) continue;
      if (k === 'on') {
        for (const [ev, fn] of Object.entries(v)) el.addEventListener(ev, fn);
      } else if (k === 'dataset') {
        Object.assign(el.dataset, v);
      } else if (k === 'text') {
        el.textContent = v;
      } else if (k in el && typeof v !== 'string') {
        el[k] = v;
      } else {
        el.setAttribute(k, v === true ? '' : String(v));
      }
    }
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else if (c instanceof Node) el.appendChild(c);
    else el.appendChild(document.createTextNode(String(c)));
  }
}

export function clear(el) {
  while (el.firstChild) el.removeChild(el.firstChild);
  return el;
}

export const $ = (sel, root = document) => root.querySelector(sel);

const URL_RE = /\bhttps?:\/\/[^\s<>"']+/gi;

/// Text with http(s) links made clickable: a fragment of text nodes and <a> elements.
export function linkify(text) {
  const frag = document.createDocumentFragment();
  let last = 0;
  for (const m of text.matchAll(URL_RE)) {
    let url = m[0];
    // Trailing punctuation is usually the sentence's, not the link's.
    const trail = url.match(/[.,;:!?)\]]+$/);
    if (trail) url = url.slice(0, -trail[0].length);
    let ok = false;
    try { ok = ['http:', 'https:'].includes(new URL(url).protocol); } catch { ok = false; }
    if (!ok) continue;
    if (m.index > last) frag.appendChild(document.createTextNode(text.slice(last, m.index)));
    frag.appendChild(h('a', { href: url, target: '_blank', rel: 'noopener noreferrer nofollow' }, url));
    last = m.index + url.length;
  }
  if (last < text.length) frag.appendChild(document.createTextNode(text.slice(last)));
  return frag;
}

/// Text with @mentions of known usernames emphasised, and links clickable.
export function richText(text, usernames) {
  const frag = document.createDocumentFragment();
  if (!usernames || usernames.size === 0) { frag.appendChild(linkify(text)); return frag; }
  let last = 0;
  for (const m of text.matchAll(/(^|[^\w@])@([a-z0-9_.-]{3,32})/gi)) {
    const name = m[2].toLowerCase();
    if (!usernames.has(name)) continue;
    const start = m.index + m[1].length;
    frag.appendChild(linkify(text.slice(last, start)));
    frag.appendChild(h('span.mention', `@${m[2]}`));
    last = start + 1 + m[2].length;
  }
  frag.appendChild(linkify(text.slice(last)));
  return frag;
}

export function initials(name) {
  const parts = String(name || '?').trim().split(/\s+/).filter(Boolean);
  const s = parts.length > 1 ? parts[0][0] + parts[1][0] : (parts[0] || '?').slice(0, 2);
  return s.toUpperCase();
}

/// A stable hue per id, for avatars.
export function hue(id) {
  let x = 0;
  for (const ch of String(id)) x = (x * 31 + ch.charCodeAt(0)) >>> 0;
  return x % 360;
}

export function avatar(user, size = 'md') {
  const name = (user && (user.display_name || user.username)) || '?';
  const el = h(`span.avatar.avatar-${size}`, { 'aria-hidden': 'true' }, initials(name));
  el.style.setProperty('--hue', String(hue(user && user.id)));
  return el;
}

export function timeShort(iso) {
  if (!iso) return '';
  const d = new Date(iso);
  const now = new Date();
  if (d.toDateString() === now.toDateString()) {
    return d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
  }
  return d.toLocaleDateString([], { month: 'short', day: 'numeric' });
}

export function timeLong(iso) {
  return iso ? new Date(iso).toLocaleString() : '';
}

export function dayLabel(iso) {
  const d = new Date(iso);
  const today = new Date();
  const y = new Date(); y.setDate(today.getDate() - 1);
  if (d.toDateString() === today.toDateString()) return 'Today';
  if (d.toDateString() === y.toDateString()) return 'Yesterday';
  return d.toLocaleDateString([], { weekday: 'long', month: 'long', day: 'numeric' });
}

export function fileSize(n) {
  if (n == null) return '';
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KB`;
  return `${(n / 1024 / 1024).toFixed(1)} MB`;
}

export function uuid() {
  if (crypto.randomUUID) return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
}
