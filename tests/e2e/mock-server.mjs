// A stand-in for the Confab server, written from docs/PROTOCOL.md, for developing the web client
// before (or without) the real server: `node tests/e2e/mock-server.mjs [port]`, or
// `E2E_SERVER=mock tests/e2e/run.sh`. In memory, one tenant, no real auth (tokens are random
// strings). It is NOT the server and proves nothing about it: the e2e run's default target is
// the real `confab serve`.

import http from 'node:http';
import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { WebSocketServer } from 'ws';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../static');
const port = Number(process.argv[2] || process.env.PORT || 8090);
const id = () => crypto.randomUUID();
const now = () => new Date().toISOString();

const users = new Map(); // id -> {id, username, display_name, password}
const tokens = new Map(); // token -> user id
const tickets = new Map();
const rooms = new Map(); // id -> room (+ members Map, seq, events[], messages[])
const files = new Map();
const sockets = new Set(); // {ws, user, rooms:Set}
const presence = new Map();

const userView = (u) => ({ id: u.id, username: u.username, display_name: u.display_name, avatar_url: null });
const err = (res, status, code, message, field) => json(res, status, { error: { code, message, field } });
function json(res, status, body) {
  res.writeHead(status, { 'Content-Type': 'application/json' });
  res.end(body === undefined ? '' : JSON.stringify(body));
}
function pair(u) {
  const t = id(); const r = id();
  tokens.set(t, u.id); tokens.set(`r:${r}`, u.id);
  return { user: userView(u), access_token: t, refresh_token: r, token_type: 'Bearer', expires_in: 900 };
}
function roomView(r, uid) {
  const me = r.members.get(uid);
  const unread = r.messages.filter((m) => !m.is_deleted && m.sender.id !== uid && m.seq > (me ? me.last_read_seq : 0));
  const v = {
    id: r.id, tenant_id: 't', name: r.name, description: r.description, room_type: r.room_type, external_ref: null,
    created_by: r.created_by, created_at: r.created_at, updated_at: r.created_at, last_message_at: r.messages.length ? r.messages.at(-1).created_at : null,
    last_seq: r.seq, is_active: true, max_participants: null, member_count: r.members.size,
    last_message: r.messages.at(-1) || null, unread_count: unread.length,
    mention_count: unread.filter((m) => m.mentions.includes(uid)).length, my_role: me ? me.role : null, archived: me ? me.archived : false,
  };
  if (r.room_type === 'direct') {
    const other = [...r.members.keys()].find((x) => x !== uid);
    v.other_user = other ? userView(users.get(other)) : null;
  }
  return v;
}
const memberView = (m) => ({ user: userView(users.get(m.user_id)), role: m.role, joined_at: m.joined_at, last_read_seq: m.last_read_seq, archived: m.archived, muted: false });

function emit(r, type, payload, { durable = true, except } = {}) {
  const frame = { type, room_id: r.id, ...payload };
  if (durable) { r.seq += 1; frame.seq = r.seq; r.events.push(frame); }
  for (const s of sockets) if (s.rooms.has(r.id) && s !== except && r.members.has(s.user)) s.ws.send(JSON.stringify(frame));
  return frame;
}

function postMessage(r, uid, b) {
  const me = r.members.get(uid);
  if (!me) return [404, { error: { code: 'not_found', message: 'not found' } }];
  if (b.client_id) {
    const dup = r.messages.find((m) => m.sender.id === uid && m.client_id === b.client_id);
    if (dup) return [200, dup];
  }
  const content = String(b.content || '').trim();
  if (!content && !b.attachment_id) return [400, { error: { code: 'bad_request', message: 'empty message', field: 'content' } }];
  if ([...content].length > 4000) return [413, { error: { code: 'too_large', message: 'content is over 4000 characters', field: 'content' } }];
  const att = b.attachment_id ? files.get(b.attachment_id) : null;
  const mentions = [...content.matchAll(/@([a-z0-9_.-]{3,32})/gi)].map((m) => [...users.values()].find((u) => u.username === m[1].toLowerCase()))
    .filter((u) => u && r.members.has(u.id)).map((u) => u.id);
  const u = users.get(uid);
  const m = {
    id: id(), room_id: r.id, seq: r.seq + 1, sender: { id: uid, display_name: u.display_name }, message_type: b.message_type || 'text',
    content, attachment: att ? att.view : null, reply_to: b.reply_to || null, reply_count: 0, reactions: [], mentions, metadata: b.metadata || null,
    client_id: b.client_id || null, created_at: now(), edited_at: null, is_deleted: false,
  };
  r.messages.push(m);
  emit(r, 'new_message', { message: m });
  if (m.reply_to) { const p = r.messages.find((x) => x.id === m.reply_to); if (p) p.reply_count += 1; }
  return [201, m];
}

