// The embed page (/embed/rooms/{room_id}): one room for an iframe, signed in by the platform token
// in the fragment (#token=…, never sent to a server). The token is taken out of the address bar
// at once and kept in this tab's sessionStorage, so a reload of the frame still works.

import './confab-room.js';

const roomId = decodeURIComponent(location.pathname.split('/').filter(Boolean).pop() || '');
const key = `confab.embed.token.${roomId}`;
const m = location.hash.match(/(?:^#|&)token=([^&]+)/);
if (m) {
  sessionStorage.setItem(key, decodeURIComponent(m[1]));
  history.replaceState(null, '', location.pathname + location.search);
}
const token = sessionStorage.getItem(key);
const room = document.createElement('confab-room');
room.setAttribute('room', roomId);
if (token) room.token = token;
document.body.append(room);
