// Moderation in the web client (issue 17): pins (message tools, the pinned list in the side
// panel), blocks (on a person in the members list; messages of people I block are collapsed) and
// reports (on a message; a room's moderators list the open ones in the side panel).

import * as api from './api.js';
import { h, timeShort } from './dom.js';
import { S } from './state.js';
import { toast, modal } from './ui.js';
import { icon } from './icons.js';

/** Ids of the people I block; the server's `blocks` frame keeps it whole. */
export const blocked = new Set();

export function onBlocks(ids) {
  blocked.clear();
  for (const id of ids || []) blocked.add(id);
}

export async function loadBlocks() {
  try {
    const ans = await api.get('/api/chat/users/me/blocks');
    onBlocks(api.results(ans).map((b) => b.user.id));
  } catch { /* the list fills from the next `blocks` frame */ }
}

export async function setBlock(user, on) {
  const name = user.display_name || user.username || 'this person';
  try {
    await api.request(on ? 'PUT' : 'DELETE', `/api/chat/users/me/blocks/${user.id}`);
    if (on) blocked.add(user.id); else blocked.delete(user.id);
    toast(on ? `${name} is blocked` : `${name} is no longer blocked`);
    return true;
  } catch (e) {
    toast(`Could not ${on ? 'block' : 'unblock'}: ${e.message}`);
    return false;
  }
}

/** The Block / Unblock button of a member (not for me). */
export function blockButton(user, after) {
  if (!user || (S.me && user.id === S.me.id)) return null;
  const on = !blocked.has(user.id);
  const name = user.display_name || user.username;
  return h('button.btn.btn-small.block-btn', {
    type: 'button',
    'aria-label': `${on ? 'Block' : 'Unblock'} ${name}`,
    on: { click: async () => { if (await setBlock(user, on)) after(); } },
  }, on ? 'Block' : 'Unblock');
}

/** A message of someone I block, collapsed until asked for. */
export function collapsedEl(m, reveal) {
  return h('p.msg-text.blocked-note', 'Message from someone you blocked. ',
    h('button.link-btn', { type: 'button', on: { click: reveal } }, 'Show'));
}

export function isBlockedSender(m) {
  return !!(m.sender && blocked.has(m.sender.id));
}

export async function setPin(m, on, after) {
  try {
    await api.request(on ? 'POST' : 'DELETE', `/api/chat/rooms/${m.room_id}/pins/${m.id}`, on ? {} : undefined);
    m.pinned = on;
    after();
  } catch (e) {
    toast(`Could not ${on ? 'pin' : 'unpin'}: ${e.message}`);
  }
}

/** Asks for a reason in a dialog, then files the report. */
export function report(m) {
  const reason = h('textarea', { name: 'reason', rows: '3', maxlength: '1000', required: true, 'aria-label': 'Reason' });
  const form = h('form.report-form', {
    on: {
      submit: async (ev) => {
        ev.preventDefault();
        const text = reason.value.trim();
        if (!text) return;
        try {
          await api.post(`/api/chat/rooms/${m.room_id}/messages/${m.id}/report`, { reason: text });
          dlg.close();
          toast('Thanks: the report was sent to the moderators');
        } catch (e) {
          toast(`Report failed: ${e.message}`);
        }
      },
    },
  }, h('label', 'Why are you reporting this message?', reason),
  h('button.btn.btn-primary', { type: 'submit' }, 'Send report'));
  const dlg = modal('Report message', form);
}

/** The pin and report tools of a message. */
export function messageTools(m, { canPin, mine, after }) {
  const tools = [];
  if (canPin) {
    const on = !m.pinned;
    tools.push(h('button.icon-btn', {
      type: 'button', 'aria-label': on ? 'Pin message' : 'Unpin message', title: on ? 'Pin' : 'Unpin',
      on: { click: () => setPin(m, on, after) },
    }, icon('pin')));
  }
  if (!mine) {
    tools.push(h('button.icon-btn', {
      type: 'button', 'aria-label': 'Report message', title: 'Report', on: { click: () => report(m) },
    }, icon('flag')));
  }
  return tools;
}

export function pinnedBadge(m) {
  return m.pinned ? h('span.pin-badge', { title: 'Pinned' }, icon('pin', 12), ' Pinned') : null;
}

/** Fills the side panel with a room's pinned messages. */
export async function renderPins(body, roomId, { canPin, jumpTo, after }) {
  body.appendChild(h('p.muted', 'Loading…'));
  let list;
  try {
    list = api.results(await api.get(`/api/chat/rooms/${roomId}/pins`));
  } catch (e) {
    body.replaceChildren(h('p.fail', e.message));
    return;
  }
  if (!list.length) { body.replaceChildren(h('p.muted', 'No pinned messages.')); return; }
  body.replaceChildren(h('ul.pin-list', { 'aria-label': 'Pinned messages' }, list.map((p) => {
    const m = p.message;
    return h('li.pin-item',
      h('button.search-hit', { type: 'button', on: { click: () => jumpTo(m.id) } },
        h('span.search-hit-head', h('strong', (m.sender && m.sender.display_name) || ''), h('span.muted', ` · ${timeShort(m.created_at)}`)),
        h('span.search-hit-text', m.content || (m.attachment ? m.attachment.file_name : ''))),
      canPin ? h('button.btn.btn-small', {
        type: 'button', 'aria-label': 'Unpin message',
        on: { click: () => setPin(m, false, after) },
      }, 'Unpin') : null);
  })));
}

/** Fills the side panel with a room's open reports (its moderators). */
export async function renderReports(body, roomId) {
  body.appendChild(h('p.muted', 'Loading…'));
  let list;
  try {
    list = api.results(await api.get(`/api/chat/rooms/${roomId}/reports`));
  } catch (e) {
    body.replaceChildren(h('p.fail', e.message));
    return;
  }
  if (!list.length) { body.replaceChildren(h('p.muted', 'No open reports.')); return; }
  body.replaceChildren(h('ul.report-list', { 'aria-label': 'Reports' }, list.map((r) => {
    const m = r.message || {};
    const who = S.users.get(r.reporter_id);
    return h('li.report-item',
      h('p.report-reason', h('strong', 'Reason: '), r.reason),
      h('p.muted', `${who ? who.display_name : 'A member'} · ${timeShort(r.created_at)}`),
      h('blockquote.report-message', m.is_deleted ? 'This message was deleted.' : (m.content || '')));
  })));
}
