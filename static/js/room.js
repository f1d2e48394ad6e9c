// The open room: opening and closing it, what the server's events change in it (messages, edits,
// deletes, reactions, pins, blocks, typing, read receipts, members), and marking it read. Its
// parts: messages.js (the message list), composer.js (sending, the composer), panel.js (the side
// panel), header.js (the header) and roomview.js (what they share).

import * as api from './api.js';
import { $ } from './dom.js';
import { S, roomState, roomTitle, userName, rememberUser } from './state.js';
import { toast, closePopover } from './ui.js';
import * as mod from './moderation.js';
import { hooks, sdkRoom, cur, isMine, touch, loadMembers } from './roomview.js';
import { atBottom, loadLatest, noteReply, render, applyReaction, refreshViews, forgetElements, setupList } from './messages.js';
import { dropPending, setStatus, switchDraft, editGone, setupComposer } from './composer.js';
import { panel, closePanel, renderPanel, showSearch, threadReply, threadUpdated, threadCopy, setupPanel } from './panel.js';
import { renderHeader } from './header.js';

export { atBottom, showSearch };

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
  if (S.currentId !== id) switchDraft(S.currentId, id); // each room keeps its unsent draft
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
  threadReply(m);
}

export function onMessageUpdated(m) {
  const rs = roomState(m.room_id);
  const old = rs.messages.get(m.id);
  if (old) rs.messages.set(m.id, { ...m, _v: (old._v || 0) + 1 });
  if (rs.parents && rs.parents.has(m.id)) rs.parents.set(m.id, m);
  for (const x of rs.messages.values()) if (x.reply_to === m.id) touch(x);
  threadUpdated(m);
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
  editGone(messageId);
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
  const t = threadCopy(roomId, messageId, m);
  if (t && applyReaction(t, userId, emoji, add)) renderPanel();
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
// Setup

export function setup() {
  setupComposer();
  setupList();
  $('#back').addEventListener('click', () => {
    if (history.state && history.state.room) history.back();
    else { showEmpty(); sessionStorage.removeItem('confab.room'); }
  });
  window.addEventListener('popstate', (ev) => {
    if (!(ev.state && ev.state.room) && S.currentId) { showEmpty(); sessionStorage.removeItem('confab.room'); }
  });
  setupPanel();
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
  setInterval(() => { if (S.currentId) renderTyping(); }, 1000);
}
