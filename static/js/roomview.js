// What the open room's modules (room, messages, composer, panel, header) share: the open room's
// live state, the SDK's handle of a room, a message's key and version, its members, my role, a
// sender's name.

import * as api from './api.js';
import { S, roomState, rememberUser } from './state.js';

export const MOD_ROLES = new Set(['owner', 'admin', 'moderator']);

export const hooks = () => S.hooks;
// The SDK's handle of a room (followed since the room list named it).
export const sdkRoom = (id) => S.client.room(id);
export const cur = () => (S.currentId ? roomState(S.currentId) : null);
export const isMine = (m) => !!(S.me && m.sender && m.sender.id === S.me.id);
export const keyOf = (m) => (m._pending ? `p:${m.client_id}` : m.id);
export const touch = (m) => { if (m) m._v = (m._v || 0) + 1; };

export async function loadMembers(id) {
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

export function myRole(r) {
  const rs = roomState(r.id);
  const me = S.me && rs.members.get(S.me.id);
  return (me && me.role) || r.my_role || 'member';
}

export function senderName(m) {
  if (!m.sender) return 'System';
  const u = S.users.get(m.sender.id);
  return m.sender.display_name || (u && u.display_name) || 'Someone';
}
