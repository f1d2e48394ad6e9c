// The open room's message list: its history (newest page first, older pages on scroll up), the
// list kept in the page with only what changed touched, and a message's element (quote, text,
// attachment, reactions, pending status, tools), reactions and the image lightbox.

import * as api from './api.js';
import { h, clear, $, avatar, richText, timeShort, timeLong, dayLabel, fileSize } from './dom.js';
import { S, roomState, userName, rememberUser, isDirect } from './state.js';
import { toast, modal, popover, closePopover } from './ui.js';
import { icon } from './icons.js';
import * as mod from './moderation.js';
import * as previews from './previews.js';
import { MOD_ROLES, sdkRoom, cur, isMine, keyOf, touch, myRole, senderName } from './roomview.js';
import { onPin, maybeMarkRead } from './room.js';
import { panel, openThread, renderPanel } from './panel.js';
import { deliver, discard, startReply, startEdit, deleteMessage } from './composer.js';

const PAGE = 50;
const REACTIONS = ['👍', '❤️', '😂', '🎉', '😮', '😢', '🙏', '👀'];
const elCache = new Map(); // message key -> {el, sig}

/** Forgets every kept element (another room opens, or its history loads again). */
export function forgetElements() { elCache.clear(); }

/** Forgets the element kept under a message's key (a local echo that became final or went). */
export function forgetElement(key) { elCache.delete(key); }

// ---------------------------------------------------------------------------------------------
// History

export async function loadLatest(id) {
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

export function noteReply(rs, m) {
  let set = rs.replies.get(m.reply_to);
  if (!set) { set = new Set(); rs.replies.set(m.reply_to, set); }
  if (!set.has(m.id)) {
    set.add(m.id);
    touch(rs.messages.get(m.reply_to));
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

export function ordered(rs) {
  const list = [...rs.messages.values()].sort((a, b) => (a.seq || 0) - (b.seq || 0));
  const pend = [...rs.pending.values()].sort((a, b) => a._at - b._at);
  return list.concat(pend);
}

export function usernamesOf(rs) {
  const set = new Set();
  for (const mem of rs.members.values()) if (mem.user && mem.user.username) set.add(mem.user.username.toLowerCase());
  if (S.me && S.me.username) set.add(S.me.username.toLowerCase());
  return set;
}

export function render({ toBottom }) {
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

export function messageEl(m, rs, { compact, names, inThread }) {
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

export function jumpTo(id) {
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

export function applyReaction(m, userId, emoji, add) {
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

export function refreshViews(roomId) {
  if (S.currentId === roomId) render({});
  if (panel && panel.kind === 'thread' && panel.roomId === roomId) renderPanel();
}

/** The list's own listeners: “New messages ↓”, and on scroll older pages and read marks. */
export function setupList() {
  const box = $('#messages');
  $('#jump').addEventListener('click', () => { scrollToBottom(); maybeMarkRead(); $('#input').focus(); });
  box.addEventListener('scroll', () => {
    lastStick = atBottom();
    if (lastStick) $('#jump').hidden = true;
    if (box.scrollTop < 120) loadOlder();
    if (lastStick) maybeMarkRead();
  }, { passive: true });
}
