// Seed 004's own client code run against a real Confab (started by tests/api/dialect_drf_node.rs):
// the React "Basic Chat Component" (rendered with React's test renderer, effects and all) and the
// "WebSocket Connection Flow" snippets, with only the host, room and token lines filled in.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { transform } from 'sucrase';

const BASE = process.env.CONFAB_BASE;
const HOST = new URL(BASE).host;
const { ANN_TOKEN, BOB_TOKEN, ROOM_ID } = process.env;
const here = new URL('.', import.meta.url);

/** `text` with `from` replaced by `to`, failing when the seed code no longer has `from`. */
function fill(text, from, to) {
  assert.ok(text.includes(from), `the seed code has ${from}`);
  return text.replace(from, to);
}

/** Waits until `check()` holds (polling), or fails after 10 s. */
async function until(what, check) {
  for (let i = 0; i < 200; i++) {
    if (check()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.fail(`timed out waiting for ${what}`);
}

// A browser resolves the component's relative `fetch('/api/…')` against its origin: the host.
const nodeFetch = globalThis.fetch;
globalThis.fetch = (url, init) => nodeFetch(new URL(url, BASE), init);

/** The React component, JSX compiled; its WebSocket URL given the host and the token. */
async function chatRoomComponent() {
  let src = readFileSync(new URL('seed004/ChatRoom.jsx', here), 'utf8');
  src = fill(src, 'ws://localhost:8000/ws/chat/${roomId}/', `ws://${HOST}/ws/chat/\${roomId}/?token=\${authToken}`);
  src += '\nexport { ChatRoom };\n';
  const { code } = transform(src, { transforms: ['jsx'], jsxRuntime: 'automatic', production: true });
  mkdirSync(new URL('.build/', here), { recursive: true });
  const file = new URL('.build/ChatRoom.mjs', here);
  writeFileSync(file, code);
  return (await import(file.href)).ChatRoom;
}

/** The connection-flow snippets as a page would run them, with the page's own handlers. */
function connectionFlow(page) {
  let src = readFileSync(new URL('seed004/flow.js', here), 'utf8');
  src = fill(src, "const roomId = 'your-room-uuid';", `const roomId = '${ROOM_ID}';`);
  src = fill(src, 'ws://your-domain/ws/chat/${roomId}/', `ws://${HOST}/ws/chat/\${roomId}/?token=${BOB_TOKEN}`);
  const run = new Function('displayMessage', 'updateTypingIndicator', 'showNotification',
    `${src}\nreturn { ws, sendMessage, handleTyping };`);
  return run(page.displayMessage, page.updateTypingIndicator, page.showNotification);
}

/** The text of a rendered tree. */
function textOf(node) {
  if (node == null) return '';
  if (typeof node === 'string') return node;
  if (Array.isArray(node)) return node.map(textOf).join('');
  return textOf(node.children);
}

test('004 React component and connection-flow snippets chat with each other', { timeout: 60000 }, async () => {
  const React = (await import('react')).default;
  const { act, create } = (await import('react-test-renderer')).default;
  globalThis.IS_REACT_ACT_ENVIRONMENT = false;
  const ChatRoom = await chatRoomComponent();
  // Bob: the connection-flow page.
  const page = { shown: [], typing: new Map(), notes: [] };
  page.displayMessage = (m) => page.shown.push(m);
  page.updateTypingIndicator = (id, on) => page.typing.set(id, on);
  page.showNotification = (n) => page.notes.push(n);
  const bob = connectionFlow(page);
  await until('bob connected', () => bob.ws.readyState === WebSocket.OPEN);
  // Ann: the React component.
  let tree;
  await act(async () => {
    tree = create(React.createElement(ChatRoom, { roomId: ROOM_ID, authToken: ANN_TOKEN }));
  });
  const rendered = () => textOf(tree.toJSON());
  await until('the history (a message posted before)', () => rendered().includes('before the component'));
  await new Promise((r) => setTimeout(r, 300));
  // Ann types and sends with the component's own input and button.
  const input = () => tree.root.findByType('input');
  await act(async () => input().props.onChange({ target: { value: 'Hello from React' } }));
  await act(async () => input().props.onKeyPress({ key: 'H' }));
  await until('bob sees ann typing', () => [...page.typing.values()].includes(true));
  await act(async () => tree.root.findByType('button').props.onClick());
  await until('bob displays ann\'s message', () => page.shown.some((m) => m.content === 'Hello from React'));
  const got = page.shown.find((m) => m.content === 'Hello from React');
  assert.equal(typeof got.sender.display_name, 'string');
  assert.ok(got.id && got.timestamp);
  await until('ann sees her own message', () => rendered().includes('Hello from React'));
  // Bob answers with the snippets' sendMessage and handleTyping.
  bob.handleTyping();
  await until('ann sees bob typing', () => rendered().includes('1 user(s) typing...'));
  bob.sendMessage('Hi Ann, from the snippets');
  await until('ann sees bob\'s message', () => rendered().includes('Hi Ann, from the snippets'));
  assert.ok(rendered().includes(`${got.sender.display_name}:`));
  bob.ws.close();
  await act(async () => tree.unmount());
});
