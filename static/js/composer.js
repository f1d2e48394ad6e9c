// The composer of the open room: local echo of a send (pending, delivered, finalized by the ack or
// the broadcast carrying its client_id, or discarded), typing, replies and edits, each room's
// draft, the tray of files uploading, and the @mention picker.

import * as api from './api.js';
import { h, clear, $, avatar, uuid } from './dom.js';
import { S, roomState, rememberUser } from './state.js';
import { toast } from './ui.js';
import { icon } from './icons.js';
import { hooks, sdkRoom, cur, isMine, touch, senderName } from './roomview.js';
import { noteReply, ordered, render, forgetElement } from './messages.js';
import { onMessageUpdated, onMessageDeleted } from './room.js';
import { threadReply } from './panel.js';

// Composer state for the open room.
const C = { editing: null, replyTo: null, tray: [], typingSentAt: 0, typingIdle: null, mention: null, drafts: new Map() };

// ---------------------------------------------------------------------------------------------
// Sending: local echo, then the ack (or the broadcast carrying our client_id) makes it final

export function newPending(fields) {
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

export function dropPending(rs, p) {
  if (!p) return;
  rs.pending.delete(p.client_id);
  forgetElement(`p:${p.client_id}`);
  if (p._localUrl) setTimeout(() => URL.revokeObjectURL(p._localUrl), 60000);
}

export function setStatus(p, status, extra = {}) {
  Object.assign(p, { _status: status }, extra);
  touch(p);
  if (S.currentId === p.room_id) render({});
}

export async function deliver(p) {
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
  threadReply(msg);
}

export function discard(p) {
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

export async function deleteMessage(m) {
  if (!window.confirm('Delete this message for everyone?')) return;
  try {
    await sdkRoom(m.room_id).delete(m.id);
    onMessageDeleted(m.room_id, m.id);
  } catch (e) {
    toast(`Delete failed: ${e.message}`);
  }
}

export function startReply(m) {
  C.editing = null;
  C.replyTo = m;
  const who = senderName(m);
  let snippet = m.content || (m.attachment ? `[${m.attachment.file_name}]` : '');
  if (snippet.length > 80) snippet = `${snippet.slice(0, 80)}…`;
  showContext(`Replying to ${who}: ${snippet}`);
  $('#input').focus();
}

export function startEdit(m) {
  C.replyTo = null;
  C.editing = m;
  showContext('Editing message · Esc to cancel');
  const input = $('#input');
  input.value = m.content;
  autosize();
  input.focus();
  input.setSelectionRange(input.value.length, input.value.length);
}

/** Another room opens: each room keeps its unsent draft, and the composer shows the new one's. */
export function switchDraft(fromId, toId) {
  if (fromId && !C.editing) C.drafts.set(fromId, $('#input').value);
  resetComposer();
  $('#input').value = C.drafts.get(toId) || '';
  autosize();
}

/** A message was deleted: if I was editing it, the edit ends. */
export function editGone(messageId) {
  if (C.editing && C.editing.id === messageId) resetComposer();
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

/** The composer's listeners: send, keys, typing, mentions, paste, the file picker, drops. */
export function setupComposer() {
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
  const dropZone = $('#room-pane');
  dropZone.addEventListener('dragover', (ev) => { if (ev.dataTransfer && [...ev.dataTransfer.types].includes('Files')) { ev.preventDefault(); dropZone.classList.add('dragging'); } });
  dropZone.addEventListener('dragleave', () => dropZone.classList.remove('dragging'));
  dropZone.addEventListener('drop', (ev) => {
    dropZone.classList.remove('dragging');
    if (ev.dataTransfer && ev.dataTransfer.files.length) { ev.preventDefault(); addFiles([...ev.dataTransfer.files]); }
  });
}
