// The open room: history (newest page first, older pages on scroll up), local echo with
// client_id, replies, threads, edits, deletes, reactions, mentions, typing, "seen by", members,
// attachments with upload progress, and the side panel (members, thread, search results).

import * as api from './api.js';
import { h, clear, $, avatar, timeShort, uuid } from './dom.js';
import { S, roomState, roomTitle, userName, rememberUser, presenceOf, isDirect } from './state.js';
import { toast, closePopover } from './ui.js';
import { icon } from './icons.js';
import * as mod from './moderation.js';
import { MOD_ROLES, hooks, sdkRoom, cur, isMine, touch, myRole, senderName } from './roomview.js';
import {
  atBottom, loadLatest, noteReply, ordered, usernamesOf, render, messageEl, jumpTo, applyReaction, refreshViews,
  forgetElements, forgetElement, setupList,
} from './messages.js';

export { atBottom };

// Composer state for the open room.
const C = { editing: null, replyTo: null, tray: [], typingSentAt: 0, typingIdle: null, mention: null, drafts: new Map() };
export let panel = null; // {kind: 'members'|'thread'|'search', roomId, parentId, query}

// ---------------------------------------------------------------------------------------------
// Opening and closing

export function showEmpty() {
  S.currentId = null;
  document.body.classList.remove('room-open');
  $('#room-pane').hidden = true;
  $('#room-empty').hidden = false;
  if (panel && panel.kind !== 'search') closePanel();
  hooks().renderRoomList && hooks().renderRoomList();
}

export async function open(id) {
  const r = S.rooms.get(id);
  if (!r) return;
  closePopover();
  if (S.currentId !== id) {
    // Each room keeps its unsent draft.
    if (S.currentId && !C.editing) C.drafts.set(S.currentId, $('#input').value);
    resetComposer();
    $('#input').value = C.drafts.get(id) || '';
    autosize();
  }
  S.currentId = id;
  sessionStorage.setItem('confab.room', id);
  // On a phone the room covers the list: let the browser's Back button return to it.
  if (hooks().isPhone() && !(history.state && history.state.room)) history.pushState({ room: id }, '');
  document.body.classList.add('room-open');
  $('#room-empty').hidden = true;
  $('#room-pane').hidden = false;
  if (panel && panel.kind === 'thread' && panel.roomId !== id) closePanel();
  renderHeader();
  hooks().renderRoomList();
  hooks().joinRoom(id);
  const rs = roomState(id);
  forgetElements();
  render({ toBottom: true });
  const loads = [];
  if (!rs.loaded) loads.push(loadLatest(id));
  if (!rs.membersLoaded) loads.push(loadMembers(id));
  await Promise.allSettled(loads);
  if (S.currentId !== id) return;
  renderHeader();
  render({ toBottom: true });
  if (panel && panel.kind === 'members') renderPanel();
  maybeMarkRead();
  if (!hooks().isPhone()) $('#input').focus();
}

export async function reload() {
  const id = S.currentId;
  if (!id) return;
  const rs = roomState(id);
  rs.messages.clear();
  rs.loaded = false;
  rs.hasMore = true;
  forgetElements();
  await loadLatest(id);
  render({ toBottom: true });
}

async function loadMembers(id) {
  const rs = roomState(id);
  try {
    const ans = await api.get(`/api/chat/rooms/${id}/members`);
    rs.members.clear();
    for (const mem of api.results(ans)) {
      if (!mem.user) continue;
      rememberUser(mem.user);
      rs.members.set(mem.user.id, mem);
    }
    rs.membersLoaded = true;
    hooks().loadPresence([...rs.members.keys()]);
  } catch { /* members are decoration for this view */ }
}

