// The open room's header: its avatar and name, who or what it is (presence, kind, members), the
// archive/leave/panel buttons' state, and whether I may post (the composer's placeholder).

import { clear, $, timeShort } from './dom.js';
import { S, roomState, roomTitle, presenceOf, isDirect } from './state.js';
import { MOD_ROLES, hooks, myRole } from './roomview.js';
import { panel } from './panel.js';

export function renderHeader() {
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
