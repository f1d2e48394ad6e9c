// Confab's Markdown subset (README, "Formatting"), rendered into DOM nodes: the web client and the
// <confab-room> element both use this file. User text reaches the page only as text nodes and as
// checked attribute values (an http(s)/mailto href, a language name): never through innerHTML, so
// no message can become markup or script. Anything that does not parse stays literal text.
//
// Blocks: ``` fenced code (an optional language name after the fence; unclosed runs to the end),
// "> " quotes, "- "/"* "/"+ " and "1. " lists, paragraphs. Inline: `code`, **bold**/__bold__,
// *italic*/_italic_, ~~strike~~, [text](https://…), <https://…>, bare http(s) links, @mentions,
// and backslash escapes of punctuation.

const SAFE_SCHEMES = new Set(['http:', 'https:', 'mailto:']);
const LANG_RE = /^[A-Za-z0-9_+.#-]{1,32}$/;
const FENCE_RE = /^ {0,3}```[ \t]*([^`\s]*)[ \t]*$/;
const CLOSE_FENCE_RE = /^ {0,3}```[ \t]*$/;
const QUOTE_RE = /^ {0,3}> ?/;
const BULLET_RE = /^ {0,3}[-*+][ \t]+/;
const NUMBER_RE = /^ {0,3}(\d{1,9})[.)][ \t]+/;
const URL_AT = /https?:\/\/[^\s<>"'`]+/iy;
const MENTION_AT = /@([a-z0-9_.-]{3,32})/iy;
const PUNCT = '\\`*_~[]()<>#+-.!@>|{}"\'';
const DELIMS = [['**', 'strong'], ['__', 'strong'], ['~~', 's'], ['*', 'em'], ['_', 'em']];
const MAX_DEPTH = 6;

/** The href a link may have: an absolute http(s) or mailto URL, normalised; otherwise null. */
export function safeUrl(raw) {
  const s = String(raw).trim();
  if (!/^(https?:\/\/|mailto:)[^\s]/i.test(s)) return null;
  try {
    const u = new URL(s);
    return SAFE_SCHEMES.has(u.protocol) ? u.href : null;
  } catch {
    return null;
  }
}

function node(tag, cls, children) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  for (const c of children || []) e.append(c);
  return e;
}

function link(href, children) {
  const a = node('a', 'md-link', children);
  a.setAttribute('href', href);
  a.setAttribute('target', '_blank');
  a.setAttribute('rel', 'noopener noreferrer nofollow');
  return a;
}

/** Splits text into blocks: {type: 'code'|'quote'|'ul'|'ol'|'p', ...}. */
export function parseBlocks(text) {
  const lines = String(text).replace(/\r\n?/g, '\n').split('\n');
  const blocks = [];
  let i = 0;
  const take = (re) => { const out = []; while (i < lines.length && re.test(lines[i])) out.push(lines[i++].replace(re, '')); return out; };
  while (i < lines.length) {
    const line = lines[i];
    const fence = line.match(FENCE_RE);
    if (fence) {
      const body = [];
      i += 1;
      while (i < lines.length && !CLOSE_FENCE_RE.test(lines[i])) body.push(lines[i++]);
      i += 1; // the closing fence (or past the end)
      blocks.push({ type: 'code', lang: LANG_RE.test(fence[1]) ? fence[1] : '', text: body.join('\n') });
    } else if (QUOTE_RE.test(line)) {
      blocks.push({ type: 'quote', text: take(QUOTE_RE).join('\n') });
    } else if (BULLET_RE.test(line)) {
      blocks.push({ type: 'ul', items: take(BULLET_RE) });
    } else if (NUMBER_RE.test(line)) {
      const start = Number(line.match(NUMBER_RE)[1]);
      blocks.push({ type: 'ol', start, items: take(NUMBER_RE) });
    } else if (!line.trim()) {
      i += 1;
    } else {
      const para = [];
      while (i < lines.length && lines[i].trim() && !FENCE_RE.test(lines[i]) && !QUOTE_RE.test(lines[i])
        && !BULLET_RE.test(lines[i]) && !NUMBER_RE.test(lines[i])) para.push(lines[i++]);
      blocks.push({ type: 'p', text: para.join('\n') });
    }
  }
  return blocks;
}

const isSpace = (c) => c === undefined || /\s/.test(c);
const isWord = (c) => c !== undefined && /[\p{L}\p{N}_]/u.test(c);

/** Where the delimiter `d` opened at `open` closes within `text`, or -1. */
function closerOf(text, d, open) {
  let j = open + d.length;
  for (;;) {
    const k = text.indexOf(d, j);
    if (k < 0) return -1;
    const single = d.length === 1 && (text[k + 1] === d || text[k - 1] === d);
    const flanked = !isSpace(text[k - 1]) && !(d[0] === '_' && isWord(text[k + d.length]));
    if (k > open + d.length && !single && flanked) return k;
    j = k + (single ? 2 : 1);
  }
}