function renderHeader() {
  const r = S.rooms.get(S.currentId);
  if (!r) return;
  clear($('#room-avatar')).appendChild(hooks().roomAvatar(r));
  $('#room-name').textContent = roomTitle(r);
  let sub;
  if (isDirect(r) && r.other_user) {
    const p = S.presence.get(r.other_user.id);
    const st = presenceOf(r.other_user.id);
    sub = st === 'offline' ? (p && p.last_seen ? `Last seen ${timeShort(p.last_seen)}` : 'Offline') : st[0].toUpperCase() + st.slice(1);
    if (S.connState !== 'open') sub = null; // presence is unknown while disconnected
    sub = [r.other_user.username ? `@${r.other_user.username}` : null, sub].filter(Boolean).join(' · ');
  } else {
    const n = r.member_count || roomState(r.id).members.size;
    sub = [hooks().roomKind(r), n ? `${n} member${n === 1 ? '' : 's'}` : null, r.description].filter(Boolean).join(' · ');
  }
  $('#room-sub').textContent = sub;
  const arch = $('#toggle-archive');
  arch.setAttribute('aria-label', r.archived ? 'Unarchive conversation' : 'Archive conversation');
  arch.title = r.archived ? 'Unarchive' : 'Archive';
  arch.setAttribute('aria-pressed', String(!!r.archived));
  $('#leave-room').hidden = isDirect(r);
  $('#toggle-members').setAttribute('aria-pressed', String(!!(panel && panel.kind === 'members')));
  $('#toggle-pins').setAttribute('aria-pressed', String(!!(panel && panel.kind === 'pins')));
  $('#toggle-reports').hidden = isDirect(r) || !MOD_ROLES.has(myRole(r));
  const role = myRole(r);
  const readOnly = role === 'observer' || (r.room_type === 'channel' && !MOD_ROLES.has(role));
  $('#input').disabled = readOnly;
  $('#send').disabled = readOnly;
  $('#file-input').disabled = readOnly;
  $('#input').placeholder = readOnly
    ? (role === 'observer' ? 'You can read this room' : 'Only admins and moderators post in this channel')
    : `Message ${isDirect(r) ? roomTitle(r) : `#${roomTitle(r)}`}`;
}

export function presenceChanged() {
  if (S.currentId) renderHeader();
  if (panel && panel.kind === 'members') renderPanel();
}

export function onRoomUpdated(r) {
  if (r.id === S.currentId) renderHeader();
}

