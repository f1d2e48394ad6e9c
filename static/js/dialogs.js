// Dialogs: start a direct chat with a user found by name, create a group/channel/public room,
// browse and join public rooms; and the "add member" form of the member panel.

import * as api from './api.js';
import { h, clear, avatar } from './dom.js';
import { S, rememberUsers, roomTitle, roomState } from './state.js';
import { modal, toast } from './ui.js';
import { icon } from './icons.js';
import * as room from './room.js';

function debounce(fn, ms) {
  let t = null;
  return (...a) => { clearTimeout(t); t = setTimeout(() => fn(...a), ms); };
}

/// A user search box with a result list; onPick(user) for a click.
function userSearch({ label, onPick, exclude = () => false }) {
  const input = h('input', { type: 'search', placeholder: 'Name or username', 'aria-label': label, autocomplete: 'off' });
  const list = h('ul.pick-list', { role: 'listbox', 'aria-label': 'People' });
  const status = h('p.muted.small', { role: 'status' });
  const run = debounce(async () => {
    const q = input.value.trim();
    clear(list);
    if (!q) { status.textContent = ''; return; }
    status.textContent = 'Searching…';
    try {
      const users = api.results(await api.get(`/api/chat/users${api.qs({ q })}`)).filter((u) => !S.me || u.id !== S.me.id).filter((u) => !exclude(u));
      rememberUsers(users);
      if (input.value.trim() !== q) return;
      status.textContent = users.length ? '' : 'Nobody found.';
      for (const u of users) {
        list.appendChild(h('li', h('button.pick', {
          type: 'button', role: 'option', 'aria-label': `${u.display_name}${u.username ? ` (@${u.username})` : ''}`,
          on: { click: () => onPick(u) },
        }, avatar(u, 'sm'), h('span', u.display_name), u.username ? h('span.muted', ` @${u.username}`) : null)));
      }
    } catch (e) {
      status.textContent = e.message;
    }
  }, 200);
  input.addEventListener('input', () => { if (!input.value.trim()) clear(list); run(); });
  return { el: h('div.user-search', h('label.field', label, input), status, list), input };
}

export function newDirect() {
  let dlg = null;
  const search = userSearch({
    label: 'Find a person',
    onPick: async (u) => {
      try {
        const ans = await api.post('/api/chat/rooms/direct', { user_id: u.id });
        const r = ans.room || ans;
        if (!r.other_user) r.other_user = u;
        S.hooks.upsertRoom(r);
        S.hooks.renderRoomList();
        dlg.close();
        S.hooks.joinRoom(r.id);
        await room.open(r.id);
        S.hooks.loadRooms().catch(() => {});
      } catch (e) {
        toast(e.message);
      }
    },
  });
  dlg = modal('New chat', search.el);
}

export function newRoom() {
  const chosen = new Map();
  const chips = h('ul.chips', { 'aria-label': 'People to add' });
  const drawChips = () => {
    clear(chips);
    for (const u of chosen.values()) {
      chips.appendChild(h('li.chip', u.display_name, h('button.icon-btn', {
        type: 'button', 'aria-label': `Remove ${u.display_name}`, on: { click: () => { chosen.delete(u.id); drawChips(); } },
      }, icon('close', 12))));
    }
  };
  const search = userSearch({
    label: 'Add people',
    exclude: (u) => chosen.has(u.id),
    onPick: (u) => { chosen.set(u.id, u); drawChips(); search.input.value = ''; search.input.dispatchEvent(new Event('input')); search.input.focus(); },
  });
  const err = h('p.form-error', { role: 'alert', hidden: true });
  const form = h('form.form',
    h('label.field', 'Name', h('input', { name: 'name', required: true, maxlength: '100', autocomplete: 'off' })),
    h('label.field', 'Description', h('input', { name: 'description', maxlength: '500', autocomplete: 'off' })),
    h('fieldset.kind',
      h('legend', 'Kind'),
      h('label.radio', h('input', { type: 'radio', name: 'room_type', value: 'group', checked: true }), h('span', h('strong', 'Group'), h('small.muted', 'Invite only; everyone posts'))),
      h('label.radio', h('input', { type: 'radio', name: 'room_type', value: 'channel' }), h('span', h('strong', 'Channel'), h('small.muted', 'Admins and moderators post; members read'))),
      h('label.radio', h('input', { type: 'radio', name: 'room_type', value: 'public' }), h('span', h('strong', 'Public room'), h('small.muted', 'Anyone can find and join')))),
    search.el,
    chips,
    err,
    h('button.btn.btn-primary', { type: 'submit' }, 'Create'));
  const dlg = modal('New room', form);
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const f = new FormData(form);
    const body = { name: String(f.get('name')).trim(), room_type: f.get('room_type'), participant_ids: [...chosen.keys()] };
    const desc = String(f.get('description')).trim();
    if (desc) body.description = desc;
    if (!body.name) { err.textContent = 'A room needs a name.'; err.hidden = false; return; }
    try {
      const ans = await api.post('/api/chat/rooms', body);
      const r = ans.room || ans;
      S.hooks.upsertRoom({ my_role: 'owner', ...r });
      S.hooks.renderRoomList();
      dlg.close();
      S.hooks.joinRoom(r.id);
      await room.open(r.id);
    } catch (e) {
      err.textContent = e.message;
      err.hidden = false;
    }
  });
}

