// <confab-room room="…" token="…">: one room's conversation (history, live messages, typing,
// images by their signed URLs, a composer) rendered by the SDK into a shadow root. The embed page
// (/embed/rooms/{id}) is this element too. User text only ever reaches the page as text (the
// Markdown subset of ./markdown.js builds elements around text nodes).

import { connect, uuid } from './confab.js';
import { renderMarkdown, safeUrl } from './markdown.js';

const HERE = new URL('.', import.meta.url);
const PAGE = 50;

function el(tag, props = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (v == null || v === false) continue;
    if (k === 'class') e.className = v;
    else if (k === 'text') e.textContent = v;
    else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat()) if (c != null) e.append(c);
  return e;
}

const timeOf = (iso) => {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? '' : d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
};

/** A link preview's card (issue 20): its texts as text, its image only as the server's data: JPEG. */
function previewEl(p) {
  const href = safeUrl(p.url);
  if (!href || !(p.title || p.description)) return null;
  const img = typeof p.image === 'string' && /^data:image\/(jpeg|webp);base64,[A-Za-z0-9+/=]+$/.test(p.image) ? el('img', { class: 'lp-img', src: p.image, alt: '' }) : null;
  return el('a', { class: 'link-preview', href, target: '_blank', rel: 'noopener noreferrer nofollow' }, img,
    el('span', { class: 'lp-text' }, el('span', { class: 'lp-site', text: p.site_name || '' }),
      p.title ? el('strong', { class: 'lp-title', text: p.title }) : null,
      p.description ? el('span', { class: 'lp-desc', text: p.description }) : null));
}

const NO_ACCESS = 'This room does not exist, or you are not a member of it.';
const BAD_TOKEN = 'Your sign-in is not valid or has expired. Reload the page from your platform.';

export class ConfabRoom extends HTMLElement {
  static get observedAttributes() { return ['room', 'token', 'base-url']; }

  constructor() {
    super();
    this.attachShadow({ mode: 'open' });
    this._messages = new Map(); // id -> message
    this._pending = new Map(); // client_id -> local echo
    this._typing = new Map(); // user id -> until (ms)
  }

  /** The token, when set as a property instead of an attribute (it then stays out of the DOM). */
  set token(t) { this._token = t; if (this.isConnected) this._restart(); }
  get token() { return this._token || this.getAttribute('token'); }

  connectedCallback() { this._build(); this._restart(); }
  disconnectedCallback() { this._stop(); }
  attributeChangedCallback() { if (this.isConnected && this._root) this._restart(); }

  _build() {
    if (this._root) return;
    const css = el('link', { rel: 'stylesheet', href: new URL('confab-room.css', HERE).href });
    const mdCss = el('link', { rel: 'stylesheet', href: new URL('markdown.css', HERE).href });
    this._title = el('h2', { class: 'title', text: 'Conversation' });
    this._state = el('span', { class: 'state', role: 'status' });
    this._notice = el('p', { class: 'notice', role: 'alert', hidden: true });
    this._list = el('div', { class: 'list', role: 'log', 'aria-label': 'Messages', 'aria-live': 'polite', tabindex: '0' });
    this._typingLine = el('p', { class: 'typing', 'aria-live': 'polite' });
    this._input = el('textarea', { rows: '1', placeholder: 'Message', 'aria-label': 'Message' });
    this._file = el('input', { type: 'file', class: 'picker', 'aria-label': 'Attach a file' });
    this._form = el('form', { class: 'composer', 'aria-label': 'Write a message' },
      el('label', { class: 'attach', title: 'Attach a file' }, '📎', this._file),
      this._input,
      el('button', { type: 'submit', class: 'send' }, 'Send'));
    this._root = el('div', { class: 'root' },
      el('header', { class: 'head' }, this._title, this._state),
      this._notice, this._list, this._typingLine, this._form);
    this.shadowRoot.append(css, mdCss, this._root);
    this._form.addEventListener('submit', (ev) => { ev.preventDefault(); this._submit(); });
    this._input.addEventListener('keydown', (ev) => {
      if (ev.key === 'Enter' && !ev.shiftKey && !ev.isComposing) { ev.preventDefault(); this._submit(); }
    });
    this._input.addEventListener('input', () => this._typed());
    this._file.addEventListener('change', () => { const f = this._file.files[0]; this._file.value = ''; if (f) this._attach(f); });
    this._list.addEventListener('scroll', () => { if (this._list.scrollTop < 60) this._older(); }, { passive: true });
    this._typingTimer = setInterval(() => this._renderTyping(), 1000);
  }

  _stop() {
    if (this._client) this._client.close();
    this._client = null;
    this._roomH = null;
  }