function react(r, m, uid, emoji, add) {
  let x = m.reactions.find((y) => y.emoji === emoji);
  if (add) {
    if (!x) { x = { emoji, count: 0, user_ids: [] }; m.reactions.push(x); }
    if (x.user_ids.includes(uid)) return;
    x.user_ids.push(uid); x.count += 1;
    emit(r, 'reaction_added', { reaction: { message_id: m.id, user_id: uid, emoji, created_at: now() } });
  } else {
    if (!x || !x.user_ids.includes(uid)) return;
    x.user_ids = x.user_ids.filter((y) => y !== uid); x.count -= 1;
    if (!x.count) m.reactions = m.reactions.filter((y) => y !== x);
    emit(r, 'reaction_removed', { message_id: m.id, user_id: uid, emoji });
  }
}

const findMsg = (mid) => { for (const r of rooms.values()) { const m = r.messages.find((x) => x.id === mid); if (m) return [r, m]; } return [null, null]; };
function newRoom(uid, b, type) {
  const r = { id: id(), name: b.name || '', description: b.description || null, room_type: type, created_by: uid, created_at: now(), seq: 0, events: [], messages: [], members: new Map() };
  const add = (u, role) => r.members.set(u, { user_id: u, role, joined_at: now(), last_read_seq: 0, archived: false });
  add(uid, type === 'direct' ? 'member' : 'owner');
  for (const p of b.participant_ids || []) if (p !== uid) add(p, 'member');
  rooms.set(r.id, r);
  return r;
}
function setPresence(uid, status) {
  presence.set(uid, { user_id: uid, status, last_seen: now(), current_room: null });
  for (const s of sockets) s.ws.send(JSON.stringify({ type: 'presence_update', presence: presence.get(uid) }));
}

async function body(req) {
  const chunks = [];
  for await (const c of req) chunks.push(c);
  return Buffer.concat(chunks);
}