export function connectionChanged(state) {
  $('#composer').classList.toggle('offline', state !== 'open');
  if (S.currentId) renderHeader();
  // Messages the SDK holds for the connection show whether they are going out or waiting.
  for (const rs of S.roomStates.values()) {
    for (const p of rs.pending.values()) {
      if (p._status === 'queued' || p._status === 'sending') setStatus(p, state === 'open' ? 'sending' : 'queued');
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Events from the socket

export function onNewMessage(m) {
  const rs = roomState(m.room_id);
  if (m.sender) rememberUser(m.sender);
  if (m.client_id && isMine(m) && rs.pending.has(m.client_id)) {
    dropPending(rs, rs.pending.get(m.client_id));
  }
  // Kept when the room's history is (being) loaded; other rooms load theirs when opened.
  if ((rs.loaded || S.currentId === m.room_id) && !rs.messages.has(m.id)) rs.messages.set(m.id, m);
  if (m.reply_to) noteReply(rs, m);
  if (m.sender) rs.typing.delete(m.sender.id);
  if (S.currentId === m.room_id) {
    render({ toBottom: isMine(m) });
    renderTyping();
    maybeMarkRead();
  }
  if (panel && panel.kind === 'thread' && panel.parentId === m.reply_to) {
    panel.replies = panel.replies || [];
    if (!panel.replies.find((x) => x.id === m.id)) panel.replies.push(m);
    renderPanel();
  }
}

export function onMessageUpdated(m) {
  const rs = roomState(m.room_id);
  const old = rs.messages.get(m.id);
  if (old) rs.messages.set(m.id, { ...m, _v: (old._v || 0) + 1 });
  if (rs.parents && rs.parents.has(m.id)) rs.parents.set(m.id, m);
  for (const x of rs.messages.values()) if (x.reply_to === m.id) touch(x);
  if (panel && panel.kind === 'thread' && panel.roomId === m.room_id) {
    if (panel.parent && panel.parent.id === m.id) panel.parent = m;
    panel.replies = (panel.replies || []).map((x) => (x.id === m.id ? m : x));
  }
  refreshViews(m.room_id);
}

export function onMessageDeleted(roomId, messageId) {
  const rs = roomState(roomId);
  const m = rs.messages.get(messageId);
  if (m) {
    Object.assign(m, { is_deleted: true, content: '', attachment: null, reactions: [] });
    touch(m);
  }
  for (const x of rs.messages.values()) if (x.reply_to === messageId) touch(x);
  const r = S.rooms.get(roomId);
  if (r && r.last_message && r.last_message.id === messageId) {
    r.last_message = { ...r.last_message, is_deleted: true, content: '' };
    hooks().renderRoomList();
  }
  if (C.editing && C.editing.id === messageId) resetComposer();
  refreshViews(roomId);
}

/** A message pinned or unpinned (`message_pinned` / `message_unpinned`, or my own change). */
export function onPin(roomId, messageId, on) {
  const rs = roomState(roomId);
  const m = rs.messages.get(messageId);
  if (m) { m.pinned = on; touch(m); }
  refreshViews(roomId);
  if (panel && panel.kind === 'pins' && S.currentId === roomId) renderPanel();
}

/** My blocks changed (the `blocks` frame). */
export function onBlocks(ids) {
  mod.onBlocks(ids);
  if (hooks().renderRoomList) hooks().renderRoomList();
  if (S.currentId) { for (const m of cur().messages.values()) touch(m); render({}); }
  if (panel && panel.kind === 'members') renderPanel();
}

export function onReaction(roomId, messageId, userId, emoji, add) {
  const rs = roomState(roomId);
  const m = rs.messages.get(messageId);
  if (m && applyReaction(m, userId, emoji, add)) refreshViews(roomId);
  if (panel && panel.kind === 'thread' && panel.roomId === roomId) {
    const t = [panel.parent, ...(panel.replies || [])].find((x) => x && x.id === messageId && x !== m);
    if (t && applyReaction(t, userId, emoji, add)) renderPanel();
  }
}

export function onTyping(roomId, userId, isTyping) {
  if (S.me && userId === S.me.id) return;
  const rs = roomState(roomId);
  if (isTyping) rs.typing.set(userId, Date.now() + 6000);
  else rs.typing.delete(userId);
  if (roomId === S.currentId) renderTyping();
}

export function onReadReceipt(roomId, userId, lastRead) {
  const rs = roomState(roomId);
  const mem = rs.members.get(userId);
  if (mem) mem.last_read_seq = Math.max(mem.last_read_seq || 0, lastRead || 0);
  if (roomId === S.currentId) render({});
}

export function onMemberJoined(roomId, member) {
  const rs = roomState(roomId);
  if (member && member.user) rs.members.set(member.user.id, member);
  const r = S.rooms.get(roomId);
  if (r) r.member_count = Math.max(r.member_count || 0, rs.members.size);
  if (roomId === S.currentId) { renderHeader(); if (panel && panel.kind === 'members') renderPanel(); }
}

export function onMemberLeft(roomId, userId) {
  const rs = roomState(roomId);
  if (rs.members.delete(userId)) {
    const r = S.rooms.get(roomId);
    if (r && r.member_count) r.member_count -= 1;
  }
  if (roomId === S.currentId) { renderHeader(); if (panel && panel.kind === 'members') renderPanel(); }
}

function renderTyping() {
  const rs = cur();
  const el = $('#typing');
  if (!rs) { el.textContent = ''; return; }
  const now = Date.now();
  const who = [];
  for (const [u, until] of rs.typing) {
    if (until < now) rs.typing.delete(u);
    else who.push(userName(u));
  }
  let text = '';
  if (who.length === 1) text = `${who[0]} is typing…`;
  else if (who.length === 2) text = `${who[0]} and ${who[1]} are typing…`;
  else if (who.length > 2) text = 'Several people are typing…';
  if (el.textContent !== text) el.textContent = text;
}

let markTimer = null;
export function maybeMarkRead() {
  clearTimeout(markTimer);
  markTimer = setTimeout(() => {
    const rs = cur();
    if (!rs || document.visibilityState !== 'visible' || !atBottom()) return;
    const r = S.rooms.get(rs.id);
    // The newest message, not the newest event: my own read receipt is an event too.
    const seqs = [...rs.messages.values()].map((m) => m.seq).filter((s) => s != null);
    const seq = Math.max(...seqs, (r && r.last_message && r.last_message.seq) || 0, 0);
    if (!r || !seq || (rs.markedSeq >= seq && !r.unread_count)) return;
    rs.markedSeq = seq;
    r.unread_count = 0;
    r.mention_count = 0;
    $('#jump').hidden = true;
    hooks().renderRoomList();
    sdkRoom(rs.id).markRead(seq).catch(() => { rs.markedSeq = 0; });
  }, 250);
}

// ---------------------------------------------------------------------------------------------
// Sending: local echo, then the ack (or the broadcast carrying our client_id) makes it final

function newPending(fields) {
  const rs = cur();
  const p = {
    _pending: true,
    _status: 'sending',
    _at: Date.now() + Math.random(),
    client_id: uuid(),
    room_id: rs.id,
    sender: { id: S.me.id, display_name: S.me.display_name },
    created_at: new Date().toISOString(),
    content: '',
    reactions: [],
    ...fields,
  };
  rs.pending.set(p.client_id, p);
  return p;
}

function dropPending(rs, p) {
  if (!p) return;
  rs.pending.delete(p.client_id);
  forgetElement(`p:${p.client_id}`);
  if (p._localUrl) setTimeout(() => URL.revokeObjectURL(p._localUrl), 60000);
}

function setStatus(p, status, extra = {}) {
  Object.assign(p, { _status: status }, extra);
  touch(p);
  if (S.currentId === p.room_id) render({});
}

export async function deliver(p) {
  const rs = roomState(p.room_id);
  if (!rs.pending.has(p.client_id)) return;
  if (p._inflight) return;
  p._inflight = true;
  try {
    if (!p._upload && p._file && !p.attachment_id) {
      // A retry after a failed upload uploads the file again.
      p._upload = api.upload(p._file, (f) => setStatus(p, 'uploading', { _progress: f }));
    }
    if (p._upload && !p.attachment_id) {
      setStatus(p, 'uploading', { _error: null });
      try {
        const up = p._upload.result || await p._upload.promise;
        p._upload.result = up;
        p.attachment_id = up.id;
        p.message_type = (up.content_type || '').startsWith('image/') ? 'image' : 'file';
      } catch (e) {
        p._upload = null;
        setStatus(p, 'failed', { _error: `upload failed (${e.message})` });
        return;
      }
    }
    // The SDK sends it now or when the connection is back, resends it (same client_id) after a
    // drop, and resolves once on the server's ack.
    setStatus(p, S.client && S.client.online ? 'sending' : 'queued', { _error: null });
    const fields = { content: p.content, client_id: p.client_id };
    if (p.reply_to) fields.reply_to = p.reply_to;
    if (p.attachment_id) fields.attachment_id = p.attachment_id;
    if (p.message_type && p.message_type !== 'text') fields.message_type = p.message_type;
    let msg;
    try {
      msg = await sdkRoom(p.room_id).send(fields);
    } catch (e) {
      if (!rs.pending.has(p.client_id)) return; // the broadcast made it final meanwhile
      setStatus(p, 'failed', { _error: e.message });
      return;
    }
    if (msg) finalize(rs, p, msg);
  } finally {
    p._inflight = false;
  }
}

function finalize(rs, p, msg) {
  dropPending(rs, p);
  if (msg.sender) rememberUser(msg.sender);
  if (rs.loaded && !rs.messages.has(msg.id)) rs.messages.set(msg.id, msg);
  if (msg.reply_to) noteReply(rs, msg);
  const r = S.rooms.get(rs.id);
  if (r && (!r.last_message || (msg.seq || 0) >= (r.last_message.seq || 0))) {
    r.last_message = msg;
    r.last_message_at = msg.created_at;
    hooks().renderRoomList();
  }
  if (S.currentId === rs.id) render({ toBottom: true });
  if (panel && panel.kind === 'thread' && panel.parentId === msg.reply_to) {
    panel.replies = panel.replies || [];
    if (!panel.replies.find((x) => x.id === msg.id)) panel.replies.push(msg);
    renderPanel();
  }
}

export function discard(p) {
  const rs = roomState(p.room_id);
  if (p._upload && p._upload.abort) p._upload.abort();
  dropPending(rs, p);
  if (S.currentId === p.room_id) render({});
}

function sendTyping(on) {
  if (S.currentId && S.client) sdkRoom(S.currentId).typing(on);
}

function onComposerInput() {
  autosize();
  updateMentions();
  const text = $('#input').value;
  if (C.editing) return;
  clearTimeout(C.typingIdle);
  if (text.trim()) {
    if (Date.now() - C.typingSentAt > 2500) { C.typingSentAt = Date.now(); sendTyping(true); }
    C.typingIdle = setTimeout(() => { C.typingSentAt = 0; sendTyping(false); }, 4000);
  } else if (C.typingSentAt) {
    C.typingSentAt = 0;
    sendTyping(false);
  }
}

function submitComposer() {
  const rs = cur();
  if (!rs || $('#input').disabled) return;
  const input = $('#input');
  const text = input.value.replace(/\s+$/, '').replace(/^\s*\n/, '');
  if (C.editing) {
    if (text.trim()) saveEdit(C.editing, text);
    resetComposer();
    input.value = '';
    autosize();
    return;
  }
  const tray = C.tray;
  if (!text.trim() && !tray.length) return;
  C.drafts.delete(rs.id);
  const reply = C.replyTo;
  const made = [];
  if (tray.length) {
    tray.forEach((t, i) => {
      made.push(newPending({
        content: i === 0 ? text.trim() : '',
        reply_to: i === 0 && reply ? reply.id : undefined,
        _upload: t.upload,
        _file: t.file,
        _localUrl: t.localUrl,
        _status: 'uploading',
        _progress: t.progress,
      }));
      t.pending = made[made.length - 1];
    });
  } else {
    made.push(newPending({ content: text.trim(), reply_to: reply ? reply.id : undefined }));
  }
  C.tray = [];
  renderTray();
  input.value = '';
  autosize();
  resetComposer();
  clearTimeout(C.typingIdle);
  if (C.typingSentAt) { C.typingSentAt = 0; sendTyping(false); }
  render({ toBottom: true });
  for (const p of made) deliver(p);
}

async function saveEdit(m, text) {
  if (text === m.content) return;
  const rs = roomState(m.room_id);
  try {
    const msg = await sdkRoom(m.room_id).edit(m.id, text);
    if (msg && msg.id) onMessageUpdated(msg);
  } catch (e) {
    toast(`Edit failed: ${e.message}`);
  }
  void rs;
}

export async function deleteMessage(m) {
  if (!window.confirm('Delete this message for everyone?')) return;
  try {
    await sdkRoom(m.room_id).delete(m.id);
    onMessageDeleted(m.room_id, m.id);
  } catch (e) {
    toast(`Delete failed: ${e.message}`);
  }
}

export function startReply(m) {
  C.editing = null;
  C.replyTo = m;
  const who = senderName(m);
  let snippet = m.content || (m.attachment ? `[${m.attachment.file_name}]` : '');
  if (snippet.length > 80) snippet = `${snippet.slice(0, 80)}…`;
  showContext(`Replying to ${who}: ${snippet}`);
  $('#input').focus();
}

export function startEdit(m) {
  C.replyTo = null;
  C.editing = m;
  showContext('Editing message · Esc to cancel');
  const input = $('#input');
  input.value = m.content;
  autosize();
  input.focus();
  input.setSelectionRange(input.value.length, input.value.length);
}

function showContext(text) {
  $('#composer-context-text').textContent = text;
  $('#composer-context').hidden = false;
  $('#composer').classList.toggle('editing', !!C.editing);
}

function resetComposer() {
  const wasEditing = !!C.editing;
  C.editing = null;
  C.replyTo = null;
  $('#composer-context').hidden = true;
  $('#composer').classList.remove('editing');
  if (wasEditing) { $('#input').value = ''; autosize(); }
}

function autosize() {
  const el = $('#input');
  el.style.height = '';
  if (!el.value || !el.offsetParent) return;
  el.style.height = `${Math.min(el.scrollHeight + 2, 180)}px`;
}

// Attachments: each file starts uploading when picked or pasted, with its own progress.
function addFiles(files) {
  if (!S.currentId || $('#input').disabled) return;
  for (const file of files) {
    const t = { id: uuid(), file, progress: 0, localUrl: file.type.startsWith('image/') ? URL.createObjectURL(file) : null };
    t.upload = api.upload(file, (f) => {
      t.progress = f;
      renderTrayItem(t);
      if (t.pending) setStatus(t.pending, t.pending._status, { _progress: f });
    });
    t.upload.promise.then((res) => { t.upload.result = res; t.done = true; renderTrayItem(t); })
      .catch((e) => { t.error = e.message; renderTrayItem(t); });
    C.tray.push(t);
  }
  renderTray();
  $('#input').focus();
}

function renderTray() {
  const ul = $('#tray');
  clear(ul);
  ul.hidden = C.tray.length === 0;
  for (const t of C.tray) { t.el = null; ul.appendChild(renderTrayItem(t)); }
}

function renderTrayItem(t) {
  const li = t.el || h('li.tray-item');
  const fresh = !t.el;
  t.el = li;
  clear(li);
  const pct = Math.round(t.progress * 100);
  li.append(
    t.localUrl ? h('img.tray-thumb', { src: t.localUrl, alt: '' }) : h('span.file-icon', icon('file', 22)),
    h('span.tray-meta', h('span.file-name', t.file.name || 'pasted file'),
      t.error ? h('span.fail', t.error) : h('progress', { max: '100', value: String(pct), 'aria-label': `Upload of ${t.file.name} ${pct}%` })),
    h('button.icon-btn', { type: 'button', 'aria-label': `Remove ${t.file.name}`, on: { click: () => {
      t.upload.abort();
      C.tray = C.tray.filter((x) => x !== t);
      renderTray();
    } } }, icon('close', 14)));
  if (!fresh && !li.isConnected) return li;
  return li;
}

// @mention autocomplete over the room's members.
function updateMentions() {
  const input = $('#input');
  const popup = $('#mention-popup');
  const before = input.value.slice(0, input.selectionStart);
  const m = before.match(/(?:^|\s)@([a-z0-9_.-]{0,32})$/i);
  const rs = cur();
  if (!m || !rs) { closeMentions(); return; }
  const q = m[1].toLowerCase();
  const list = [...rs.members.values()].map((x) => x.user).filter((u) => u && u.username && (!S.me || u.id !== S.me.id))
    .filter((u) => u.username.toLowerCase().startsWith(q) || (u.display_name || '').toLowerCase().includes(q)).slice(0, 6);
  if (!list.length) { closeMentions(); return; }
  C.mention = { start: before.length - q.length - 1, list, index: Math.min(C.mention ? C.mention.index : 0, list.length - 1) };
  clear(popup);
  list.forEach((u, i) => {
    popup.appendChild(h('li', {
      role: 'option',
      id: `mention-opt-${i}`,
      'aria-selected': String(i === C.mention.index),
      on: { mousedown: (ev) => { ev.preventDefault(); pickMention(i); } },
    }, avatar(u, 'xs'), h('span', u.display_name || u.username), h('span.muted', ` @${u.username}`)));
  });
  popup.hidden = false;
  input.setAttribute('aria-expanded', 'true');
  input.setAttribute('aria-activedescendant', `mention-opt-${C.mention.index}`);
}

function closeMentions() {
  C.mention = null;
  $('#mention-popup').hidden = true;
  $('#input').setAttribute('aria-expanded', 'false');
  $('#input').removeAttribute('aria-activedescendant');
}

function pickMention(i) {
  const input = $('#input');
  const u = C.mention.list[i];
  const end = input.selectionStart;
  input.value = `${input.value.slice(0, C.mention.start)}@${u.username} ${input.value.slice(end)}`;
  const pos = C.mention.start + u.username.length + 2;
  input.setSelectionRange(pos, pos);
  closeMentions();
  input.focus();
}

function onComposerKey(ev) {
  if (C.mention) {
    if (ev.key === 'ArrowDown' || ev.key === 'ArrowUp') {
      ev.preventDefault();
      const n = C.mention.list.length;
      C.mention.index = (C.mention.index + (ev.key === 'ArrowDown' ? 1 : n - 1)) % n;
      updateMentions();
      return;
    }
    if (ev.key === 'Enter' || ev.key === 'Tab') { ev.preventDefault(); pickMention(C.mention.index); return; }
    if (ev.key === 'Escape') { ev.preventDefault(); closeMentions(); return; }
  }
  if (ev.key === 'Enter' && !ev.shiftKey && !ev.isComposing) {
    ev.preventDefault();
    submitComposer();
  } else if (ev.key === 'Escape' && (C.editing || C.replyTo)) {
    ev.preventDefault();
    resetComposer();
  } else if (ev.key === 'ArrowUp' && !ev.target.value && !C.editing) {
    const rs = cur();
    const last = rs && ordered(rs).reverse().find((m) => isMine(m) && !m._pending && !m.is_deleted && m.content);
    if (last) { ev.preventDefault(); startEdit(last); }
  }
}

// ---------------------------------------------------------------------------------------------
// Side panel: members, a thread, search results

function openPanel(p) {
  panel = p;
  $('#side-panel').hidden = false;
  document.body.classList.add('panel-open');
  renderPanel();
  if (S.currentId) renderHeader();
}

function closePanel() {
  panel = null;
  $('#side-panel').hidden = true;
  document.body.classList.remove('panel-open');
  if (S.currentId) renderHeader();
}

export async function openThread(roomId, parentId) {
  const rs = roomState(roomId);
  const parent = rs.messages.get(parentId) || (rs.parents && rs.parents.get(parentId));
  openPanel({ kind: 'thread', roomId, parentId, parent, replies: null });
  try {
    const [p, ans] = await Promise.all([
      parent ? Promise.resolve(parent) : api.get(`/api/chat/rooms/${roomId}/messages/${parentId}`),
      api.get(`/api/chat/rooms/${roomId}/messages/${parentId}/thread`),
    ]);
    if (!panel || panel.parentId !== parentId) return;
    panel.parent = (ans && ans.parent) || p;
    const seen = new Map((panel.replies || []).map((x) => [x.id, x]));
    for (const x of api.results(ans)) seen.set(x.id, x);
    panel.replies = [...seen.values()];
    renderPanel();
  } catch (e) {
    toast(`Could not load the thread: ${e.message}`);
  }
}

export async function showSearch(q) {
  openPanel({ kind: 'search', query: q, results: null });
  try {
    const ans = await api.get(`/api/chat/search/messages${api.qs({ q, limit: 30 })}`);
    if (!panel || panel.kind !== 'search' || panel.query !== q) return;
    panel.results = api.results(ans);
  } catch (e) {
    if (panel && panel.kind === 'search') panel.error = e.message;
  }
  renderPanel();
}

export function renderPanel() {
  if (!panel) return;
  const body = clear($('#panel-body'));
  const title = $('#panel-title');
  if (panel.kind === 'members') {
    const rs = cur();
    const r = rs && S.rooms.get(rs.id);
    title.textContent = 'Members';
    if (!rs) return;
    const order = { owner: 0, admin: 1, moderator: 2, member: 3, observer: 4 };
    const members = [...rs.members.values()].sort((a, b) => (order[a.role] - order[b.role]) ||
      (a.user.display_name || '').localeCompare(b.user.display_name || ''));
    body.appendChild(h('p.muted.panel-note', `${members.length} member${members.length === 1 ? '' : 's'}`));
    body.appendChild(h('ul.member-list', members.map((mem) => {
      const st = presenceOf(mem.user.id);
      return h('li.member', { 'aria-label': `${mem.user.display_name}, ${mem.role}, ${st}` },
        h('span.avatar-wrap', avatar(mem.user, 'sm'), h(`span.dot.dot-${st}`, { title: st })),
        h('span.member-name', mem.user.display_name || mem.user.username,
          mem.user.username ? h('span.muted', ` @${mem.user.username}`) : null),
        mem.role !== 'member' && !isDirect(r) ? h(`span.role.role-${mem.role}`, mem.role) : null,
        mod.blockButton(mem.user, renderPanel));
    })));
    if (r && !isDirect(r) && MOD_ROLES.has(myRole(r)) && r.room_type !== 'public') {
      body.appendChild(S.hooks.addMemberForm(r));
    }
    return;
  }
  if (panel.kind === 'pins' || panel.kind === 'reports') {
    const r = S.rooms.get(S.currentId);
    if (!r) return;
    if (panel.kind === 'reports') { title.textContent = 'Reports'; mod.renderReports(body, r.id); return; }
    title.textContent = 'Pinned';
    const canPin = isDirect(r) || MOD_ROLES.has(myRole(r));
    mod.renderPins(body, r.id, { canPin, jumpTo, after: renderPanel });
    return;
  }
  if (panel.kind === 'thread') {
    title.textContent = 'Thread';
    const rs = roomState(panel.roomId);
    const names = usernamesOf(rs);
    if (!panel.parent) { body.appendChild(h('p.muted', 'Loading…')); return; }
    const list = h('div.thread-list');
    list.appendChild(messageEl(panel.parent, rs, { compact: false, names, inThread: true }));
    const replies = (panel.replies || []).slice().sort((a, b) => (a.seq || 0) - (b.seq || 0));
    list.appendChild(h('p.thread-count.muted', !panel.replies ? 'Loading replies…' : replies.length ? `${replies.length} repl${replies.length === 1 ? 'y' : 'ies'}` : 'No replies yet'));
    for (const m of replies) list.appendChild(messageEl(rs.messages.get(m.id) || m, rs, { compact: false, names, inThread: true }));
    body.appendChild(list);
    const ta = h('textarea.thread-input', { rows: '2', placeholder: 'Reply in thread', 'aria-label': 'Reply in thread' });
    const send = () => {
      const text = ta.value.trim();
      if (!text) return;
      ta.value = '';
      if (S.currentId !== panel.roomId) return;
      const p = newPending({ content: text, reply_to: panel.parentId });
      render({ toBottom: true });
      deliver(p);
    };
    ta.addEventListener('keydown', (ev) => {
      if (ev.key === 'Enter' && !ev.shiftKey && !ev.isComposing) { ev.preventDefault(); send(); }
    });
    body.appendChild(h('form.thread-composer', { on: { submit: (ev) => { ev.preventDefault(); send(); } } },
      ta, h('button.btn.btn-primary.btn-small', { type: 'submit' }, 'Reply')));
    return;
  }
  if (panel.kind === 'search') {
    title.textContent = `Search: “${panel.query}”`;
    if (panel.error) { body.appendChild(h('p.fail', panel.error)); return; }
    if (!panel.results) { body.appendChild(h('p.muted', 'Searching…')); return; }
    if (!panel.results.length) { body.appendChild(h('p.muted', 'No messages found.')); return; }
    body.appendChild(h('ul.search-results', panel.results.map((res) => {
      const m = res.message || res;
      const r = S.rooms.get(m.room_id);
      return h('li', h('button.search-hit', {
        type: 'button',
        on: { click: async () => { $('#search-input').value = ''; await open(m.room_id); setTimeout(() => jumpTo(m.id), 50); if (hooks().isPhone()) closePanel(); } },
      },
      h('span.search-hit-head', h('strong', r ? roomTitle(r) : 'Room'), h('span.muted', ` · ${senderName(m)} · ${timeShort(m.created_at)}`)),
      h('span.search-hit-text', highlighted(res.snippet || res.highlight || m.content || ''))));
    })));
  }
}

// The server's snippet is HTML: the message text escaped, matches in <mark>. It is parsed in an
// inert document (DOMParser runs no script and loads nothing) and rebuilt from text and <mark>
// only, so nothing else of it can reach the page.
function highlighted(snippet) {
  const frag = document.createDocumentFragment();
  const doc = new DOMParser().parseFromString(`<body>${String(snippet)}</body>`, 'text/html');
  const walk = (node) => {
    for (const n of node.childNodes) {
      if (n.nodeType === Node.TEXT_NODE) frag.appendChild(document.createTextNode(n.textContent));
      else if (n.nodeType === Node.ELEMENT_NODE && n.tagName === 'MARK') frag.appendChild(h('mark', n.textContent));
      else if (n.nodeType === Node.ELEMENT_NODE) walk(n);
    }
  };
  walk(doc.body);
  return frag;
}

// ---------------------------------------------------------------------------------------------
// Setup

export function setup() {
  const input = $('#input');
  $('#composer').addEventListener('submit', (ev) => { ev.preventDefault(); submitComposer(); });
  input.addEventListener('keydown', onComposerKey);
  input.addEventListener('input', onComposerInput);
  input.addEventListener('blur', () => setTimeout(closeMentions, 150));
  input.addEventListener('paste', (ev) => {
    const files = [...(ev.clipboardData ? ev.clipboardData.files : [])];
    if (files.length) { ev.preventDefault(); addFiles(files); }
  });
  $('#file-input').addEventListener('change', (ev) => { addFiles([...ev.target.files]); ev.target.value = ''; });
  $('#composer-cancel').addEventListener('click', () => { resetComposer(); input.focus(); });
  setupList();
  const dropZone = $('#room-pane');
  dropZone.addEventListener('dragover', (ev) => { if (ev.dataTransfer && [...ev.dataTransfer.types].includes('Files')) { ev.preventDefault(); dropZone.classList.add('dragging'); } });
  dropZone.addEventListener('dragleave', () => dropZone.classList.remove('dragging'));
  dropZone.addEventListener('drop', (ev) => {
    dropZone.classList.remove('dragging');
    if (ev.dataTransfer && ev.dataTransfer.files.length) { ev.preventDefault(); addFiles([...ev.dataTransfer.files]); }
  });
  $('#back').addEventListener('click', () => {
    if (history.state && history.state.room) history.back();
    else { showEmpty(); sessionStorage.removeItem('confab.room'); }
  });
  window.addEventListener('popstate', (ev) => {
    if (!(ev.state && ev.state.room) && S.currentId) { showEmpty(); sessionStorage.removeItem('confab.room'); }
  });
  $('#toggle-members').addEventListener('click', () => {
    if (panel && panel.kind === 'members') closePanel();
    else { openPanel({ kind: 'members' }); if (S.currentId) loadMembers(S.currentId).then(renderPanel); }
  });
  $('#panel-close').addEventListener('click', closePanel);
  for (const kind of ['pins', 'reports']) {
    $(`#toggle-${kind}`).addEventListener('click', () => {
      if (panel && panel.kind === kind) closePanel(); else openPanel({ kind });
    });
  }
  $('#toggle-archive').addEventListener('click', async () => {
    const r = S.rooms.get(S.currentId);
    if (!r) return;
    try {
      await api.post(`/api/chat/rooms/${r.id}/${r.archived ? 'unarchive' : 'archive'}`, {});
      r.archived = !r.archived;
      hooks().renderRoomList();
      renderHeader();
      toast(r.archived ? 'Conversation archived' : 'Conversation moved back to the list');
    } catch (e) { toast(e.message); }
  });
  $('#leave-room').addEventListener('click', async () => {
    const r = S.rooms.get(S.currentId);
    if (!r || !window.confirm(`Leave ${roomTitle(r)}?`)) return;
    try {
      await api.post(`/api/chat/rooms/${r.id}/leave`, {});
      S.rooms.delete(r.id);
      showEmpty();
    } catch (e) { toast(e.message); }
  });
  document.addEventListener('keydown', (ev) => {
    if (ev.key === 'Escape' && panel && !document.querySelector('dialog[open]') && document.activeElement !== input) closePanel();
  });
  setInterval(() => { if (S.currentId) renderTyping(); }, 1000);
}
