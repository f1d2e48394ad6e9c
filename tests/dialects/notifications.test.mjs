// Seeds 000 and 002's own client code run against a real Confab (started by
// tests/api/dialect_notifications_node.rs): 000's React chat component (React's test renderer,
// effects and all) and its file-upload snippet, and 002's WebSocket snippet, two users chatting
// through the multiplexed socket /ws/chat/{tenant_id}/. Only the host and the token are filled
// in: 002's URL carries `?token=`, and 000's component gets its token in the connection headers,
// as 000's gateway gives it (a WebSocket that adds `Authorization`, as a browser behind that
// gateway would).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { transform } from 'sucrase';

const BASE = process.env.CONFAB_BASE;
const HOST = new URL(BASE).host;
const { ANN_TOKEN, BOB_TOKEN, ANN_ID, TENANT_ID, CONVERSATION_ID } = process.env;
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

// A page resolves the snippets' relative `fetch('/api/…')` against its origin: the host.
const nodeFetch = globalThis.fetch;
globalThis.fetch = (url, init) => nodeFetch(new URL(url, BASE), init);

/** The socket of a page behind 000's gateway: the token goes in the connection headers. */
function withToken(token) {
  return class extends WebSocket {
    constructor(url, protocols) {
      super(url, { protocols, headers: { Authorization: `Bearer ${token}` } });
    }
  };
}

/** 000's component, JSX compiled; its socket URL given the host. */
async function chatRoomComponent() {
  let src = readFileSync(new URL('seed000/ChatRoom.jsx', here), 'utf8');
  src = fill(src, 'ws://localhost:3001/ws/chat/${tenantId}/', `ws://${HOST}/ws/chat/\${tenantId}/`);
  src += '\nexport { ChatRoom };\n';
  const { code } = transform(src, { transforms: ['jsx'], jsxRuntime: 'automatic', production: true });
  mkdirSync(new URL('.build/', here), { recursive: true });
  const file = new URL('.build/ChatRoom000.mjs', here);
  writeFileSync(file, code);
  return (await import(file.href)).ChatRoom;
}

/** 002's snippet as a page runs it: its variables are the page's. */
function connect002(tenantId, jwt, conversationId) {
  let src = readFileSync(new URL('seed002/connect.js', here), 'utf8');
  src = fill(src, 'ws://localhost:9090/', `ws://${HOST}/`);
  return new Function('tenantId', 'jwt', 'conversation_id', `${src}\nreturn ws;`)(tenantId, jwt, conversationId);
}

/** 000's upload snippet with the page's `localStorage`, `socket` and `conversationId`. */
function uploadSnippet(localStorage, socket, conversationId) {
  const src = readFileSync(new URL('seed000/upload.js', here), 'utf8');
  return new Function('localStorage', 'socket', 'conversationId', `${src}\nreturn uploadFile;`)(
    localStorage, socket, conversationId);
}

/** The text of a rendered tree. */
function textOf(node) {
  if (node == null) return '';
  if (typeof node === 'string') return node;
  if (Array.isArray(node)) return node.map(textOf).join('');
  return textOf(node.children);
}

test('000 React component, 000 upload snippet and 002 socket snippet chat with each other', { timeout: 60000 }, async () => {
  const React = (await import('react')).default;
  const { act, create } = (await import('react-test-renderer')).default;
  globalThis.IS_REACT_ACT_ENVIRONMENT = false;
  const ChatRoom = await chatRoomComponent();
  // Bob: 002's snippet; the page watches what arrives beside the snippet's own handler.
  const bob = connect002(TENANT_ID, BOB_TOKEN, CONVERSATION_ID);
  const seen = [];
  bob.addEventListener('message', (e) => seen.push(JSON.parse(e.data)));
  await until('bob connected', () => seen.some((d) => d.type === 'connection_established'));
  // Ann: 000's component, her page behind the gateway.
  globalThis.tenantId = TENANT_ID;
  globalThis.WebSocket = withToken(ANN_TOKEN);
  let tree;
  await act(async () => {
    tree = create(React.createElement(ChatRoom, { conversationId: CONVERSATION_ID }));
  });
  const rendered = () => textOf(tree.toJSON());
  await new Promise((r) => setTimeout(r, 500));
  // Ann types (start_typing) and sends with Enter.
  const input = () => tree.root.findByType('input');
  await act(async () => input().props.onChange({ target: { value: 'Hello from 000' } }));
  await until('bob sees ann typing', () => seen.some((d) => d.type === 'typing_indicator' && d.is_typing && d.user_id === ANN_ID));
  await act(async () => input().props.onKeyPress({ key: 'Enter' }));
  await until('bob gets ann\'s message', () => seen.some((d) => d.type === 'new_message' && d.message.content === 'Hello from 000'));
  const got = seen.find((d) => d.type === 'new_message').message;
  assert.equal(got.sender_id, ANN_ID);
  assert.equal(got.message_type, 'text');
  assert.deepEqual(got.reactions, []);
  assert.ok(got.id && got.created_at);
  await until('ann sees her own message', () => rendered().includes(`${ANN_ID}: Hello from 000`));
  // Bob types and answers with 002's frames; ann's component shows both.
  bob.send(JSON.stringify({ type: 'start_typing', conversation_id: CONVERSATION_ID }));
  await until('ann sees someone typing', () => rendered().includes('Someone is typing...'));
  bob.send(JSON.stringify({ type: 'send_message', conversation_id: CONVERSATION_ID, content: 'Hi Ann, from 002', message_type: 'text' }));
  await until('ann sees bob\'s message', () => rendered().includes('Hi Ann, from 002'));
  // Bob's page shares a file with 000's upload snippet (its socket: bob's).
  const storage = { getItem: (k) => (k === 'auth_token' ? BOB_TOKEN : null) };
  const uploadFile = uploadSnippet(storage, bob, CONVERSATION_ID);
  await uploadFile(new File(['%PDF-1.4 plan'], 'project_plan.pdf', { type: 'application/pdf' }));
  await until('ann sees the file message', () => rendered().includes('Shared a file: project_plan.pdf'));
  // Ann's screen and bob's socket are two deliveries: wait for bob's too.
  const isFile = (d) => d.type === 'new_message' && d.message.message_type === 'file';
  await until('bob gets the file message', () => seen.some(isFile));
  const file = seen.find(isFile).message;
  assert.equal(file.file_name, 'project_plan.pdf');
  assert.equal(file.file_size, 13);
  assert.ok(file.file_url.includes('/api/chat/uploads/'));
  bob.close();
  await act(async () => tree.unmount());
});