  _restart() {
    this._stop();
    this._messages.clear();
    this._pending.clear();
    this._hasMore = false;
    this._list.replaceChildren();
    this._els = new Map();
    this._form.hidden = false;
    this._notice.hidden = true;
    this._loaded = false;
    const roomId = this.getAttribute('room');
    const token = this.token;
    if (!roomId || !token) { this._show('This conversation needs a room and a sign-in token.'); return; }
    const baseUrl = this.getAttribute('base-url') || HERE.origin;
    this._client = connect({ baseUrl, getToken: () => this.token });
    this._client.on('state', (s) => this._renderState(s));
    this._client.on('unauthorized', () => this._show(BAD_TOKEN));
    this._renderState(this._client.state);
    const room = this._client.room(roomId);
    this._roomH = room;
    room.on('error', (e) => this._refused(e));
    room.on('message', (m) => this._arrived(m));
    room.on('updated', (m) => { if (this._messages.has(m.id)) { this._messages.set(m.id, m); this._render(); } });
    room.on('deleted', ({ message_id: id }) => {
      const m = this._messages.get(id);
      if (m) { this._messages.set(id, { ...m, is_deleted: true, content: '', attachment: null }); this._render(); }
    });
    room.on('typing', ({ user_id: u, is_typing: on }) => {
      if (this._client && this._client.user && u === this._client.user.id) return;
      if (on) this._typing.set(u, Date.now() + 6000); else this._typing.delete(u);
      this._renderTyping();
    });
    room.on('resync', () => this._loadLatest());
    this._load(room);
  }

  async _load(room) {
    try {
      const info = await room.get();
      if (room !== this._roomH) return;
      this._title.textContent = info.other_user ? (info.other_user.display_name || 'Direct message') : (info.name || 'Conversation');
      await this._loadLatest();
    } catch (e) {
      if (room === this._roomH) this._refused(e);
    }
  }

  async _loadLatest() {
    const room = this._roomH;
    const page = await room.history({ limit: PAGE });
    if (room !== this._roomH) return;
    for (const m of page.results) this._messages.set(m.id, m);
    this._hasMore = !!page.has_more;
    this._loaded = true;
    this._notice.hidden = true;
    this._render(true);
    this._markRead();
  }

  async _older() {
    if (!this._hasMore || this._loadingOlder || !this._messages.size) return;
    this._loadingOlder = true;
    const first = Math.min(...[...this._messages.values()].map((m) => m.seq));
    try {
      const page = await this._roomH.history({ before: first, limit: PAGE });
      const keep = this._list.scrollHeight - this._list.scrollTop;
      for (const m of page.results) this._messages.set(m.id, m);
      this._hasMore = !!page.has_more;
      this._render();
      this._list.scrollTop = this._list.scrollHeight - keep;
    } catch { /* try again on the next scroll */ } finally { this._loadingOlder = false; }
  }

  _refused(e) {
    const code = e && e.code;
    if (code === 'unauthorized' || (e && e.status === 401)) this._show(BAD_TOKEN);
    else if (code === 'not_found' || code === 'forbidden' || (e && (e.status === 404 || e.status === 403))) this._show(NO_ACCESS);
    else { this._notice.textContent = `Could not load the conversation: ${(e && e.message) || e}`; this._notice.hidden = false; }
  }

  /** Shows only a message: no data of the room stays on the page, and the client stops. */
  _show(text) {
    this._stop();
    this._messages.clear();
    this._pending.clear();
    this._list.replaceChildren();
    this._title.textContent = 'Conversation';
    this._notice.textContent = text;
    this._notice.hidden = false;
    this._form.hidden = true;
    this._state.textContent = '';
  }

  _renderState(s) {
    this._state.textContent = s === 'online' ? '' : s === 'connecting' ? 'Connecting…' : s === 'closed' ? '' : 'Offline: reconnecting…';
    this._state.dataset.state = s;
    for (const p of this._pending.values()) if (p._status !== 'failed') p._status = s === 'online' ? 'sending' : 'waiting';
    if (this._pending.size) this._render();
  }

  _arrived(m) {
    if (m.client_id && this._pending.has(m.client_id)) this._pending.delete(m.client_id);
    this._messages.set(m.id, m);
    this._typing.delete(m.sender && m.sender.id);
    this._render(this._atBottom() || this._mine(m));
    this._markRead();
  }

  _mine(m) { const u = this._client && this._client.user; return !!(u && m.sender && m.sender.id === u.id); }
  _atBottom() { return this._list.scrollHeight - this._list.scrollTop - this._list.clientHeight < 40; }

  _markRead() {
    clearTimeout(this._readTimer);
    this._readTimer = setTimeout(() => {
      if (document.visibilityState !== 'visible' || !this._roomH || !this._messages.size) return;
      const seq = Math.max(...[...this._messages.values()].map((m) => m.seq));
      if (seq > (this._readSeq || 0)) { this._readSeq = seq; this._roomH.markRead(seq).catch(() => {}); }
    }, 300);
  }

  _render(toBottom = false) {
    const list = [...this._messages.values()].sort((a, b) => a.seq - b.seq).concat([...this._pending.values()]);
    // A message keeps its element while it is the same object (images are not fetched again).
    const cache = this._els || new Map();
    this._els = new Map();
    const items = list.map((m) => {
      const key = m.id || `p:${m.client_id}`;
      const hit = cache.get(key);
      const fresh = hit && hit.m === m && hit.status === m._status ? hit : { m, status: m._status, el: this._messageEl(m) };
      this._els.set(key, fresh);
      return fresh.el;
    });
    if (this._loaded && !list.length) items.push(el('p', { class: 'empty', text: 'No messages yet. Say hello!' }));
    this._list.replaceChildren(...items);
    if (toBottom) this._list.scrollTop = this._list.scrollHeight;
  }