const server = http.createServer(async (req, res) => {
  const url = new URL(req.url, 'http://x');
  const p = url.pathname;
  if (!p.startsWith('/api/')) {
    const f = path.join(ROOT, p === '/' ? 'index.html' : p);
    if (!f.startsWith(ROOT) || !fs.existsSync(f) || fs.statSync(f).isDirectory()) return err(res, 404, 'not_found', 'not found');
    const type = { '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css' }[path.extname(f)] || 'application/octet-stream';
    res.writeHead(200, { 'Content-Type': type, 'Content-Security-Policy': "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' blob: data:; connect-src 'self'" });
    return res.end(fs.readFileSync(f));
  }
  const raw = await body(req);
  let b = {};
  if ((req.headers['content-type'] || '').includes('json') && raw.length) { try { b = JSON.parse(raw); } catch { return err(res, 400, 'bad_request', 'bad json'); } }
  if (p === '/api/auth/register') {
    if (!/^[a-z0-9_.-]{3,32}$/.test(b.username || '')) return err(res, 400, 'bad_request', 'username: 3-32 of a-z 0-9 _ . -', 'username');
    if ((b.password || '').length < 8) return err(res, 400, 'bad_request', 'password: at least 8 characters', 'password');
    if ([...users.values()].some((u) => u.username === b.username)) return err(res, 409, 'conflict', 'username taken', 'username');
    const u = { id: id(), username: b.username, display_name: b.display_name || b.username, password: b.password };
    users.set(u.id, u);
    return json(res, 201, pair(u));
  }
  if (p === '/api/auth/login') {
    const u = [...users.values()].find((x) => x.username === b.username && x.password === b.password);
    return u ? json(res, 200, pair(u)) : err(res, 401, 'invalid_credentials', 'invalid credentials');
  }
  if (p === '/api/auth/refresh') {
    const uid = tokens.get(`r:${b.refresh_token}`);
    if (!uid) return err(res, 401, 'unauthorized', 'bad refresh token');
    tokens.delete(`r:${b.refresh_token}`);
    return json(res, 200, pair(users.get(uid)));
  }
  if (p === '/api/auth/logout') { tokens.delete(`r:${b.refresh_token}`); return json(res, 204); }
  const uid = tokens.get((req.headers.authorization || '').replace(/^Bearer /, ''));
  // A "signed" file URL (the mock signs nothing: it only takes the shape) needs no token.
  const signedFile = /^\/api\/chat\/uploads\/[^/]+(\/thumbnail)?$/.test(p) && url.searchParams.has('sig');
  if (!uid && !signedFile) return err(res, 401, 'unauthorized', 'no or bad token');
  const M = req.method;
  let m;
  if (p === '/api/chat/users/me' && M === 'PATCH') { const u = users.get(uid); if (b.display_name) u.display_name = b.display_name; return json(res, 200, userView(u)); }
  if (p === '/api/chat/users/me') return json(res, 200, userView(users.get(uid)));
  if (p === '/api/chat/users') {
    const q = (url.searchParams.get('q') || '').toLowerCase();
    return json(res, 200, { results: [...users.values()].filter((u) => u.username.includes(q) || u.display_name.toLowerCase().includes(q)).map(userView) });
  }
  if (p === '/api/chat/ws-ticket') { const t = id(); tickets.set(t, uid); return json(res, 200, { ticket: t, expires_in: 30 }); }
  if (p === '/api/chat/presence') {
    const ids = (url.searchParams.get('user_ids') || '').split(',');
    return json(res, 200, { results: ids.map((x) => presence.get(x) || { user_id: x, status: 'offline', last_seen: null }) });
  }
  if (p === '/api/chat/presence/me' && M === 'PUT') { setPresence(uid, b.status); return json(res, 200, presence.get(uid)); }
  if (p === '/api/chat/rooms' && M === 'GET') {
    const archived = url.searchParams.get('archived');
    const list = [...rooms.values()].filter((r) => r.members.has(uid)).map((r) => roomView(r, uid))
      .filter((r) => archived == null || String(r.archived) === archived)
      .sort((a, c) => String(c.last_message_at || c.created_at).localeCompare(String(a.last_message_at || a.created_at)));
    return json(res, 200, { results: list, next_cursor: null });
  }
  if (p === '/api/chat/rooms' && M === 'POST') return json(res, 201, roomView(newRoom(uid, b, b.room_type || 'group'), uid));
  if (p === '/api/chat/rooms/direct') {
    if (b.user_id === uid) return err(res, 400, 'bad_request', 'not with yourself', 'user_id');
    let r = [...rooms.values()].find((x) => x.room_type === 'direct' && x.members.has(uid) && x.members.has(b.user_id));
    if (!r) r = newRoom(uid, { participant_ids: [b.user_id] }, 'direct');
    return json(res, 200, roomView(r, uid));
  }
  if (p === '/api/chat/rooms/unread_counts') {
    const out = {};
    for (const r of rooms.values()) if (r.members.has(uid)) { const v = roomView(r, uid); out[r.id] = { unread: v.unread_count, mentions: v.mention_count, last_seq: r.seq }; }
    return json(res, 200, { rooms: out });
  }
  if (p === '/api/chat/rooms/public') {
    return json(res, 200, { results: [...rooms.values()].filter((r) => r.room_type === 'public').map((r) => roomView(r, uid)) });
  }
  if (p === '/api/chat/search/messages') {
    const q = (url.searchParams.get('q') || '').toLowerCase();
    const out = [];
    for (const r of rooms.values()) if (r.members.has(uid)) for (const x of r.messages) if (!x.is_deleted && x.content.toLowerCase().includes(q)) out.push({ message: x, snippet: x.content.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(new RegExp(q.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'), 'gi'), (m) => `<mark>${m}</mark>`) });
    return json(res, 200, { results: out.slice(0, 30) });
  }
  if (p === '/api/chat/search/rooms') {
    const q = (url.searchParams.get('q') || '').toLowerCase();
    return json(res, 200, { results: [...rooms.values()].filter((r) => (r.members.has(uid) || r.room_type === 'public') && r.name.toLowerCase().includes(q)).map((r) => roomView(r, uid)) });
  }
  if (p === '/api/chat/uploads' && M === 'POST') {
    const boundary = (req.headers['content-type'] || '').split('boundary=')[1];
    const parts = raw.toString('latin1').split(`--${boundary}`);
    const part = parts.find((x) => x.includes('name="file"'));
    if (!part) return err(res, 400, 'bad_request', 'no file', 'file');
    const [head, ...rest] = part.split('\r\n\r\n');
    const data = Buffer.from(rest.join('\r\n\r\n').replace(/\r\n$/, ''), 'latin1');
    const name = (head.match(/filename="([^"]*)"/) || [])[1] || 'file';
    const isPng = data[0] === 0x89 && data[1] === 0x50;
    const fid = id();
    const view = { id: fid, url: `/api/chat/uploads/${fid}`, file_name: name, file_size: data.length, content_type: isPng ? 'image/png' : 'application/octet-stream',
      thumbnail_url: isPng ? `/api/chat/uploads/${fid}/thumbnail` : null, width: isPng ? data.readUInt32BE(16) : null, height: isPng ? data.readUInt32BE(20) : null };
    const q = `?uid=${uid}&exp=${Math.floor(Date.now() / 1000) + 600}&sig=mock`;
    Object.assign(view, { signed_url: view.url + q, signed_thumbnail_url: view.thumbnail_url && view.thumbnail_url + q, signed_until: new Date(Date.now() + 600000).toISOString() });
    files.set(fid, { data, view });
    return json(res, 201, view);
  }
  if ((m = p.match(/^\/api\/chat\/uploads\/([^/]+)(\/thumbnail)?$/))) {
    const f = files.get(m[1]);
    if (!f) return err(res, 404, 'not_found', 'not found');
    res.writeHead(200, { 'Content-Type': f.view.content_type, 'X-Content-Type-Options': 'nosniff', 'Content-Disposition': `inline; filename="${f.view.file_name}"` });
    return res.end(f.data);
  }
  if ((m = p.match(/^\/api\/chat\/rooms\/([^/]+)(\/.*)?$/))) {
    const r = rooms.get(m[1]);
    const rest = m[2] || '';
    if (!r || (!r.members.has(uid) && !(r.room_type === 'public' && rest === '/join'))) return err(res, 404, 'not_found', 'not found');
    const me = r.members.get(uid);
    if (rest === '' && M === 'GET') return json(res, 200, roomView(r, uid));
    if (rest === '/join') { r.members.set(uid, { user_id: uid, role: 'member', joined_at: now(), last_read_seq: 0, archived: false }); emit(r, 'member_joined', { member: memberView(r.members.get(uid)) }); return json(res, 200, roomView(r, uid)); }
    if (rest === '/leave') { emit(r, 'member_left', { user_id: uid }); r.members.delete(uid); return json(res, 204); }
    if (rest === '/archive' || rest === '/unarchive') { me.archived = rest === '/archive'; return json(res, 204); }
    if (rest === '/mark_read') { me.last_read_seq = b.seq || r.seq; emit(r, 'read_receipt', { user_id: uid, last_read_seq: me.last_read_seq }); return json(res, 200, { last_read_seq: me.last_read_seq, unread_count: 0 }); }
    if (rest === '/members' && M === 'GET') return json(res, 200, { results: [...r.members.values()].map(memberView) });
    if (rest === '/members' && M === 'POST') { r.members.set(b.user_id, { user_id: b.user_id, role: b.role || 'member', joined_at: now(), last_read_seq: 0, archived: false }); emit(r, 'member_joined', { member: memberView(r.members.get(b.user_id)) }); return json(res, 201, memberView(r.members.get(b.user_id))); }
    if (rest === '/messages' && M === 'GET') {
      const before = Number(url.searchParams.get('before_seq') || Infinity);
      const limit = Number(url.searchParams.get('limit') || 50);
      const older = r.messages.filter((x) => x.seq < before);
      return json(res, 200, { results: older.slice(-limit), has_more: older.length > limit });
    }
    if (rest === '/messages' && M === 'POST') { const [s, out] = postMessage(r, uid, b); return json(res, s, out); }
    let mm;
    if ((mm = rest.match(/^\/messages\/([^/]+)(\/.*)?$/))) {
      const msg = r.messages.find((x) => x.id === mm[1]);
      if (!msg) return err(res, 404, 'not_found', 'not found');
      const sub = mm[2] || '';
      if (sub === '' && M === 'GET') return json(res, 200, msg);
      if (sub === '/thread') return json(res, 200, { results: r.messages.filter((x) => x.reply_to === msg.id) });
      if (sub === '/reactions' && M === 'POST') { react(r, msg, uid, b.emoji, true); return json(res, 201, {}); }
      if (sub.startsWith('/reactions/') && M === 'DELETE') { react(r, msg, uid, decodeURIComponent(sub.slice(11)), false); return json(res, 204); }
    }
  }
  return err(res, 404, 'not_found', 'not found');
});

const wss = new WebSocketServer({ noServer: true });
server.on('upgrade', (req, sock, head) => {
  const url = new URL(req.url, 'http://x');
  const uid = tickets.get(url.searchParams.get('ticket'));
  tickets.delete(url.searchParams.get('ticket'));
  if (!url.pathname.startsWith('/ws/chat') || !uid) { sock.destroy(); return; }
  wss.handleUpgrade(req, sock, head, (ws) => {
    const s = { ws, user: uid, rooms: new Set() };
    sockets.add(s);
    setPresence(uid, 'online');
    ws.send(JSON.stringify({ type: 'connection_established', user_id: uid, tenant_id: 't', session_id: id(), heartbeat_secs: 25, server_time: now() }));
    ws.on('close', () => { sockets.delete(s); if (![...sockets].some((x) => x.user === uid)) setPresence(uid, 'offline'); });
    ws.on('message', (data) => {
      let f; try { f = JSON.parse(data); } catch { return; }
      const send = (o) => ws.send(JSON.stringify(o));
      const fail = (code, message) => send({ type: 'error', ref: f.ref, error: { code, message } });
      const room = rooms.get(f.room_id);
      switch (f.type) {
        case 'ping': return send({ type: 'pong', ref: f.ref });
        case 'join_room': if (!room || !room.members.has(uid)) return fail('not_found', 'not found'); s.rooms.add(room.id); return send({ type: 'ack', ref: f.ref, room: roomView(room, uid) });
        case 'resume':
          for (const x of f.rooms || []) {
            const r = rooms.get(x.room_id);
            if (!r || !r.members.has(uid)) continue;
            s.rooms.add(r.id);
            for (const e of r.events) if (e.seq > x.after_seq) send(e);
            send({ type: 'resumed', room_id: r.id, last_seq: r.seq });
          }
          return send({ type: 'ack', ref: f.ref });
        case 'send_message': { if (!room) return fail('not_found', 'not found'); const [st, out] = postMessage(room, uid, f); return st < 300 ? send({ type: 'ack', ref: f.ref, message: out }) : send({ type: 'error', ref: f.ref, ...out }); }
        case 'edit_message': { const [r, msg] = findMsg(f.message_id); if (!msg || msg.sender.id !== uid) return fail('not_found', 'not found'); msg.content = f.content; msg.edited_at = now(); emit(r, 'message_updated', { message: msg }); return send({ type: 'ack', ref: f.ref, message: msg }); }
        case 'delete_message': { const [r, msg] = findMsg(f.message_id); if (!msg) return fail('not_found', 'not found'); Object.assign(msg, { is_deleted: true, content: '', attachment: null }); emit(r, 'message_deleted', { message_id: msg.id }); return send({ type: 'ack', ref: f.ref }); }
        case 'add_reaction': case 'remove_reaction': { const [r, msg] = findMsg(f.message_id); if (!msg) return fail('not_found', 'not found'); react(r, msg, uid, f.emoji, f.type === 'add_reaction'); return send({ type: 'ack', ref: f.ref }); }
        case 'start_typing': case 'stop_typing': if (room) emit(room, 'typing_indicator', { user_id: uid, is_typing: f.type === 'start_typing' }, { durable: false, except: s }); return undefined;
        case 'mark_read': if (room) { const me = room.members.get(uid); me.last_read_seq = f.seq || room.seq; emit(room, 'read_receipt', { user_id: uid, last_read_seq: me.last_read_seq }); } return send({ type: 'ack', ref: f.ref });
        case 'update_presence': setPresence(uid, f.status); return send({ type: 'ack', ref: f.ref });
        default: return fail('bad_request', `unknown frame type ${f.type}`);
      }
    });
  });
});

server.listen(port, '127.0.0.1', () => console.log(`mock confab on http://127.0.0.1:${port}`));
