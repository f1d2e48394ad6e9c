// Seed 003's own client code run against a real Confab (started by tests/api/dialect_wasgo_node.rs
// with `dialects.room_socket = "wasgo"`): the "Frontend Integration Guide" snippets, verbatim but
// for the conversation id and the socket URL's host and token, run as two pages (Ann and Bob).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';

const HOST = new URL(process.env.CONFAB_BASE).host;
const { ANN_TOKEN, BOB_TOKEN, CONVERSATION_ID } = process.env;
const here = new URL('.', import.meta.url);

/** `text` with `from` replaced by `to`, failing when the seed code no longer has `from`. */
function fill(text, from, to) {
  assert.ok(text.includes(from), `the seed code has ${from}`);
  return text.replace(from, to);
}

/** Waits until `check()` answers something (polling) and answers it, or fails after 10 s. */
async function until(what, check) {
  for (let i = 0; i < 200; i++) {
    const found = check();
    if (found) return found;
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.fail(`timed out waiting for ${what}`);
}

/** One page running the snippets; what its `handleIncomingMessage` got is in `page.got`. */
function page(token) {
  let src = readFileSync(new URL('seed003/client.js', here), 'utf8');
  src = fill(src, "const conversationId = 'your-conversation-id';", `const conversationId = '${CONVERSATION_ID}';`);
  src = fill(src, 'ws://localhost:8000/ws/chat/${conversationId}/', `ws://${HOST}/ws/chat/\${conversationId}/?token=${token}`);
  const got = [];
  const run = new Function('handleIncomingMessage',
    `${src}\nreturn { ws, sendMessage, handleTyping, markMessagesRead };`);
  return { got, ...run((data) => got.push(data)) };
}

const find = (p, type, pred = () => true) => p.got.find((d) => d.type === type && pred(d));

test('003 snippets: two pages send, type and mark read through Confab', { timeout: 60000 }, async () => {
  const ann = page(ANN_TOKEN);
  const bob = page(BOB_TOKEN);
  await until('both connected', () => ann.ws.readyState === WebSocket.OPEN && bob.ws.readyState === WebSocket.OPEN);
  await new Promise((r) => setTimeout(r, 200));

  ann.sendMessage('Hello from Ann');
  const atBob = await until('bob gets the message', () => find(bob, 'new_message'));
  assert.equal(atBob.message.content, 'Hello from Ann');
  assert.equal(atBob.message.message_type, 'text');
  assert.ok(atBob.message.id && atBob.message.sender_id && atBob.message.timestamp);
  await until('ann gets her own message', () => find(ann, 'new_message'));

  bob.sendMessage('Hi Ann');
  const reply = await until('ann gets the reply', () => find(ann, 'new_message', (d) => d.message.content === 'Hi Ann'));
  assert.notEqual(reply.message.sender_id, atBob.message.sender_id);

  bob.handleTyping();
  const typing = await until('ann sees bob typing', () => find(ann, 'typing', (d) => d.is_typing === true));
  assert.equal(typing.user_id, reply.message.sender_id);
  assert.equal(typeof typing.username, 'string');
  // The snippet's timer sends `is_typing: false` after 3 s.
  await until('ann sees bob stop', () => find(ann, 'typing', (d) => d.is_typing === false));

  bob.markMessagesRead([atBob.message.id]);
  const read = await until('ann hears of the read', () => find(ann, 'messages_read'));
  assert.deepEqual(read.message_ids, [atBob.message.id]);
  assert.equal(read.user_id, reply.message.sender_id);

  assert.equal(ann.got.filter((d) => d.type === 'error').length, 0, JSON.stringify(ann.got));
  assert.equal(bob.got.filter((d) => d.type === 'error').length, 0, JSON.stringify(bob.got));
  ann.ws.close();
  bob.ws.close();
});