  _messageEl(m) {
    const art = el('article', { class: `msg${this._mine(m) ? ' mine' : ''}${m._pending ? ' pending' : ''}`, 'data-seq': m.seq, 'data-id': m.id || '' },
      el('header', {}, el('span', { class: 'who', text: (m.sender && m.sender.display_name) || 'System' }),
        el('time', { datetime: m.created_at, text: timeOf(m.created_at) })));
    if (m.is_deleted) { art.append(el('p', { class: 'text deleted', text: 'This message was deleted.' })); return art; }
    if (m.content) art.append(el('div', { class: 'text' }, renderMarkdown(m.content, true)));
    if (m.content && m.edited_at) art.append(el('span', { class: 'edited', text: '(edited)' }));
    if (m.attachment) art.append(this._fileEl(m));
    if (m.link_preview) { const card = previewEl(m.link_preview); if (card) art.append(card); }
    if (m._pending) art.append(el('p', { class: 'status', role: m._status === 'failed' ? 'alert' : 'status', text: m._status === 'failed' ? `Not sent: ${m._error}` : m._status === 'waiting' ? 'Waiting for the connection…' : 'Sending…' }));
    return art;
  }

  _fileEl(m) {
    const a = m.attachment;
    const link = el('a', { class: 'file', href: '#', rel: 'noopener noreferrer', target: '_blank', download: a.content_type.startsWith('image/') ? null : (a.file_name || 'file') });
    const client = this._client;
    // Images, and files with a preview picture (a PDF's first page, a video's poster frame).
    if ((a.content_type.startsWith('image/') || a.thumbnail_url) && !m._pending) {
      const img = el('img', { alt: a.file_name || 'image', loading: 'lazy' });
      if (a.width && a.height) {
        const k = Math.min(1, 240 / a.width, 180 / a.height);
        img.width = Math.max(1, Math.round(a.width * k));
        img.height = Math.max(1, Math.round(a.height * k));
      }
      client.fileUrl(m, { thumbnail: true }).then((u) => { img.src = u; }).catch(() => img.classList.add('broken'));
      link.append(img);
      if (!a.content_type.startsWith('image/')) link.append(`📄 ${a.file_name || 'file'}`);
    } else {
      link.append(`📄 ${a.file_name || 'file'}`);
    }
    if (!m._pending) client.fileUrl(m).then((u) => { link.href = u; }).catch(() => {});
    return link;
  }

  _renderTyping() {
    if (!this._typingLine) return;
    const now = Date.now();
    for (const [u, until] of this._typing) if (until < now) this._typing.delete(u);
    const n = this._typing.size;
    this._typingLine.textContent = n === 1 ? 'Someone is typing…' : n > 1 ? 'Several people are typing…' : '';
  }

  _typed() {
    if (!this._roomH) return;
    const now = Date.now();
    if (this._input.value.trim() && now - (this._typedAt || 0) > 2500) { this._typedAt = now; this._roomH.typing(true); }
  }

  _submit() {
    const text = this._input.value.trim();
    if (!text || !this._roomH) return;
    this._input.value = '';
    this._typedAt = 0;
    this._roomH.typing(false);
    this._deliver({ content: text });
  }

  async _attach(file) {
    if (!this._roomH) return;
    const p = this._echo({ content: '', attachment: { file_name: file.name, content_type: file.type || '' } });
    try {
      const up = await this._client.upload(file, file.name);
      p.attachment = up;
      const kind = (up.content_type || '').startsWith('image/') ? 'image' : 'file';
      this._deliver({ content: '', attachment_id: up.id, message_type: kind, client_id: p.client_id }, up);
    } catch (e) {
      p._status = 'failed'; p._error = e.message; this._render();
    }
  }

  _echo(fields) {
    const u = this._client.user || {};
    const p = { _pending: true, _status: this._client.online ? 'sending' : 'waiting', client_id: fields.client_id || uuid(), sender: { id: u.id, display_name: 'You' }, created_at: new Date().toISOString(), ...fields };
    this._pending.set(p.client_id, p);
    this._render(true);
    return p;
  }

  async _deliver(fields, attachment) {
    const room = this._roomH;
    const p = this._pending.get(fields.client_id) || this._echo({ ...fields, attachment });
    try {
      const m = await room.send({ ...fields, client_id: p.client_id });
      if (room !== this._roomH) return;
      this._pending.delete(p.client_id);
      this._messages.set(m.id, m);
      this._render(true);
    } catch (e) {
      p._status = 'failed'; p._error = e.message; this._render();
    }
  }
}

if (typeof customElements !== 'undefined' && !customElements.get('confab-room')) {
  customElements.define('confab-room', ConfabRoom);
}
