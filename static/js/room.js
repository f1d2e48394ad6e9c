// The open room: history (newest page first, older pages on scroll up), local echo with
// client_id, replies, threads, edits, deletes, reactions, mentions, typing, "seen by", members,
// attachments with upload progress, and the side panel (members, thread, search results).

import * as api from './api.js';
import { h, clear, $, avatar, timeShort } from './dom.js';
import { S, roomState, roomTitle, userName, rememberUser, presenceOf, isDirect } from './state.js';
import { toast, closePopover } from './ui.js';
import * as mod from './moderation.js';
import { MOD_ROLES, hooks, sdkRoom, cur, isMine, touch, myRole, senderName } from './roomview.js';
import {
  atBottom, loadLatest, noteReply, usernamesOf, render, messageEl, jumpTo, applyReaction, refreshViews, forgetElements,
  setupList,
} from './messages.js';
import { newPending, dropPending, setStatus, deliver, switchDraft, editGone, setupComposer } from './composer.js';

export { atBottom };

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
    switchDraft(S.currentId, id);
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
  setupComposer();
  setupList();
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
