// The side panel beside the open room: its members, a thread (with its own reply box), search
// results, and (static/js/moderation.js draws them) the pinned messages and the open reports.

import * as api from './api.js';
import { h, clear, $, avatar, timeShort } from './dom.js';
import { S, roomState, roomTitle, presenceOf, isDirect } from './state.js';
import { toast } from './ui.js';
import * as mod from './moderation.js';
import { MOD_ROLES, hooks, cur, myRole, senderName, loadMembers } from './roomview.js';
import { usernamesOf, render, messageEl, jumpTo } from './messages.js';
import { newPending, deliver } from './composer.js';
import { renderHeader } from './header.js';
import { open } from './room.js';

export let panel = null; // {kind: 'members'|'thread'|'search'|'pins'|'reports', roomId, parentId, query}

export function openPanel(p) {
  panel = p;
  $('#side-panel').hidden = false;
  document.body.classList.add('panel-open');
  renderPanel();
  if (S.currentId) renderHeader();
}

export function closePanel() {
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

/** A reply arrived (mine acknowledged, or anyone's broadcast): the open thread shows it. */
export function threadReply(m) {
  if (panel && panel.kind === 'thread' && panel.parentId === m.reply_to) {
    panel.replies = panel.replies || [];
    if (!panel.replies.find((x) => x.id === m.id)) panel.replies.push(m);
    renderPanel();
  }
}

/** A message was edited: the open thread of its room shows the new version. */
export function threadUpdated(m) {
  if (panel && panel.kind === 'thread' && panel.roomId === m.room_id) {
    if (panel.parent && panel.parent.id === m.id) panel.parent = m;
    panel.replies = (panel.replies || []).map((x) => (x.id === m.id ? m : x));
  }
}

/** The open thread's own copy of a message of room `roomId`, unless it is `except` itself. */
export function threadCopy(roomId, messageId, except) {
  if (!(panel && panel.kind === 'thread' && panel.roomId === roomId)) return null;
  return [panel.parent, ...(panel.replies || [])].find((x) => x && x.id === messageId && x !== except);
}

/** The panel's buttons: members, pinned, reports, close, and Esc outside the message box. */
export function setupPanel() {
  const input = $('#input');
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
  document.addEventListener('keydown', (ev) => {
    if (ev.key === 'Escape' && panel && !document.querySelector('dialog[open]') && document.activeElement !== input) closePanel();
  });
}
