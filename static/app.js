// Confab web client: the entry module. Holds the state, boots the session (own account or a host
// platform's token), keeps the room list, and routes WebSocket frames to the room view.

import * as api from './js/api.js';
import { connect } from './sdk/confab.js';
import { h, clear, $, avatar, timeShort } from './js/dom.js';
import { S, roomState, roomTitle, userName, rememberUser, rememberUsers, presenceOf, isDirect } from './js/state.js';
import * as room from './js/room.js';
import * as moderation from './js/moderation.js';
import * as dialogs from './js/dialogs.js';
import { toast } from './js/ui.js';
import { icon, fillIcons } from './js/icons.js';

// ---------------------------------------------------------------------------------------------
// Boot and sign-in

function takeHostToken() {
  // A host platform opens /#token=JWT (the fragment is never sent to servers or logs).
  const m = location.hash.match(/(?:^#|&)token=([^&]+)/);
  if (!m) return false;
  api.setSession({ access_token: decodeURIComponent(m[1]), refresh_token: null, user: null });
  history.replaceState(null, '', location.pathname + location.search);
  return true;
}

async function boot() {
  takeHostToken();
  api.onSessionChange((s) => { if (!s && S.me) signedOut(); });
  if (api.getSession()) {
    try {
      const me = await api.get('/api/chat/users/me');
      api.setUser(me);
      await signedIn(me);
      return;
    } catch (e) {
      if (e.status === 401) api.clearSession();
      else { toast(`Cannot reach the server: ${e.message}`); }
    }
  }
  showAuth();
}

function showAuth() {
  $('#chat-view').hidden = true;
  $('#auth-view').hidden = false;
  document.title = 'Confab';
  setTimeout(() => $('#signin-form [name=username]').focus(), 0);
}

function setupAuthForms() {
  const tabs = { signin: $('#tab-signin'), signup: $('#tab-signup') };
  const forms = { signin: $('#signin-form'), signup: $('#signup-form') };
  const pick = (which) => {
    for (const k of Object.keys(tabs)) {
      tabs[k].setAttribute('aria-selected', String(k === which));
      forms[k].hidden = k !== which;
    }
    forms[which].querySelector('input').focus();
  };
  tabs.signin.addEventListener('click', () => pick('signin'));
  tabs.signup.addEventListener('click', () => pick('signup'));

  const submit = (form, path, body) => async (ev) => {
    ev.preventDefault();
    const err = form.querySelector('.form-error');
    err.hidden = true;
    for (const i of form.querySelectorAll('input')) i.removeAttribute('aria-invalid');
    const btn = form.querySelector('button[type=submit]');
    btn.disabled = true;
    try {
      const pair = await api.request('POST', path, body(new FormData(form)), { auth: false });
      api.setSession(pair);
      form.reset();
      await signedIn(pair.user);
    } catch (e) {
      err.textContent = e.code === 'invalid_credentials' ? 'Wrong username or password.' : e.message;
      err.hidden = false;
      const field = e.field && form.querySelector(`[name="${CSS.escape(e.field)}"]`);
      if (field) { field.setAttribute('aria-invalid', 'true'); field.focus(); }
    } finally {
      btn.disabled = false;
    }
  };
  forms.signin.addEventListener('submit', submit(forms.signin, '/api/auth/login', (f) => ({
    username: f.get('username').trim(), password: f.get('password'),
  })));
  forms.signup.addEventListener('submit', submit(forms.signup, '/api/auth/register', (f) => {
    const b = { username: f.get('username').trim().toLowerCase(), password: f.get('password') };
    const dn = f.get('display_name').trim();
    if (dn) b.display_name = dn;
    return b;
  }));
}

async function signedIn(me) {
  S.me = me;
  rememberUser(me);
  $('#auth-view').hidden = true;
  $('#chat-view').hidden = false;
  clear($('#me-avatar')).appendChild(avatar(me));
  $('#me-name').textContent = me.display_name || me.username;
  $('#me-name').title = me.username ? `@${me.username}` : '';
  startClient();
  moderation.loadBlocks().then(() => room.onBlocks([...moderation.blocked]));
  try {
    await loadRooms();
  } catch (e) {
    toast(`Could not load your conversations: ${e.message}`);
  }
  const wanted = sessionStorage.getItem('confab.room');
  if (wanted && S.rooms.has(wanted) && !isPhone()) room.open(wanted);
  else room.showEmpty();
}

function signedOut() {
  if (S.client) S.client.close();
  S.client = null;
  S.me = null;
  S.rooms.clear();
  S.roomStates.clear();
  S.currentId = null;
  room.showEmpty();
  renderRoomList();
  showAuth();
}

async function signOut() {
  const s = api.getSession();
  try { if (s && s.refresh_token) await api.post('/api/auth/logout', { refresh_token: s.refresh_token }); } catch { /* gone anyway */ }
  sessionStorage.removeItem('confab.room');
  api.clearSession();
}

export const isPhone = () => window.matchMedia('(max-width: 720px)').matches;

// ---------------------------------------------------------------------------------------------
// Room list

export async function loadRooms() {
  const all = [];
  for (const archived of [false, true]) {
    let cursor = null;
    for (let page = 0; page < 5; page++) {
      const ans = await api.get(`/api/chat/rooms${api.qs({ archived, cursor, limit: 100 })}`);
      all.push(...api.results(ans));
      cursor = ans && ans.next_cursor;
      if (!cursor) break;
    }
  }
  const seen = new Set();
  const fresh = [];
  for (const r of all) {
    if (seen.has(r.id)) continue;
    seen.add(r.id);
    if (!S.rooms.has(r.id)) fresh.push(r.id);
    upsertRoom(r);
  }
  for (const id of [...S.rooms.keys()]) if (!seen.has(id)) forgetRoom(id);
  renderRoomList();
  loadPresence([...S.rooms.values()].filter(isDirect).map((r) => r.other_user && r.other_user.id));
}

// The light look: counts of every room of mine; the full list only when a room is new to me.
async function pollRooms() {
  try {
    const ans = await api.get('/api/chat/rooms/unread_counts');
    const rooms = (ans && (ans.rooms || ans)) || {};
    if (Object.keys(rooms).some((id) => !S.rooms.has(id))) { await loadRooms(); return; }
    let changed = false;
    for (const [id, c] of Object.entries(rooms)) {
      const r = S.rooms.get(id);
      if (!r || !c || typeof c !== 'object') continue;
      // Only counts at least as fresh as what the socket told us.
      if (c.last_seq != null && r.last_seq != null && c.last_seq < r.last_seq) continue;
      if (S.currentId === id && document.visibilityState === 'visible') continue;
      if (r.unread_count !== c.unread || r.mention_count !== c.mentions) {
        r.unread_count = c.unread;
        r.mention_count = c.mentions;
        changed = true;
      }
    }
    if (changed) renderRoomList();
  } catch {
    loadRooms().catch(() => {});
  }
}

export function upsertRoom(r) {
  const old = S.rooms.get(r.id) || {};
  const merged = { ...old, ...r };
  // Counts and previews are only as fresh as their last_seq: keep ours when newer.
  if (old.last_seq != null && r.last_seq != null && old.last_seq > r.last_seq) {
    merged.last_seq = old.last_seq;
    merged.last_message = old.last_message;
    merged.unread_count = old.unread_count;
    merged.mention_count = old.mention_count;
    merged.last_message_at = old.last_message_at;
  }
  S.rooms.set(r.id, merged);
  if (r.other_user) rememberUser(r.other_user);
  const rs = roomState(r.id);
  if (rs.lastSeq == null && merged.last_seq != null) rs.lastSeq = merged.last_seq;
  // Every room of mine is followed by the SDK, from where this list stands.
  if (merged.is_active !== false) joinRoom(r.id);
  return merged;
}

/// A room that is no longer mine (left, removed, deactivated): off the list and unfollowed.
function forgetRoom(id) {
  S.rooms.delete(id);
  const followed = S.client && S.client.rooms.get(id);
  if (followed) followed.leave();
}

export async function loadPresence(ids) {
  const want = [...new Set(ids.filter(Boolean))];
  if (!want.length) return;
  try {
    const ans = await api.get(`/api/chat/presence${api.qs({ user_ids: want.join(',') })}`);
    let list = api.results(ans);
    if (!list.length && ans && typeof ans === 'object') {
      list = Object.entries(ans).map(([user_id, p]) => (typeof p === 'string' ? { user_id, status: p } : { user_id, ...p }));
    }
    for (const p of list) if (p && p.user_id) S.presence.set(p.user_id, p);
    renderRoomList();
    room.presenceChanged();
  } catch { /* presence is decoration */ }
}

const sortKey = (r) => r.last_message_at || (r.last_message && r.last_message.created_at) || r.created_at || '';

export function renderRoomList() {
  const filter = $('#search-input').value.trim().toLowerCase();
  const rooms = [...S.rooms.values()]
    .filter((r) => r.is_active !== false)
    .filter((r) => !filter || roomTitle(r).toLowerCase().includes(filter))
    .sort((a, b) => (sortKey(b) > sortKey(a) ? 1 : sortKey(b) < sortKey(a) ? -1 : 0));
  const active = rooms.filter((r) => !r.archived);
  const archived = rooms.filter((r) => r.archived);
  clear($('#room-list')).append(...active.map(roomItem));
  clear($('#archived-list')).append(...archived.map(roomItem));
  $('#archived-section').hidden = archived.length === 0;
  // Show where the open room went when it was archived.
  if (archived.some((r) => r.id === S.currentId)) $('#archived-section').open = true;
  $('#archived-count').textContent = String(archived.length);
  $('#rooms-empty').hidden = S.rooms.size > 0 || !!filter;
  $('#rooms-nomatch').hidden = !filter || rooms.length > 0;
  const unread = active.reduce((n, r) => n + (r.unread_count || 0), 0);
  document.title = unread ? `(${unread}) Confab` : 'Confab';
}

function preview(r) {
  const m = r.last_message;
  if (!m) return r.room_type === 'direct' ? 'New conversation' : (r.description || roomKind(r));
  if (m.is_deleted) return 'Message deleted';
  if (m.sender && moderation.blocked.has(m.sender.id)) return 'Message from someone you blocked';
  const who = m.sender && S.me && m.sender.id === S.me.id ? 'You' : (m.sender && m.sender.display_name);
  let text = (m.content || '').replace(/\s+/g, ' ').trim();
  if (!text && m.attachment) text = `${m.message_type === 'image' ? 'Photo' : 'File'}: ${m.attachment.file_name || 'attachment'}`;
  else if (!text) text = m.message_type === 'image' ? 'Photo' : `(${m.message_type})`;
  return r.room_type === 'direct' && who !== 'You' ? text : `${who}: ${text}`;
}

export function roomKind(r) {
  return { direct: 'Direct message', group: 'Group', channel: 'Channel', public: 'Public room' }[r.room_type] || r.room_type;
}

export function roomAvatar(r, size = 'md') {
  if (isDirect(r) && r.other_user) {
    const wrap = h('span.avatar-wrap', avatar(r.other_user, size));
    const st = presenceOf(r.other_user.id);
    wrap.appendChild(h(`span.dot.dot-${st}`, { title: st }));
    return wrap;
  }
  const el = avatar({ id: r.id, display_name: r.name }, size);
  el.classList.add('avatar-room');
  el.textContent = '';
  el.appendChild(icon(r.room_type === 'channel' ? 'megaphone' : 'hash', size === 'sm' ? 16 : 18));
  return h('span.avatar-wrap', el);
}

function roomItem(r) {
  const unread = r.unread_count || 0;
  const mentions = r.mention_count || 0;
  const title = roomTitle(r);
  const label = [title, roomKind(r),
    isDirect(r) && r.other_user ? presenceOf(r.other_user.id) : null,
    unread ? `${unread} unread` : null, mentions ? `${mentions} mentions` : null].filter(Boolean).join(', ');
  const btn = h('button.room-item', {
    type: 'button',
    'aria-label': label,
    'aria-current': r.id === S.currentId ? 'true' : null,
    dataset: { roomId: r.id },
    on: { click: () => room.open(r.id) },
  },
  roomAvatar(r),
  h('span.room-item-main',
    h('span.room-item-top',
      h('span.room-item-name', title),
      h('time.room-item-time', timeShort(sortKey(r)))),
    h('span.room-item-bottom',
      h('span.room-item-preview', preview(r)),
      mentions ? h('span.badge.badge-mention', { title: `${mentions} mentions` }, '@') : null,
      unread ? h('span.badge', { title: `${unread} unread` }, unread > 99 ? '99+' : String(unread)) : null)));
  if (unread) btn.classList.add('unread');
  if (r.id === S.currentId) btn.classList.add('active');
  return h('li', btn);
}

// ---------------------------------------------------------------------------------------------
// The connection is the SDK's (static/sdk/confab.js): tickets, reconnect, resume of every room,
// each room event once in seq order, sends acked once. Here: what each frame means for the app.

function startClient() {
  if (S.client) S.client.close();
  let everOnline = false;
  S.client = connect({
    getToken: async ({ expired }) => {
      if (expired && !(await api.refresh())) return null;
      const s = api.getSession();
      return s && s.access_token;
    },
  });
  S.client.on('state', (state) => {
    if (state === 'online') everOnline = true;
    onState(state, everOnline);
  });
  S.client.on('frame', onFrame);
  S.client.on('error', (e) => {
    if (e.code === 'rate_limited') toast('Slow down a little: too many actions at once.');
    else toast(e.message || e.code);
  });
  S.client.on('unauthorized', () => api.clearSession());
  onState(S.client.state, false);
}

export function joinRoom(id) {
  if (!S.client || S.client.rooms.has(id)) return;
  const r = S.rooms.get(id);
  const room = S.client.room(id, { afterSeq: r && r.last_seq != null ? r.last_seq : undefined });
  room.on('resync', () => resync(id));
}

function onState(state, everOnline) {
  const banner = $('#conn-banner');
  // The names the page (and its tests) have always used: open, connecting, reconnecting, offline.
  const offline = typeof navigator !== 'undefined' && navigator.onLine === false;
  let shown = state;
  if (state === 'online') shown = 'open';
  else if (state === 'closed') shown = 'idle';
  else if (offline) shown = 'offline';
  else if (everOnline || state === 'offline') shown = 'reconnecting';
  S.connState = shown;
  document.body.dataset.conn = shown;
  if (shown === 'open' || shown === 'idle' || shown === 'connecting') {
    banner.hidden = true;
  } else {
    banner.hidden = false;
    banner.textContent = shown === 'offline'
      ? 'You are offline. Messages will be sent when the connection is back.'
      : 'Reconnecting…';
  }
  room.connectionChanged(shown);
}

function onFrame(f) {
  if (f.conversation_id && !f.room_id) f.room_id = f.conversation_id;
  switch (f.type) {
    case 'new_message': {
      const m = f.message;
      noteSeq(m);
      messageArrived(m);
      room.onNewMessage(m);
      break;
    }
    case 'message_updated':
      noteSeq(f.message);
      room.onMessageUpdated(f.message);
      bumpPreview(f.message, true);
      break;
    case 'message_deleted':
      room.onMessageDeleted(f.room_id, f.message_id);
      break;
    case 'reaction_added':
      { const x = f.reaction || f; room.onReaction(f.room_id, x.message_id, x.user_id, x.emoji, true); }
      break;
    case 'reaction_removed':
      { const x = f.reaction || f; room.onReaction(f.room_id, x.message_id, x.user_id, x.emoji, false); }
      break;
    case 'typing_indicator':
      room.onTyping(f.room_id, f.user_id, f.is_typing);
      break;
    case 'read_receipt':
      readReceipt(f);
      break;
    case 'presence_update': {
      const p = f.presence || f;
      if (p.user_id) {
        S.presence.set(p.user_id, p);
        if (S.me && p.user_id === S.me.id && ['online', 'away', 'busy'].includes(p.status)) $('#my-status').value = p.status;
        renderRoomList();
        room.presenceChanged();
      }
      break;
    }
    case 'room_added':
      // A room created with me in it (a new direct chat, a group): show it now.
      loadRooms().catch(() => {});
      break;
    case 'member_joined':
      if (f.member && f.member.user) rememberUser(f.member.user);
      if (S.me && f.member && f.member.user && f.member.user.id === S.me.id && !S.rooms.has(f.room_id)) {
        loadRooms().catch(() => {});
      }
      room.onMemberJoined(f.room_id, f.member);
      break;
    case 'member_left':
      if (S.me && f.user_id === S.me.id) {
        forgetRoom(f.room_id);
        if (S.currentId === f.room_id) room.showEmpty();
        renderRoomList();
      } else room.onMemberLeft(f.room_id, f.user_id);
      break;
    case 'room_updated':
      if (f.room) {
        if (f.room.is_active === false) forgetRoom(f.room.id);
        else upsertRoom(f.room);
        renderRoomList();
        room.onRoomUpdated(f.room);
      }
      break;
    case 'mention': {
      const m = f.message;
      if (!m) break;
      if (!S.rooms.has(m.room_id)) loadRooms().catch(() => {});
      else if (S.currentId !== m.room_id) toast(`${(m.sender && m.sender.display_name) || 'Someone'} mentioned you in ${roomTitle(S.rooms.get(m.room_id))}`);
      break;
    }
    case 'member_updated':
      if (f.member && f.member.user) {
        rememberUser(f.member.user);
        const r = S.rooms.get(f.room_id);
        if (r && S.me && f.member.user.id === S.me.id) r.my_role = f.member.role;
        room.onMemberJoined(f.room_id, f.member);
      }
      break;
    // moderation (issue 17)
    case 'message_pinned':
    case 'message_unpinned':
      room.onPin(f.room_id, f.message_id, f.type === 'message_pinned');
      break;
    case 'blocks':
      room.onBlocks(f.user_ids);
      break;
    case 'closing':
      if (['logged_out', 'logout', 'banned'].includes(f.reason)) signOut();
      break;
    default:
      break;
  }
}

function noteSeq(m) {
  if (!m) return;
  const rs = roomState(m.room_id);
  if (m.seq != null && (rs.lastSeq == null || m.seq > rs.lastSeq)) rs.lastSeq = m.seq;
}

function messageArrived(m) {
  const r = S.rooms.get(m.room_id);
  if (!r) { loadRooms().catch(() => {}); return; }
  const mine = S.me && m.sender && m.sender.id === S.me.id;
  bumpPreview(m, false);
  r.last_seq = Math.max(r.last_seq || 0, m.seq || 0);
  const watching = S.currentId === m.room_id && document.visibilityState === 'visible' && room.atBottom();
  if (!mine && !watching) {
    r.unread_count = (r.unread_count || 0) + 1;
    if (S.me && (m.mentions || []).includes(S.me.id)) r.mention_count = (r.mention_count || 0) + 1;
  }
  if (mine && r.archived) r.archived = false;
  renderRoomList();
}

function bumpPreview(m, editOnly) {
  const r = S.rooms.get(m.room_id);
  if (!r) return;
  if (editOnly) {
    if (r.last_message && r.last_message.id === m.id) r.last_message = m;
    return;
  }
  if (!r.last_message || (m.seq || 0) >= (r.last_message.seq || 0)) {
    r.last_message = m;
    r.last_message_at = m.created_at;
  }
}

function readReceipt(f) {
  if (S.me && f.user_id === S.me.id) {
    const r = S.rooms.get(f.room_id);
    if (r && f.last_read_seq >= (r.last_seq || 0)) {
      r.unread_count = 0;
      r.mention_count = 0;
      renderRoomList();
    }
  }
  room.onReadReceipt(f.room_id, f.user_id, f.last_read_seq);
}

async function resync(roomId) {
  try {
    const r = await api.get(`/api/chat/rooms/${roomId}`);
    const rs = roomState(roomId);
    rs.lastSeq = r.last_seq;
    upsertRoom(r);
    renderRoomList();
    if (S.currentId === roomId) room.reload();
  } catch { /* the room may be gone */ }
}

// ---------------------------------------------------------------------------------------------
// Wiring

function setupSidebar() {
  $('#sign-out').addEventListener('click', signOut);
  $('#me-edit').addEventListener('click', () => dialogs.profile((me) => {
    S.me = { ...S.me, ...me };
    api.setUser(S.me);
    rememberUser(S.me);
    clear($('#me-avatar')).appendChild(avatar(S.me));
    $('#me-name').textContent = S.me.display_name || S.me.username;
  }));
  $('#search-input').addEventListener('input', renderRoomList);
  $('#search-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    const q = $('#search-input').value.trim();
    if (q) room.showSearch(q);
  });
  $('#new-direct').addEventListener('click', dialogs.newDirect);
  $('#new-room').addEventListener('click', dialogs.newRoom);
  $('#browse-rooms').addEventListener('click', dialogs.browse);
  $('#my-status').addEventListener('change', (ev) => {
    const status = ev.target.value;
    if (!S.client || !S.client.sendFrame({ type: 'update_presence', status })) {
      api.request('PUT', '/api/chat/presence/me', { status }).catch((e) => toast(e.message));
    }
  });
  document.addEventListener('visibilitychange', () => {
    if (document.visibilityState === 'visible') { room.maybeMarkRead(); if (S.me) loadRooms().catch(() => {}); }
  });
  // Nothing in the protocol tells a connection that its user was added to a room it has not
  // joined (a new direct chat, say): look again now and then.
  setInterval(() => {
    if (S.me && document.visibilityState === 'visible') pollRooms();
  }, 15000);
  window.addEventListener('resize', () => document.body.classList.toggle('phone', isPhone()));
  document.body.classList.toggle('phone', isPhone());
}

Object.assign(S.hooks, { renderRoomList, upsertRoom, loadRooms, loadPresence, joinRoom, roomAvatar, roomKind, isPhone });

fillIcons();
setupAuthForms();
setupSidebar();
room.setup();
boot();

// For the e2e tests and for debugging: a read-only look at the connection.
window.confab = { get state() { return S.connState; }, get room() { return S.currentId; }, userName };
export { rememberUsers };
