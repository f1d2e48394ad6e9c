// The open room: history (newest page first, older pages on scroll up), local echo with
// client_id, replies, threads, edits, deletes, reactions, mentions, typing, "seen by", members,
// attachments with upload progress, and the side panel (members, thread, search results).

import * as api from './api.js';
import { h, clear, $, avatar, richText, timeShort, timeLong, dayLabel, fileSize, uuid } from './dom.js';
import { S, roomState, roomTitle, userName, rememberUser, presenceOf, isDirect } from './state.js';
import { toast, modal, popover, closePopover } from './ui.js';
import { icon } from './icons.js';
import * as mod from './moderation.js';
import * as previews from './previews.js';

const PAGE = 50;
const REACTIONS = ['👍', '❤️', '😂', '🎉', '😮', '😢', '🙏', '👀'];
const MOD_ROLES = new Set(['owner', 'admin', 'moderator']);

// Composer state for the open room.
const C = { editing: null, replyTo: null, tray: [], typingSentAt: 0, typingIdle: null, mention: null, drafts: new Map() };
let panel = null; // {kind: 'members'|'thread'|'search', roomId, parentId, query}
const elCache = new Map(); // message key -> {el, sig}

const hooks = () => S.hooks;
// The SDK's handle of a room (followed since the room list named it).
const sdkRoom = (id) => S.client.room(id);
const cur = () => (S.currentId ? roomState(S.currentId) : null);
const isMine = (m) => !!(S.me && m.sender && m.sender.id === S.me.id);
const keyOf = (m) => (m._pending ? `p:${m.client_id}` : m.id);
const touch = (m) => { if (m) m._v = (m._v || 0) + 1; };

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
  elCache.clear();
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
  elCache.clear();
  await loadLatest(id);
  render({ toBottom: true });
}

async function loadLatest(id) {
  const rs = roomState(id);
  try {
    const ans = await api.get(`/api/chat/rooms/${id}/messages${api.qs({ limit: PAGE })}`);
    addHistory(rs, api.results(ans));
    rs.hasMore = !!(ans && ans.has_more);
    rs.loaded = true;
  } catch (e) {
    toast(`Could not load messages: ${e.message}`);
  }
}

async function loadOlder() {
  const rs = cur();
  if (!rs || !rs.hasMore || rs.loadingOlder || !rs.loaded) return;
  const seqs = [...rs.messages.values()].map((m) => m.seq).filter((s) => s != null);
  if (!seqs.length) return;
  rs.loadingOlder = true;
  renderLoader(rs);
  const box = $('#messages');
  try {
    const ans = await api.get(`/api/chat/rooms/${rs.id}/messages${api.qs({ before_seq: Math.min(...seqs), limit: PAGE })}`);
    if (S.currentId !== rs.id) return;
    const fromBottom = box.scrollHeight - box.scrollTop;
    addHistory(rs, api.results(ans));
    rs.hasMore = !!(ans && ans.has_more);
    render({});
    box.scrollTop = box.scrollHeight - fromBottom;
  } catch (e) {
    toast(`Could not load older messages: ${e.message}`);
  } finally {
    rs.loadingOlder = false;
    renderLoader(rs);
  }
}

function addHistory(rs, list) {
  for (const m of list) {
    if (m.seq != null) rs.seen.add(m.seq);
    if (m.sender) rememberUser(m.sender);
    const old = rs.messages.get(m.id);
    if (!old) rs.messages.set(m.id, m);
    else if (JSON.stringify({ ...old, _v: 0 }) !== JSON.stringify({ ...m, _v: 0 })) { rs.messages.set(m.id, { ...m, _v: (old._v || 0) + 1 }); }
    if (m.reply_to) noteReply(rs, m);
    if (m.seq != null && (rs.lastSeq == null || m.seq > rs.lastSeq)) rs.lastSeq = m.seq;
  }
}