/** Inline nodes of `text` (ctx: {mention(name) -> bool, inLink}). */
function inline(text, ctx, depth) {
  if (depth > MAX_DEPTH) return [document.createTextNode(text)];
  const out = [];
  let buf = '';
  const flush = () => { if (buf) out.push(document.createTextNode(buf)); buf = ''; };
  const emit = (n) => { flush(); out.push(n); };
  const noCloser = new Set();
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    if (c === '\\' && i + 1 < text.length && PUNCT.includes(text[i + 1])) { buf += text[i + 1]; i += 2; continue; }
    if (c === '`') {
      let k = i; while (text[k] === '`') k += 1;
      const run = text.slice(i, k);
      const end = text.indexOf(run, k);
      if (end < 0) { buf += run; i = k; continue; }
      let code = text.slice(k, end);
      if (code.length > 1 && code[0] === ' ' && code[code.length - 1] === ' ') code = code.slice(1, -1);
      emit(node('code', 'md-inline-code', [code]));
      i = end + run.length;
      continue;
    }
    if (c === '[' && !ctx.inLink) {
      const close = text.indexOf(']', i + 1);
      const paren = close > 0 && text[close + 1] === '(' ? text.indexOf(')', close + 2) : -1;
      if (paren > 0) {
        const href = safeUrl(text.slice(close + 2, paren));
        if (href) emit(link(href, inline(text.slice(i + 1, close), { ...ctx, inLink: true }, depth + 1)));
        else buf += text.slice(i, paren + 1); // a link to anything else stays literal text
        i = paren + 1;
        continue;
      }
    }
    if (c === '<' && !ctx.inLink) {
      const end = text.indexOf('>', i + 1);
      const inner = end > 0 ? text.slice(i + 1, end) : '';
      const href = /^https?:\/\/\S+$/i.test(inner) ? safeUrl(inner) : null;
      if (href) { emit(link(href, [inner])); i = end + 1; continue; }
    }
    if ((c === 'h' || c === 'H') && !ctx.inLink && !isWord(text[i - 1])) {
      URL_AT.lastIndex = i;
      const m = URL_AT.exec(text);
      if (m) {
        const url = m[0].replace(/[.,;:!?)\]]+$/, '');
        const href = safeUrl(url);
        if (href) { emit(link(href, [url])); i += url.length; continue; }
      }
    }
    if (c === '@' && !isWord(text[i - 1]) && text[i - 1] !== '@') {
      MENTION_AT.lastIndex = i;
      const m = MENTION_AT.exec(text);
      if (m && ctx.mention(m[1].toLowerCase())) { emit(node('span', 'mention', [m[0]])); i += m[0].length; continue; }
    }
    const delim = DELIMS.find(([d]) => text.startsWith(d, i));
    if (delim) {
      const [d, tag] = delim;
      const opens = !isSpace(text[i + d.length]) && !(d[0] === '_' && isWord(text[i - 1]));
      const close = opens && !noCloser.has(d) ? closerOf(text, d, i) : -1;
      if (close > 0) {
        emit(node(tag, `md-${tag}`, inline(text.slice(i + d.length, close), ctx, depth + 1)));
        i = close + d.length;
        continue;
      }
      if (opens) noCloser.add(d); // none later in this text either
      buf += d;
      i += d.length;
      continue;
    }
    buf += c;
    i += 1;
  }
  flush();
  return out;
}

function block(b, ctx) {
  switch (b.type) {
    case 'code': {
      const pre = node('pre', 'md-code', [node('code', null, [b.text])]);
      if (b.lang) { pre.dataset.lang = b.lang; pre.setAttribute('aria-label', `${b.lang} code`); pre.prepend(node('span', 'md-lang', [b.lang])); }
      pre.tabIndex = 0; // scrollable by keyboard
      return pre;
    }
    case 'quote': return node('blockquote', 'md-quote', inline(b.text, ctx, 0));
    case 'ul':
    case 'ol': {
      const list = node(b.type, 'md-list', b.items.map((t) => node('li', null, inline(t, ctx, 0))));
      if (b.type === 'ol' && b.start !== 1) list.setAttribute('start', String(b.start));
      return list;
    }
    default: return node('p', 'md-p', inline(b.text, ctx, 0));
  }
}

/**
 * The message text as a DocumentFragment of the subset's elements. `mentions`: a Set of lower-case
 * usernames to mark, `true` to mark every @name, or nothing.
 */
export function renderMarkdown(text, mentions) {
  const mention = mentions === true ? () => true : (name) => !!(mentions && mentions.has && mentions.has(name));
  const ctx = { mention, inLink: false };
  const frag = document.createDocumentFragment();
  for (const b of parseBlocks(text)) frag.append(block(b, ctx));
  return frag;
}
