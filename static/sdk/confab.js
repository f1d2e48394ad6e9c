// Confab's JavaScript SDK: one WebSocket per client (docs/PROTOCOL.md section 7) with one-time
// tickets, reconnection with backoff and jitter, `resume` of every subscribed room from the
// highest seq seen (no gap, no duplicate), sends that keep their `client_id` across reconnects and
// resolve once on their `ack`, and the REST calls a room view needs. An ES module with no build
// step and no dependencies: browsers, and Node 20 with `ws`'s WebSocket passed in.

const PING_EVERY_MS = 20000;
const PONG_WITHIN_MS = 10000;
const HANDSHAKE_WITHIN_MS = 10000;
const REQUEST_WITHIN_MS = 15000;
const RESUME_MAX_ROOMS = 200;
const URL_MARGIN_MS = 30000;

let refCounter = 0;
const newRef = () => `r${Date.now().toString(36)}${(refCounter++).toString(36)}`;

/** A random UUID (v4), also outside secure contexts. */
export function uuid() {
  const c = globalThis.crypto;
  if (c && typeof c.randomUUID === 'function') return c.randomUUID();
  const b = new Uint8Array(16);
  if (c && c.getRandomValues) c.getRandomValues(b);
  else for (let i = 0; i < 16; i++) b[i] = Math.floor(Math.random() * 256);
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const h = [...b].map((x) => x.toString(16).padStart(2, '0')).join('');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** An error from the server (REST or WebSocket) or from the connection: `code` is the server's. */
export class ConfabError extends Error {
  constructor(code, message, extra = {}) {
    super(message || code);
    this.name = 'ConfabError';
    this.code = code;
    Object.assign(this, extra);
  }
}

const fromBody = (body, status) => {
  const e = (body && body.error) || {};
  return new ConfabError(e.code || `http_${status}`, e.message, { status, field: e.field, retry_after_ms: e.retry_after_ms });
};

/** A small event emitter: `on` returns a function that removes the listener. */
class Emitter {
  constructor() { this._listeners = new Map(); }
  on(type, fn) {
    if (!this._listeners.has(type)) this._listeners.set(type, new Set());
    this._listeners.get(type).add(fn);
    return () => this.off(type, fn);
  }
  off(type, fn) { const s = this._listeners.get(type); if (s) s.delete(fn); }
  once(type, fn) { const off = this.on(type, (x) => { off(); fn(x); }); return off; }
  emit(type, value) {
    const s = this._listeners.get(type);
    if (!s) return;
    for (const fn of [...s]) {
      try { fn(value); } catch (e) { if (globalThis.console) console.error(e); }
    }
  }
}

/** Opens a client. See confab.d.ts for every option, method and event. */
export function connect(options) {
  const client = new Client(options);
  if (options.autoConnect !== false) client.open();
  return client;
}

export class Client extends Emitter {
  constructor({ baseUrl, token, getToken, WebSocket: WS, backoff = {}, watchNetwork = true } = {}) {
    super();
    const loc = globalThis.location;
    this.baseUrl = String(baseUrl || (loc && loc.origin) || '').replace(/\/+$/, '');
    if (!this.baseUrl) throw new ConfabError('bad_options', 'connect() needs a baseUrl');
    if (!token && !getToken) throw new ConfabError('bad_options', 'connect() needs a token or getToken');
    this._getToken = getToken || (() => token);
    this._WS = WS || globalThis.WebSocket;
    if (!this._WS) throw new ConfabError('bad_options', 'no WebSocket here: pass one (Node: `import { WebSocket } from "ws"`)');
    this._backoff = { initialMs: backoff.initialMs || 500, maxMs: backoff.maxMs || 15000 };
    this.state = 'offline';
    this.user = null;
    this.rooms = new Map();
    this._ws = null;
    this._attempt = 0;
    this._stopped = true;
    this._connecting = false;
    this._pending = new Map(); // ref -> {resolve, reject, timer, keep}
    this._outbox = new Map(); // client_id -> send entry, in the order they were made
    this._timers = {};
    this._urls = new Map(); // attachment id -> {url, thumbnail_url, until}
    this._onOnline = () => { if (!this._stopped && this.state !== 'online') this._soon(0); };
    this._onOffline = () => this._dropped('offline');
    if (watchNetwork && typeof globalThis.addEventListener === 'function') {
      globalThis.addEventListener('online', this._onOnline);
      globalThis.addEventListener('offline', this._onOffline);
    }
  }

  /** True while the socket is open and the server has greeted it. */
  get online() { return this.state === 'online' && !!this._ws; }

  /** Starts (or restarts) connecting; `connect()` calls it unless `autoConnect: false`. */
  open() {
    this._stopped = false;
    this._attempt = 0;
    this._connect();
    return this;
  }

  /** Closes the socket for good: no reconnect; unsent messages are rejected. */
  close() {
    this._stopped = true;
    clearTimeout(this._timers.retry);
    this._teardown(1000);
    for (const e of this._outbox.values()) e.reject(new ConfabError('closed', 'the client was closed'));
    this._outbox.clear();
    if (typeof globalThis.removeEventListener === 'function') {
      globalThis.removeEventListener('online', this._onOnline);
      globalThis.removeEventListener('offline', this._onOffline);
    }
    this._setState('closed');
  }

  /** A room: subscribed (now, and again after every reconnect) until `room.leave()`. */
  room(id, { afterSeq } = {}) {
    let r = this.rooms.get(id);
    if (!r) {
      r = new Room(this, id, afterSeq);
      this.rooms.set(id, r);
      if (this.online) this._subscribe([r]);
    }
    return r;
  }

  // ---- tokens and REST -----------------------------------------------------------------------

  async token(expired = false) {
    const t = await this._getToken({ expired });
    if (!t) throw new ConfabError('unauthorized', 'no token');
    return t;
  }

  /** One REST call with the token (asked again once after a 401); JSON in, JSON out. */
  async api(method, path, body, { raw = false } = {}) {
    let res;
    for (const expired of [false, true]) {
      const headers = { Authorization: `Bearer ${await this.token(expired)}` };
      let payload;
      if (body instanceof (globalThis.FormData || class {})) payload = body;
      else if (body !== undefined) { headers['Content-Type'] = 'application/json'; payload = JSON.stringify(body); }
      try {
        res = await fetch(this.baseUrl + path, { method, headers, body: payload });
      } catch (e) {
        throw new ConfabError('network', `cannot reach the server (${e.message})`);
      }
      if (res.status !== 401) break;
    }
    if (raw) return res;
    const text = await res.text();
    let json = null;
    try { json = text ? JSON.parse(text) : null; } catch { /* not JSON */ }
    if (!res.ok) throw fromBody(json, res.status);
    return json;
  }

  /** Uploads a file (a Blob or File; in Node a Blob) and answers the attachment to send. */
  upload(blob, fileName) {
    const form = new FormData();
    form.append('file', blob, fileName || blob.name || 'file');
    return this.api('POST', '/api/chat/uploads', form).then((a) => this._rememberUrls(a));
  }

  /** Absolute URL of a path the server answers (history's `url`s are paths). */
  absolute(path) { return path && /^https?:/.test(path) ? path : this.baseUrl + path; }

  _rememberUrls(a) {
    if (a && a.signed_url && a.signed_until) {
      this._urls.set(a.id, { url: a.signed_url, thumbnail_url: a.signed_thumbnail_url, until: Date.parse(a.signed_until) });
    }
    return a;
  }

  /**
   * A signed URL of a message's file (or its thumbnail) for `<img src>`, `<a download>` or a media
   * player: from the message itself when it carries a fresh one, else asked of the server.
   */
  async fileUrl(message, { thumbnail = false } = {}) {
    const a = message && message.attachment;
    if (!a) throw new ConfabError('not_found', 'the message has no attachment');
    this._rememberUrls(a);
    let known = this._urls.get(a.id);
    if (!known || known.until - Date.now() < URL_MARGIN_MS) {
      const fresh = await this.api('GET', `/api/chat/rooms/${message.room_id}/messages/${message.id}`);
      this._rememberUrls(fresh && fresh.attachment);
      known = this._urls.get(a.id);
      if (!known) throw new ConfabError('not_found', 'the file is gone');
    }
    const url = thumbnail && known.thumbnail_url ? known.thumbnail_url : known.url;
    return this.absolute(url);
  }

  // ---- the socket ----------------------------------------------------------------------------

  _setState(s) {
    if (this.state === s) return;
    this.state = s;
    this.emit('state', s);
  }

  _soon(ms) {
    clearTimeout(this._timers.retry);
    this._timers.retry = setTimeout(() => this._connect(), ms);
  }

  _retry() {
    const { initialMs, maxMs } = this._backoff;
    const base = Math.min(maxMs, initialMs * 2 ** this._attempt);
    this._attempt += 1;
    this._setState('offline');
    // Equal jitter: half fixed, half random, so a restarted server is not met by a stampede.
    this._soon(base / 2 + Math.random() * (base / 2));
  }

  async _connect() {
    clearTimeout(this._timers.retry);
    if (this._stopped || this._connecting || (this._ws && this._ws.readyState <= 1)) return;
    const nav = globalThis.navigator;
    if (nav && nav.onLine === false) { this._setState('offline'); this._soon(10000); return; }
    this._setState('connecting');
    this._connecting = true;
    let ticket;
    try {
      ticket = (await this.api('POST', '/api/chat/ws-ticket', {})).ticket;
    } catch (e) {
      this._connecting = false;
      if (e.status === 401 || e.code === 'unauthorized') {
        this.emit('unauthorized', e);
        this._stopped = true;
        this._setState('offline');
        return;
      }
      this._retry();
      return;
    }
    this._connecting = false;
    if (this._stopped || (this._ws && this._ws.readyState <= 1)) return;
    const wsUrl = `${this.baseUrl.replace(/^http/, 'ws')}/ws/chat/?ticket=${encodeURIComponent(ticket)}`;
    let ws;
    try { ws = new this._WS(wsUrl); } catch { this._retry(); return; }
    this._ws = ws;
    clearTimeout(this._timers.pong);
    this._timers.pong = setTimeout(() => { if (ws === this._ws && this.state !== 'online') this._dropped('timeout'); }, HANDSHAKE_WITHIN_MS);
    ws.onmessage = (ev) => {
      if (ws !== this._ws) return;
      let frame;
      try { frame = JSON.parse(typeof ev.data === 'string' ? ev.data : String(ev.data)); } catch { return; }
      this._received(frame);
    };
    ws.onclose = () => { if (ws === this._ws) this._dropped('closed'); };
    ws.onerror = () => { /* onclose follows */ };
  }

  _teardown(code) {
    clearInterval(this._timers.ping);
    clearTimeout(this._timers.pong);
    const ws = this._ws;
    this._ws = null;
    if (ws) {
      ws.onmessage = ws.onclose = ws.onerror = null;
      try { ws.close(code); } catch { /* already closed */ }
    }
    for (const p of this._pending.values()) {
      clearTimeout(p.timer);
      p.reject(new ConfabError('disconnected', 'the connection was lost'));
    }
    this._pending.clear();
    for (const r of this.rooms.values()) { r._subscribed = false; r._isReady = false; }
  }

  _dropped(why) {
    this._teardown(why === 'offline' ? 4000 : 1000);
    if (this._stopped) return;
    const nav = globalThis.navigator;
    if (why === 'offline' || (nav && nav.onLine === false)) {
      this._setState('offline');
      // The 'online' event reconnects at once; this is for a runtime that never sends it.
      this._soon(10000);
      return;
    }
    this._retry();
  }

  _startPing() {
    clearInterval(this._timers.ping);
    this._timers.ping = setInterval(() => {
      if (!this.sendFrame({ type: 'ping' })) return;
      clearTimeout(this._timers.pong);
      this._timers.pong = setTimeout(() => this._dropped('timeout'), PONG_WITHIN_MS);
    }, PING_EVERY_MS);
  }

  /** Sends one frame as is; false when not connected. */
  sendFrame(frame) {
    const ws = this._ws;
    if (!ws || ws.readyState !== 1) return false;
    ws.send(JSON.stringify(frame));
    return true;
  }

  /** Sends a frame with a fresh `ref`; resolves with its `ack`, rejects with its `error`. */
  request(frame, { timeoutMs = REQUEST_WITHIN_MS } = {}) {
    const ref = frame.ref || newRef();
    return new Promise((resolve, reject) => {
      if (!this.online || !this.sendFrame({ ...frame, ref })) {
        reject(new ConfabError('disconnected', 'not connected'));
        return;
      }
      const timer = setTimeout(() => {
        this._pending.delete(ref);
        reject(new ConfabError('timeout', 'no answer from the server'));
      }, timeoutMs);
      this._pending.set(ref, { resolve, reject, timer });
    });
  }

  _received(f) {
    clearTimeout(this._timers.pong);
    if (f.conversation_id && !f.room_id) f.room_id = f.conversation_id;
    switch (f.type) {
      case 'connection_established':
        this.user = { id: f.user_id, tenant_id: f.tenant_id };
        this._attempt = 0;
        this._setState('online');
        this._startPing();
        this._subscribe([...this.rooms.values()]);
        for (const e of this._outbox.values()) this._transmit(e);
        this.emit('connected', f);
        return;
      case 'pong':
        return;
      case 'ack':
      case 'error':
        if (f.ref && this._pending.has(f.ref)) {
          const p = this._pending.get(f.ref);
          this._pending.delete(f.ref);
          clearTimeout(p.timer);
          if (f.type === 'ack') p.resolve(f);
          else p.reject(fromBody(f, 0));
          return;
        }
        if (f.type === 'error') this.emit('error', fromBody(f, 0));
        return;
      default:
        this._event(f);
    }
  }

  _event(f) {
    const room = f.room_id ? this.rooms.get(f.room_id) : null;
    if (room) {
      // Room events carry their seq: each is applied once, live or replayed, in seq order.
      if (f.seq != null) {
        if (room.lastSeq != null && f.seq <= room.lastSeq) return;
        room.lastSeq = f.seq;
      }
      room._apply(f);
    } else if (f.type === 'presence_update') {
      for (const r of this.rooms.values()) r.emit('presence', f.presence);
    }
    if (f.type === 'presence_update') this.emit('presence', f.presence);
    if (f.type === 'mention') this.emit('mention', f.message);
    if (f.type === 'room_added') this.emit('room_added', f.room);
    if (f.type === 'new_message' && f.message) this._settled(f.message);
    if (f.type === 'closing') {
      this.emit('closing', f.reason);
      // The server ended this login: reconnecting would only be refused.
      if (['banned', 'logged_out'].includes(f.reason)) { this._stopped = true; this._teardown(1000); this._setState('offline'); }
    }
    this.emit('frame', f);
  }

  /**
   * Subscribes rooms on this connection: one `resume` (per 200 rooms) for those whose seq is
   * known, `join_room` for the others (its ack tells where the room stands).
   */
  _subscribe(rooms) {
    const resume = rooms.filter((r) => r.lastSeq != null && !r._subscribed);
    const join = rooms.filter((r) => r.lastSeq == null && !r._subscribed);
    for (const r of rooms) r._subscribed = true;
    for (let i = 0; i < resume.length; i += RESUME_MAX_ROOMS) {
      const part = resume.slice(i, i + RESUME_MAX_ROOMS);
      this.request({ type: 'resume', rooms: part.map((r) => ({ room_id: r.id, after_seq: r.lastSeq })) })
        .then(() => part.forEach((r) => r._ready()))
        .catch((e) => {
          if (e.code === 'disconnected' || e.code === 'timeout') return;
          // One room per frame names its culprit; for more, the error is the client's.
          if (part.length === 1) part[0]._refused(e);
          else this.emit('error', e);
        });
    }
    for (const r of join) {
      this.request({ type: 'join_room', room_id: r.id })
        .then((ack) => {
          if (ack.room) {
            r.info = ack.room;
            if (r.lastSeq == null || ack.room.last_seq > r.lastSeq) r.lastSeq = ack.room.last_seq;
          }
          r._ready();
        })
        .catch((e) => { if (e.code !== 'disconnected' && e.code !== 'timeout') r._refused(e); });
    }
  }

  // ---- sends ---------------------------------------------------------------------------------

  _send(roomId, fields) {
    const clientId = fields.client_id || uuid();
    const existing = this._outbox.get(clientId);
    if (existing) return existing.promise;
    const entry = { clientId, frame: { type: 'send_message', room_id: roomId, ...fields, client_id: clientId }, done: false };
    entry.promise = new Promise((resolve, reject) => {
      entry.resolve = (m) => { if (!entry.done) { entry.done = true; this._outbox.delete(clientId); resolve(m); } };
      entry.reject = (e) => { if (!entry.done) { entry.done = true; this._outbox.delete(clientId); reject(e); } };
    });
    this._outbox.set(clientId, entry);
    if (this.online) this._transmit(entry);
    return entry.promise;
  }

  _transmit(entry) {
    if (entry.done || entry.inflight) return;
    entry.inflight = true;
    this.request(entry.frame, { timeoutMs: 30000 })
      .then((ack) => entry.resolve(ack.message || ack))
      .catch((e) => {
        entry.inflight = false;
        // Not sent, or no answer: it goes again (same client_id) when the connection is back.
        if (e.code === 'disconnected') return;
        if (e.code === 'timeout') { if (this._ws) this._dropped('timeout'); return; }
        if (e.code === 'rate_limited') {
          setTimeout(() => { if (this.online) this._transmit(entry); }, e.retry_after_ms || 1000);
          return;
        }
        entry.reject(e);
      });
  }

  /** A message of mine came back (broadcast or replay): its send is done, whatever the ack. */
  _settled(m) {
    if (!m.client_id || !this.user || !m.sender || m.sender.id !== this.user.id) return;
    const entry = this._outbox.get(m.client_id);
    if (entry && entry.frame.room_id === m.room_id) entry.resolve(m);
  }
}

const ROOM_EVENTS = {
  new_message: (f) => ['message', f.message],
  message_updated: (f) => ['updated', f.message],
  message_deleted: (f) => ['deleted', { message_id: f.message_id, seq: f.seq }],
  reaction_added: (f) => ['reaction', { ...(f.reaction || {}), added: true, seq: f.seq }],
  reaction_removed: (f) => ['reaction', { message_id: f.message_id, user_id: f.user_id, emoji: f.emoji, added: false, seq: f.seq }],
  typing_indicator: (f) => ['typing', { user_id: f.user_id, is_typing: f.is_typing }],
  read_receipt: (f) => ['read', { user_id: f.user_id, last_read_seq: f.last_read_seq, seq: f.seq }],
  member_joined: (f) => ['member', { kind: 'joined', member: f.member, seq: f.seq }],
  member_updated: (f) => ['member', { kind: 'updated', member: f.member, seq: f.seq }],
  member_left: (f) => ['member', { kind: 'left', user_id: f.user_id, seq: f.seq }],
  room_updated: (f) => ['room', f.room],
};

export class Room extends Emitter {
  constructor(client, id, afterSeq) {
    super();
    this.client = client;
    this.id = id;
    /** The highest room seq this client has seen: where a resume starts. */
    this.lastSeq = afterSeq == null ? null : afterSeq;
    this.info = null;
    this.error = null;
    this._subscribed = false;
    this._readyWaiters = [];
  }

  /** Resolves once the room is subscribed on the current connection (rejects if refused). */
  ready() {
    if (this._subscribed && this._isReady) return Promise.resolve(this);
    if (this.error) return Promise.reject(this.error);
    return new Promise((resolve, reject) => this._readyWaiters.push({ resolve, reject }));
  }

  _ready() {
    this._isReady = true;
    this.error = null;
    for (const w of this._readyWaiters.splice(0)) w.resolve(this);
  }

  _refused(e) {
    this.error = e;
    this._isReady = false;
    for (const w of this._readyWaiters.splice(0)) w.reject(e);
    this.emit('error', e);
  }

  _apply(f) {
    if (f.type === 'resumed') {
      if (f.last_seq != null && (this.lastSeq == null || f.last_seq > this.lastSeq)) this.lastSeq = f.last_seq;
      this._ready();
    } else if (f.type === 'resync_required') {
      // The server subscribed the room from now on: what came before is for history() to load.
      this.lastSeq = f.last_seq;
      this._ready();
      this.emit('resync', f);
    }
    else if (f.type === 'resume_required') {
      const req = this.lastSeq == null ? { type: 'join_room', room_id: this.id } : { type: 'resume', rooms: [{ room_id: this.id, after_seq: this.lastSeq }] };
      this.client.request(req).catch(() => {});
    } else {
      const map = ROOM_EVENTS[f.type];
      if (map) { const [name, value] = map(f); this.emit(name, value); }
    }
    this.emit('event', f);
  }

  /** Stops following the room on this client (membership is unchanged). */
  leave() {
    this.client.rooms.delete(this.id);
    if (this.client.online) this.client.sendFrame({ type: 'leave_room', room_id: this.id });
  }

  _path(rest = '') { return `/api/chat/rooms/${this.id}${rest}`; }

  /** The room as the REST API answers it. */
  async get() { this.info = await this.client.api('GET', this._path()); return this.info; }

  /** A page of history, oldest first: `{results, has_more, last_seq}`. */
  async history({ before, after, limit = 50 } = {}) {
    const q = new URLSearchParams({ limit: String(limit) });
    if (before != null) q.set('before_seq', String(before));
    if (after != null) q.set('after_seq', String(after));
    const page = await this.client.api('GET', this._path(`/messages?${q}`));
    for (const m of page.results || []) this.client._rememberUrls(m.attachment);
    return page;
  }

  /** Members with roles. */
  async members() {
    const ans = await this.client.api('GET', this._path('/members'));
    return Array.isArray(ans) ? ans : (ans && ans.results) || [];
  }

  /**
   * Sends a message; resolves once with the stored message when the server acks it, also when it
   * had to go again after a reconnect (its `client_id` makes the resend harmless). While offline
   * it waits for the connection.
   */
  send(content, fields = {}) {
    const f = typeof content === 'string' ? { ...fields, content } : { ...content };
    if (f.content == null) f.content = '';
    return this.client._send(this.id, f);
  }

  async _either(frame, rest) {
    if (this.client.online) {
      try { return await this.client.request({ ...frame, room_id: this.id }); } catch (e) { if (e.code !== 'disconnected') throw e; }
    }
    return rest();
  }

  /** Changes a message's text; resolves with the edited message. */
  async edit(messageId, content) {
    const ans = await this._either({ type: 'edit_message', message_id: messageId, content },
      () => this.client.api('PATCH', this._path(`/messages/${messageId}`), { content }));
    return ans && ans.message ? ans.message : ans;
  }

  /** Deletes a message (a tombstone stays). */
  async delete(messageId) {
    await this._either({ type: 'delete_message', message_id: messageId },
      () => this.client.api('DELETE', this._path(`/messages/${messageId}`)));
  }

  /** Adds my reaction (or removes it with `on = false`). */
  async react(messageId, emoji, on = true) {
    await this._either({ type: on ? 'add_reaction' : 'remove_reaction', message_id: messageId, emoji },
      () => (on
        ? this.client.api('POST', this._path(`/messages/${messageId}/reactions`), { emoji })
        : this.client.api('DELETE', this._path(`/messages/${messageId}/reactions/${encodeURIComponent(emoji)}`))));
  }

  /** Moves my read pointer to `seq` (default: the latest). */
  async markRead(seq) {
    const body = seq == null ? {} : { seq };
    return this._either({ type: 'mark_read', ...body }, () => this.client.api('POST', this._path('/mark_read'), body));
  }

  /** Tells the others I am typing (or stopped); nothing when offline. */
  typing(on = true) {
    return this.client.sendFrame({ type: on ? 'start_typing' : 'stop_typing', room_id: this.id });
  }

  /** A signed URL of a message's file: see `Client.fileUrl`. */
  fileUrl(message, opts) { return this.client.fileUrl(message, opts); }
}