function noteReply(rs, m) {
  let set = rs.replies.get(m.reply_to);
  if (!set) { set = new Set(); rs.replies.set(m.reply_to, set); }
  if (!set.has(m.id)) {
    set.add(m.id);
    touch(rs.messages.get(m.reply_to));
  }
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

function myRole(r) {
  const rs = roomState(r.id);
  const me = S.me && rs.members.get(S.me.id);
  return (me && me.role) || r.my_role || 'member';
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
// Rendering the message list

export function atBottom() {
  const box = $('#messages');
  return box.scrollHeight - box.scrollTop - box.clientHeight < 40;
}

function scrollToBottom() {
  const box = $('#messages');
  box.scrollTop = box.scrollHeight;
}

function ordered(rs) {
  const list = [...rs.messages.values()].sort((a, b) => (a.seq || 0) - (b.seq || 0));
  const pend = [...rs.pending.values()].sort((a, b) => a._at - b._at);
  return list.concat(pend);
}

function usernamesOf(rs) {
  const set = new Set();
  for (const mem of rs.members.values()) if (mem.user && mem.user.username) set.add(mem.user.username.toLowerCase());
  if (S.me && S.me.username) set.add(S.me.username.toLowerCase());
  return set;
}

function render({ toBottom }) {
  const rs = cur();
  if (!rs) return;
  const box = $('#messages');
  const stick = toBottom || atBottom();
  const items = [];
  const names = usernamesOf(rs);
  let prev = null;
  renderLoader(rs);
  items.push(rs.loaderEl);
  const list = ordered(rs);
  for (const m of list) {
    const day = m.created_at ? new Date(m.created_at).toDateString() : null;
    const prevDay = prev && prev.created_at ? new Date(prev.created_at).toDateString() : null;
    if (day && day !== prevDay) {
      const k = `day:${day}`;
      let c = elCache.get(k);
      if (!c) { c = { el: h('div.day', { role: 'separator' }, h('span', dayLabel(m.created_at))) }; elCache.set(k, c); }
      items.push(c.el);
    }
    const compact = !!(prev && !m.reply_to && prev.sender && m.sender && prev.sender.id === m.sender.id &&
      !prev.is_deleted && day === prevDay && m.created_at && prev.created_at &&
      new Date(m.created_at) - new Date(prev.created_at) < 5 * 60 * 1000 && m.message_type !== 'system');
    const key = keyOf(m);
    const sig = `${m._v || 0}|${compact}|${m._status || ''}|${m._progress || ''}|${names.size}`;
    let c = elCache.get(key);
    if (!c || c.sig !== sig) {
      c = { el: messageEl(m, rs, { compact, names }), sig };
      elCache.set(key, c);
    }
    items.push(c.el);
    prev = m;
  }
  if (!list.length && rs.loaded) {
    if (!rs.emptyEl) rs.emptyEl = h('p.empty-hint.center', 'No messages yet. Say hello!');
    items.push(rs.emptyEl);
  }
  const seen = seenByEl(rs, list);
  if (seen) items.push(seen);
  reconcile(box, items);
  if (stick) scrollToBottom();
  updateJump();
}

// "New messages ↓" while scrolled up and something unread arrived below.
function updateJump() {
  const r = S.currentId && S.rooms.get(S.currentId);
  $('#jump').hidden = !r || !r.unread_count || atBottom();
}

// Puts `items` in `box` touching only what changed: the list is a live region, and nodes
// removed and added again would be read out again.
function reconcile(box, items) {
  let cur = box.firstChild;
  for (const el of items) {
    if (cur === el) { cur = cur.nextSibling; continue; }
    box.insertBefore(el, cur);
  }
  while (cur) {
    const next = cur.nextSibling;
    box.removeChild(cur);
    cur = next;
  }
}

function renderLoader(rs) {
  if (!rs.loaderEl) rs.loaderEl = h('div.loader');
  const el = clear(rs.loaderEl);
  if (!rs.loaded) el.append(h('span.muted', 'Loading…'));
  else if (rs.loadingOlder) el.append(h('span.muted', 'Loading older messages…'));
  else if (rs.hasMore) el.append(h('button.btn.btn-small.btn-ghost', { type: 'button', on: { click: loadOlder } }, 'Load older messages'));
  else el.append(h('span.muted', 'This is the beginning of the conversation.'));
}

function seenByEl(rs, list) {
  const last = [...list].reverse().find((m) => !m._pending && m.seq != null && !m.is_deleted);
  if (!last) return null;
  const who = [...rs.members.values()].filter((mem) => mem.user &&
    mem.user.id !== (last.sender && last.sender.id) && (!S.me || mem.user.id !== S.me.id) &&
    (mem.last_read_seq || 0) >= last.seq).map((mem) => mem.user.display_name || mem.user.username);
  if (!who.length) return null;
  const text = who.length > 3 ? `Seen by ${who.slice(0, 3).join(', ')} and ${who.length - 3} more` : `Seen by ${who.join(', ')}`;
  if (!rs.seenEl || rs.seenText !== text) {
    rs.seenText = text;
    rs.seenEl = h('p.seen-by', h('span', { 'aria-hidden': 'true' }, '✓✓ '), text);
  }
  return rs.seenEl;
}

function senderName(m) {
  if (!m.sender) return 'System';
  const u = S.users.get(m.sender.id);
  return m.sender.display_name || (u && u.display_name) || 'Someone';
}

function messageEl(m, rs, { compact, names, inThread }) {
  const mine = isMine(m);
  const r = S.rooms.get(rs.id);
  const canModerate = r && MOD_ROLES.has(myRole(r));
  const system = m.message_type === 'system';
  const art = h('article.msg', {
    dataset: { id: m.id || '', seq: m.seq != null ? String(m.seq) : '', clientId: m.client_id || '' },
    'aria-label': `${senderName(m)}, ${timeLong(m.created_at)}`,
    tabindex: '-1',
  });
  if (mine) art.classList.add('mine');
  if (compact) art.classList.add('compact');
  if (system) art.classList.add('system');
  if (m._pending) art.classList.add('pending', `status-${m._status}`);
  if (m.is_deleted) art.classList.add('deleted');

  const gutter = h('div.msg-gutter');
  if (!compact && !system) gutter.appendChild(avatar(m.sender || { id: 'system', display_name: 'System' }, 'sm'));
  else if (m.created_at) gutter.appendChild(h('time.msg-hover-time', { datetime: m.created_at, title: timeLong(m.created_at) }, timeShort(m.created_at)));
  art.appendChild(gutter);

  const body = h('div.msg-body');
  if (!compact && !system) {
    body.appendChild(h('header.msg-head',
      h('span.msg-sender', senderName(m)),
      m.created_at ? h('time.msg-time', { datetime: m.created_at, title: timeLong(m.created_at) }, timeShort(m.created_at)) : null));
  }
  if (m.reply_to && !inThread) body.appendChild(quoteEl(m, rs));
  const badge = mod.pinnedBadge(m);
  if (badge) body.appendChild(badge);
  if (m.is_deleted) {
    body.appendChild(h('p.msg-text.tombstone', 'This message was deleted.'));
  } else if (!mine && !m._reveal && mod.isBlockedSender(m)) {
    body.appendChild(mod.collapsedEl(m, () => { m._reveal = true; touch(m); refreshViews(m.room_id); }));
  } else {
    if (m.content) {
      const text = h('div.msg-text');
      text.appendChild(richText(m.content, names));
      if (m.edited_at) text.appendChild(h('span.edited', { title: `Edited ${timeLong(m.edited_at)}` }, ' (edited)'));
      body.appendChild(text);
    }
    if (m.attachment || m._file) body.appendChild(attachmentEl(m));
    const lp = previews.linkPreview(m); if (lp) body.appendChild(lp);
    if (m.message_type === 'location' && m.metadata && m.metadata.lat != null) {
      body.appendChild(h('p.msg-text', `Location: ${m.metadata.label || ''} (${m.metadata.lat}, ${m.metadata.lon})`));
    }
  }
  if (m._pending) body.appendChild(pendingStatusEl(m));
  if (!m.is_deleted && m.reactions && m.reactions.length) body.appendChild(reactionsEl(m, rs));
  const replies = Math.max(m.reply_count || 0, (rs.replies.get(m.id) || new Set()).size);
  if (!inThread && replies > 0 && !m._pending) {
    body.appendChild(h('button.thread-link', {
      type: 'button', on: { click: () => openThread(rs.id, m.id) },
    }, icon('thread', 14), ` ${replies} repl${replies === 1 ? 'y' : 'ies'}`));
  }
  art.appendChild(body);

  if (!m._pending && !m.is_deleted && !system) {
    const tools = h('div.msg-actions', { role: 'toolbar', 'aria-label': 'Message actions' });
    tools.appendChild(h('button.icon-btn', { type: 'button', 'aria-label': 'Add reaction', title: 'React', on: { click: (ev) => reactionPicker(ev.currentTarget, m, rs) } }, icon('smile')));
    if (!inThread) {
      tools.appendChild(h('button.icon-btn', { type: 'button', 'aria-label': 'Reply', title: 'Reply', on: { click: () => startReply(m) } }, icon('reply')));
      tools.appendChild(h('button.icon-btn', { type: 'button', 'aria-label': 'Reply in thread', title: 'Thread', on: { click: () => openThread(rs.id, m.id) } }, icon('thread')));
    }
    if (mine && m.content) tools.appendChild(h('button.icon-btn', { type: 'button', 'aria-label': 'Edit message', title: 'Edit', on: { click: () => startEdit(m) } }, icon('edit')));
    if (mine || canModerate) tools.appendChild(h('button.icon-btn.danger', { type: 'button', 'aria-label': 'Delete message', title: 'Delete', on: { click: () => deleteMessage(m) } }, icon('trash')));
    const canPin = canModerate || (r && isDirect(r));
    for (const t of mod.messageTools(m, { canPin, mine, after: () => onPin(m.room_id, m.id, m.pinned) })) tools.appendChild(t);
    art.appendChild(tools);
  }
  return art;
}

function quoteEl(m, rs) {
  const parent = rs.messages.get(m.reply_to) || (rs.parents && rs.parents.get(m.reply_to));
  if (!parent) {
    fetchParent(rs, m);
    return h('div.quote', h('span.muted', 'Replying to a message…'));
  }
  let snippet = parent.is_deleted ? 'Deleted message' : (parent.content || (parent.attachment ? `[${parent.attachment.file_name || 'attachment'}]` : ''));
  if (snippet.length > 140) snippet = `${snippet.slice(0, 140)}…`;
  return h('button.quote', {
    type: 'button',
    'aria-label': `In reply to ${senderName(parent)}: ${snippet}`,
    on: { click: () => jumpTo(parent.id) || openThread(rs.id, parent.id) },
  }, h('span.quote-name', senderName(parent)), h('span.quote-text', snippet));
}

const fetchingParents = new Set();
async function fetchParent(rs, m) {
  if (fetchingParents.has(m.reply_to)) return;
  fetchingParents.add(m.reply_to);
  try {
    const p = await api.get(`/api/chat/rooms/${rs.id}/messages/${m.reply_to}`);
    rs.parents = rs.parents || new Map();
    rs.parents.set(p.id, p);
    for (const x of rs.messages.values()) if (x.reply_to === p.id) touch(x);
    if (S.currentId === rs.id) render({});
  } catch { /* the parent may be gone */ }
}

function jumpTo(id) {
  const el = $(`#messages article[data-id="${CSS.escape(id)}"]`);
  if (!el) return false;
  el.scrollIntoView({ block: 'center', behavior: 'smooth' });
  el.classList.remove('flash');
  void el.offsetWidth;
  el.classList.add('flash');
  el.focus({ preventScroll: true });
  return true;
}

function pendingStatusEl(m) {
  const el = h('div.pending-status', { role: m._status === 'failed' ? 'alert' : 'status' });
  if (m._status === 'uploading') {
    const pct = Math.round((m._progress || 0) * 100);
    el.append(h('progress', { max: '100', value: String(pct), 'aria-label': `Uploading ${pct}%` }), ` Uploading… ${pct}%`);
  } else if (m._status === 'sending') el.append('Sending…');
  else if (m._status === 'queued') el.append('Waiting for connection…');
  else if (m._status === 'failed') {
    el.append(h('span.fail', `Not sent${m._error ? `: ${m._error}` : ''}. `),
      h('button.link', { type: 'button', on: { click: () => deliver(m) } }, 'Retry'), ' · ',
      h('button.link', { type: 'button', on: { click: () => discard(m) } }, 'Discard'));
  }
  return el;
}

function isImage(m) {
  const a = m.attachment || {};
  const ct = a.content_type || (m._file && m._file.type) || '';
  return ct.startsWith('image/') || m.message_type === 'image';
}

function attachmentEl(m) {
  const a = m.attachment || { file_name: m._file.name, file_size: m._file.size, content_type: m._file.type };
  if (isImage(m)) {
    const img = h('img', { alt: a.file_name || 'image', decoding: 'async' });
    if (a.width && a.height) {
      const scale = Math.min(1, 320 / a.width, 240 / a.height);
      img.width = Math.max(1, Math.round(a.width * scale));
      img.height = Math.max(1, Math.round(a.height * scale));
    }
    img.addEventListener('load', () => { if (stickyAfterLoad()) scrollToBottom(); });
    if (m._localUrl) img.src = m._localUrl;
    // The SDK's signed URL: a plain <img src> the browser loads and caches itself.
    else S.client.fileUrl(m, { thumbnail: true }).then((u) => { img.src = u; }).catch(() => img.classList.add('broken'));
    return h('button.thumb', {
      type: 'button',
      'aria-label': `Open image ${a.file_name || ''}`.trim(),
      disabled: !m.attachment,
      on: { click: () => lightbox(m) },
    }, img);
  }
  return h('div.file-card', previews.filePreview(m, S.client),
    h('span.file-icon', icon('file', 26)),
    h('span.file-meta', h('span.file-name', a.file_name || 'file'), h('span.muted', [fileSize(a.file_size), a.content_type].filter(Boolean).join(' · '))),
    m.attachment ? h('button.btn.btn-small', {
      type: 'button', 'aria-label': `Download ${a.file_name || 'file'}`, on: { click: () => download(m) },
    }, 'Download') : null);
}

let lastStick = true;
const stickyAfterLoad = () => lastStick;

function lightbox(m) {
  const a = m.attachment;
  const img = h('img.lightbox-img', { alt: a.file_name || 'image' });
  S.client.fileUrl(m).then((u) => { img.src = u; }).catch((e) => toast(e.message));
  modal(a.file_name || 'Image', [img, h('p', h('button.btn.btn-small', { type: 'button', on: { click: () => download(m) } }, 'Download'))]);
}

async function download(m) {
  const a = m.attachment;
  try {
    const u = await S.client.fileUrl(m);
    const link = h('a', { href: u, download: a.file_name || 'file' });
    document.body.appendChild(link);
    link.click();
    link.remove();
  } catch (e) { toast(`Download failed: ${e.message}`); }
}

function reactionsEl(m, rs) {
  return h('div.reactions', { role: 'group', 'aria-label': 'Reactions' }, m.reactions.filter((x) => x.count > 0).map((x) => {
    const mineR = S.me && (x.user_ids || []).includes(S.me.id);
    const who = (x.user_ids || []).map(userName).join(', ');
    return h('button.reaction', {
      type: 'button',
      'aria-pressed': String(!!mineR),
      'aria-label': `${x.emoji} ${x.count}${who ? `: ${who}` : ''}`,
      title: who,
      on: { click: () => toggleReaction(m, rs, x.emoji) },
    }, h('span.emoji', x.emoji), h('span.count', String(x.count)));
  }), h('button.reaction.add', { type: 'button', 'aria-label': 'Add reaction', on: { click: (ev) => reactionPicker(ev.currentTarget, m, rs) } }, '+'));
}

function reactionPicker(anchor, m, rs) {
  popover(anchor, h('div.picker', REACTIONS.map((e) => h('button.icon-btn.picker-emoji', {
    type: 'button', 'aria-label': `React with ${e}`, on: { click: () => { closePopover(); toggleReaction(m, rs, e); } },
  }, e))), 'Pick a reaction');
}

function applyReaction(m, userId, emoji, add) {
  m.reactions = m.reactions || [];
  let r = m.reactions.find((x) => x.emoji === emoji);
  if (add) {
    if (!r) { r = { emoji, count: 0, user_ids: [] }; m.reactions.push(r); }
    r.user_ids = r.user_ids || [];
    if (r.user_ids.includes(userId)) return false;
    r.user_ids.push(userId);
    r.count = r.user_ids.length;
  } else {
    if (!r || !(r.user_ids || []).includes(userId)) return false;
    r.user_ids = r.user_ids.filter((u) => u !== userId);
    r.count = r.user_ids.length;
    if (!r.count) m.reactions = m.reactions.filter((x) => x !== r);
  }
  touch(m);
  return true;
}

async function toggleReaction(m, rs, emoji) {
  const target = rs.messages.get(m.id) || m;
  const has = !!(target.reactions || []).find((x) => x.emoji === emoji && (x.user_ids || []).includes(S.me.id));
  applyReaction(target, S.me.id, emoji, !has);
  refreshViews(rs.id);
  try {
    await sdkRoom(rs.id).react(m.id, emoji, !has);
  } catch (e) {
    applyReaction(target, S.me.id, emoji, has);
    refreshViews(rs.id);
    toast(`Reaction failed: ${e.message}`);
  }
}

function refreshViews(roomId) {
  if (S.currentId === roomId) render({});
  if (panel && panel.kind === 'thread' && panel.roomId === roomId) renderPanel();
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
  elCache.delete(`p:${p.client_id}`);
  if (p._localUrl) setTimeout(() => URL.revokeObjectURL(p._localUrl), 60000);
}

function setStatus(p, status, extra = {}) {
  Object.assign(p, { _status: status }, extra);
  touch(p);
  if (S.currentId === p.room_id) render({});
}

async function deliver(p) {
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

function discard(p) {
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

async function deleteMessage(m) {
  if (!window.confirm('Delete this message for everyone?')) return;
  try {
    await sdkRoom(m.room_id).delete(m.id);
    onMessageDeleted(m.room_id, m.id);
  } catch (e) {
    toast(`Delete failed: ${e.message}`);
  }
}

function startReply(m) {
  C.editing = null;
  C.replyTo = m;
  const who = senderName(m);
  let snippet = m.content || (m.attachment ? `[${m.attachment.file_name}]` : '');
  if (snippet.length > 80) snippet = `${snippet.slice(0, 80)}…`;
  showContext(`Replying to ${who}: ${snippet}`);
  $('#input').focus();
}

function startEdit(m) {
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

async function openThread(roomId, parentId) {
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

function renderPanel() {
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
  const box = $('#messages');
  $('#jump').addEventListener('click', () => { scrollToBottom(); maybeMarkRead(); $('#input').focus(); });
  box.addEventListener('scroll', () => {
    lastStick = atBottom();
    if (lastStick) $('#jump').hidden = true;
    if (box.scrollTop < 120) loadOlder();
    if (lastStick) maybeMarkRead();
  }, { passive: true });
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
