// The client's state, shared by the modules: who I am, my rooms, per-room live state, people.

export const S = {
  me: null,
  client: null,           // the SDK client (static/sdk/confab.js): the one connection
  hooks: {},
  connState: 'idle',
  rooms: new Map(),       // room id -> room (as the list answers, kept fresh by events)
  roomStates: new Map(),  // room id -> live state (messages, members, typing, seqs)
  users: new Map(),       // user id -> {id, username, display_name, avatar_url}
  presence: new Map(),    // user id -> {user_id, status, last_seen}
  currentId: null,
  joined: new Set(),
};

export function roomState(id) {
  let rs = S.roomStates.get(id);
  if (!rs) {
    rs = {
      id,
      messages: new Map(),   // message id -> message
      pending: new Map(),    // client_id -> local echo
      members: new Map(),    // user id -> member
      typing: new Map(),     // user id -> expiry (ms)
      seen: new Set(),       // room event seqs already applied
      lastSeq: null,         // highest room seq seen: where resume starts
      hasMore: true,
      loaded: false,
      loadingOlder: false,
      membersLoaded: false,
      replies: new Map(),    // parent id -> Set of reply ids seen
    };
    S.roomStates.set(id, rs);
  }
  return rs;
}

export function rememberUser(u) {
  if (!u || !u.id) return;
  const old = S.users.get(u.id) || {};
  S.users.set(u.id, { ...old, ...Object.fromEntries(Object.entries(u).filter(([, v]) => v != null)) });
}

export function rememberUsers(list) { for (const u of list) rememberUser(u); }

export function userName(id) {
  const u = S.users.get(id);
  if (S.me && id === S.me.id) return 'You';
  return (u && (u.display_name || u.username)) || 'Someone';
}

export const isDirect = (r) => r && r.room_type === 'direct';

export function roomTitle(r) {
  if (!r) return '';
  if (isDirect(r) && r.other_user) return r.other_user.display_name || r.other_user.username || 'Direct message';
  return r.name || 'Untitled room';
}

export function presenceOf(userId) {
  const p = S.presence.get(userId);
  return (p && p.status) || 'offline';
}