export function browse() {
  const input = h('input', { type: 'search', placeholder: 'Room name or topic', 'aria-label': 'Search public rooms', autocomplete: 'off' });
  const list = h('ul.pick-list', { 'aria-label': 'Rooms' });
  const status = h('p.muted.small', { role: 'status' }, 'Loading public rooms…');
  let dlg = null;
  let publicRooms = null;

  const draw = (rooms, emptyText) => {
    clear(list);
    status.textContent = rooms.length ? '' : emptyText;
    for (const r of rooms) {
      const member = S.rooms.has(r.id) || !!r.my_role;
      list.appendChild(h('li.browse-row',
        S.hooks.roomAvatar(r, 'sm'),
        h('span.browse-meta', h('strong', roomTitle(r)), h('span.muted.small',
          [S.hooks.roomKind(r), r.member_count != null ? `${r.member_count} member${r.member_count === 1 ? '' : 's'}` : null, r.description].filter(Boolean).join(' · '))),
        h('button.btn.btn-small', {
          type: 'button',
          'aria-label': member ? `Open ${roomTitle(r)}` : `Join ${roomTitle(r)}`,
          on: { click: () => joinAndOpen(r, member) },
        }, member ? 'Open' : 'Join')));
    }
  };

  const joinAndOpen = async (r, member) => {
    try {
      if (!member) {
        const ans = await api.post(`/api/chat/rooms/${r.id}/join`, {});
        S.hooks.upsertRoom({ ...r, ...((ans && (ans.room || (ans.id ? ans : null))) || {}), my_role: 'member', archived: false });
        roomState(r.id).membersLoaded = false;
        S.hooks.renderRoomList();
      }
      dlg.close();
      S.hooks.joinRoom(r.id);
      await room.open(r.id);
      if (!member) S.hooks.loadRooms().catch(() => {});
    } catch (e) { toast(e.code === 'conflict' ? 'That room is full.' : e.message); }
  };

  const run = debounce(async () => {
    const q = input.value.trim();
    if (!q) { draw(publicRooms || [], publicRooms ? 'No public rooms yet.' : ''); return; }
    status.textContent = 'Searching…';
    let rooms;
    try {
      rooms = api.results(await api.get(`/api/chat/search/rooms${api.qs({ q })}`));
    } catch (e) {
      // Without room search, filter the public list here.
      if (!publicRooms) { status.textContent = e.message; return; }
      const needle = q.toLowerCase();
      rooms = publicRooms.filter((r) => `${r.name} ${r.description || ''}`.toLowerCase().includes(needle));
    }
    if (input.value.trim() === q) draw(rooms, 'No rooms found.');
  }, 250);
  input.addEventListener('input', run);
  dlg = modal('Browse rooms', h('div', h('label.field', 'Search', input), status, list));
  api.get('/api/chat/rooms/public').then((ans) => {
    publicRooms = api.results(ans);
    if (!input.value.trim()) draw(publicRooms, 'No public rooms yet. Create one with “New room”.');
  }).catch(() => { publicRooms = null; if (!input.value.trim()) status.textContent = 'Type to find rooms.'; });
}

S.hooks.addMemberForm = (r) => {
  const wrap = h('div.add-member', h('h4', 'Add a member'));
  const search = userSearch({
    label: 'Find a person',
    exclude: (u) => roomState(r.id).members.has(u.id),
    onPick: async (u) => {
      try {
        const mem = await api.post(`/api/chat/rooms/${r.id}/members`, { user_id: u.id });
        room.onMemberJoined(r.id, mem && mem.user ? mem : { user: u, role: 'member', last_read_seq: 0 });
        toast(`${u.display_name} added`);
      } catch (e) { toast(e.message); }
    },
  });
  wrap.appendChild(search.el);
  return wrap;
};

/// My profile: the display name others see.
export function profile(onSaved) {
  const err = h('p.form-error', { role: 'alert', hidden: true });
  const input = h('input', { name: 'display_name', value: S.me.display_name || '', maxlength: '64', required: true, autocomplete: 'name' });
  const form = h('form.form',
    h('label.field', 'Display name', input),
    S.me.username ? h('p.muted.small', `Username: @${S.me.username}`) : null,
    err,
    h('button.btn.btn-primary', { type: 'submit' }, 'Save'));
  const dlg = modal('My profile', form);
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const display_name = input.value.trim();
    if (!display_name) { err.textContent = 'A display name is needed.'; err.hidden = false; return; }
    try {
      const me = await api.patch('/api/chat/users/me', { display_name });
      onSaved(me || { display_name });
      dlg.close();
      toast('Profile saved');
    } catch (e) {
      err.textContent = e.message;
      err.hidden = false;
    }
  });
}
