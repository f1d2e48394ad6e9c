// The JavaScript SDK (static/sdk/confab.js) in Node 20 against the real server: two clients
// exchange messages; the server is restarted mid-conversation, and separately the network is cut
// (a TCP relay between the clients and the server drops every socket and refuses new ones for a
// while): each client ends with every message once, in seq order, using only SDK calls; a send
// made while offline resolves once after the reconnect. Run by tests/sdk/run.sh, which makes a
// fresh database and passes the binary; this file starts (and restarts) the server itself.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHmac, randomUUID } from 'node:crypto';
import { createRequire } from 'node:module';
import net from 'node:net';
import path from 'node:path';
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';

import { connect } from '../../static/sdk/confab.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, '../..');
// `ws` comes from the e2e suite's pinned node_modules (run.sh installs them when missing).
const { WebSocket } = createRequire(path.join(ROOT, 'tests/e2e/package.json'))('ws');

const BIN = process.env.SDK_BIN;
const DATABASE_URL = process.env.SDK_DATABASE_URL;
const SECRET = process.env.SDK_JWT_SECRET || 'sdk-test-secret-0123456789abcdefghijklmnop';
const LOG = process.env.SDK_LOG || path.join(ROOT, 'target/sdk/server.log');
const TENANT = '00000000-0000-0000-0000-000000000001';
const T = 20000;

let server = null;
let port = 0;

const b64 = (x) => Buffer.from(typeof x === 'string' ? x : JSON.stringify(x)).toString('base64url');
/** A platform token, as a host platform signs one with the shared secret. */
function token(sub, name) {
  const now = Math.floor(Date.now() / 1000);
  const body = `${b64({ alg: 'HS256', typ: 'JWT' })}.${b64({ sub, tenant: TENANT, name, role: 'user', iat: now, exp: now + 3600 })}`;
  return `${body}.${createHmac('sha256', SECRET).update(body).digest('base64url')}`;
}

const freePort = () => new Promise((resolve) => {
  const s = net.createServer();
  s.listen(0, '127.0.0.1', () => { const p = s.address().port; s.close(() => resolve(p)); });
});

async function waitFor(check, what, ms = T) {
  const until = Date.now() + ms;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function startServer() {
  const log = fs.openSync(LOG, 'a');
  server = spawn(BIN, ['serve'], {
    stdio: ['ignore', log, log],
    env: {
      ...process.env,
      DATABASE_URL,
      CONFAB__SERVER__HOST: '127.0.0.1',
      CONFAB__SERVER__PORT: String(port),
      CONFAB__AUTH__JWT_SECRET: SECRET,
      CONFAB__UPLOADS__DIR: path.join(ROOT, 'target/sdk/uploads'),
      RUST_LOG: process.env.RUST_LOG || 'warn',
    },
  });
  const proc = server;
  await waitFor(async () => {
    if (proc.exitCode != null) throw new Error(`confab exited (${proc.exitCode}); see ${LOG}`);
    try { return (await fetch(`http://127.0.0.1:${port}/healthz`)).ok; } catch { return false; }
  }, 'the server to answer');
}

async function stopServer() {
  if (!server || server.exitCode != null) return;
  const proc = server;
  const gone = new Promise((r) => proc.once('exit', r));
  proc.kill('SIGKILL');
  await gone;
}

/** A TCP relay in front of the server: `cut()` drops every socket and refuses new ones. */
function relay(target) {
  const pairs = new Set();
  let down = false;
  const srv = net.createServer((c) => {
    if (down) { c.destroy(); return; }
    const u = net.connect(target(), '127.0.0.1');
    const pair = [c, u];
    pairs.add(pair);
    const end = () => { c.destroy(); u.destroy(); pairs.delete(pair); };
    c.on('error', end); u.on('error', end); c.on('close', end); u.on('close', end);
    c.pipe(u); u.pipe(c);
  });
  return {
    listen: () => new Promise((r) => srv.listen(0, '127.0.0.1', () => r(srv.address().port))),
    cut() { down = true; for (const [c, u] of pairs) { c.destroy(); u.destroy(); } pairs.clear(); },
    restore() { down = false; },
    close: () => new Promise((r) => { for (const [c, u] of pairs) { c.destroy(); u.destroy(); } srv.close(r); }),
  };
}

/** A person: an SDK client and everything its room told it, in arrival order. */
function person(name, baseUrl) {
  const id = randomUUID();
  const client = connect({ baseUrl, token: token(id, name), WebSocket, backoff: { initialMs: 200, maxMs: 2000 } });
  return { id, name, client, seen: [] };
}

function follow(p, roomId) {
  const room = p.client.room(roomId);
  room.on('message', (m) => p.seen.push(m));
  return room;
}

const online = (p) => waitFor(() => p.client.state === 'online', `${p.name} online`);

/** Every message once, in seq order, and exactly the ones expected. */
function assertExactly(p, expected) {
  const seqs = p.seen.map((m) => m.seq);
  assert.deepEqual(seqs, [...seqs].sort((x, y) => x - y), `${p.name}: messages in seq order`);
  assert.equal(new Set(p.seen.map((m) => m.id)).size, p.seen.length, `${p.name}: a message twice`);
  assert.deepEqual(new Set(p.seen.map((m) => m.id)), new Set(expected.map((m) => m.id)), `${p.name}: not every message`);
}

async function pair(baseUrl, bobsUrl = baseUrl) {
  const alice = person('Alice', baseUrl);
  const bob = person('Bob', bobsUrl);
  await Promise.all([online(alice), online(bob)]);
  const created = await alice.client.api('POST', '/api/chat/rooms', { name: `sdk ${Date.now()}`, room_type: 'group', participant_ids: [bob.id] });
  const ra = follow(alice, created.id);
  const rb = follow(bob, created.id);
  await Promise.all([ra.ready(), rb.ready()]);
  return { alice, bob, ra, rb, roomId: created.id };
}

before(async () => {
  assert.ok(BIN && DATABASE_URL, 'run through tests/sdk/run.sh (SDK_BIN, SDK_DATABASE_URL)');
  fs.mkdirSync(path.dirname(LOG), { recursive: true });
  port = await freePort();
  await startServer();
});

after(async () => { await stopServer(); });

test('two clients exchange messages, each sees every one once in seq order', async () => {
  const { alice, bob, ra, rb } = await pair(`http://127.0.0.1:${port}`);
  const sent = [];
  for (let i = 0; i < 5; i++) {
    sent.push(await ra.send(`from alice ${i}`));
    sent.push(await rb.send(`from bob ${i}`));
  }
  assert.ok(sent.every((m) => m && m.id && m.seq > 0), 'every send resolves with the stored message');
  await waitFor(() => alice.seen.length >= 10 && bob.seen.length >= 10, 'all ten on both sides');
  assertExactly(alice, sent);
  assertExactly(bob, sent);
  assert.deepEqual(bob.seen.map((m) => m.content), sent.map((m) => m.content));
  // History through the SDK agrees with what came live.
  const page = await rb.history({ limit: 50 });
  assert.deepEqual(page.results.map((m) => m.id), sent.map((m) => m.id));
  alice.client.close(); bob.client.close();
});

test('edits, reactions, deletes, typing and read marks reach the other client as events', async () => {
  const { alice, bob, ra, rb } = await pair(`http://127.0.0.1:${port}`);
  const got = { updated: [], reaction: [], deleted: [], typing: [], read: [] };
  for (const k of Object.keys(got)) ra.on(k, (v) => got[k].push(v));
  const bobs = { deleted: [] };
  rb.on('deleted', (v) => bobs.deleted.push(v));
  const m = await rb.send('first draft');
  const edited = await rb.edit(m.id, 'second draft');
  assert.equal(edited.content, 'second draft');
  await ra.react(m.id, '👍');
  await rb.react(m.id, '🎉');
  await ra.react(m.id, '👍', false);
  assert.equal(rb.typing(true), true);
  await rb.markRead(m.seq);
  await rb.delete(m.id);
  await waitFor(() => got.deleted.length && bobs.deleted.length && got.read.length && got.typing.length, 'the events');
  assert.ok(got.updated.some((x) => x.id === m.id && x.content === 'second draft'));
  const reactions = got.reaction.filter((x) => x.message_id === m.id).map((x) => `${x.emoji}:${x.added}`);
  assert.deepEqual(reactions, ['👍:true', '🎉:true', '👍:false']);
  assert.deepEqual(got.typing[0], { user_id: bob.id, is_typing: true });
  assert.equal(got.read[0].user_id, bob.id);
  assert.equal(got.read[0].last_read_seq, m.seq);
  assert.deepEqual([...got.deleted, ...bobs.deleted].map((x) => x.message_id), [m.id, m.id]);
  const page = await ra.history();
  assert.equal(page.results.find((x) => x.id === m.id).is_deleted, true);
  // A room the token's user is not in refuses the client, with the server's code.
  const stranger = person('Mallory', `http://127.0.0.1:${port}`);
  await online(stranger);
  const closed = stranger.client.room(ra.id);
  await assert.rejects(closed.ready(), (e) => e.code === 'not_found');
  await assert.rejects(closed.history(), (e) => e.code === 'not_found' && e.status === 404);
  for (const p of [alice, bob, stranger]) p.client.close();
});

test('the server restarts mid-conversation: no gap, no duplicate, every send resolves once', async () => {
  const { alice, bob, ra, rb } = await pair(`http://127.0.0.1:${port}`);
  const sent = [];
  // Sends in flight together, from both sides.
  sent.push(...(await Promise.all([0, 1, 2].flatMap((i) => [ra.send(`before ${i}`), rb.send(`before b${i}`)]))));
  await stopServer();
  await waitFor(() => alice.client.state !== 'online' && bob.client.state !== 'online', 'both to notice');
  let resolved = 0;
  const during = [];
  for (let i = 0; i < 3; i++) {
    during.push(ra.send(`while down ${i}`).then((m) => { resolved++; return m; }));
    during.push(rb.send(`while down b${i}`).then((m) => { resolved++; return m; }));
  }
  await startServer();
  sent.push(...(await Promise.all(during)));
  for (let i = 0; i < 3; i++) sent.push(await rb.send(`after ${i}`), await ra.send(`after a${i}`));
  await waitFor(() => alice.seen.length >= sent.length && bob.seen.length >= sent.length, 'every message on both sides');
  await new Promise((r) => setTimeout(r, 500));
  assert.equal(resolved, 6);
  assertExactly(alice, sent);
  assertExactly(bob, sent);
  alice.client.close(); bob.client.close();
});

test('the network is cut (every socket closed): both clients end with every message once', async () => {
  // Bob's traffic goes through the relay, Alice's does not: what Alice says while Bob is cut off
  // reaches him only by the resume after his reconnect.
  const r = relay(() => port);
  const { alice, bob, ra, rb } = await pair(`http://127.0.0.1:${port}`, `http://127.0.0.1:${await r.listen()}`);
  const sent = [];
  for (let i = 0; i < 3; i++) sent.push(await ra.send(`net before ${i}`), await rb.send(`net before b${i}`));
  for (let round = 0; round < 2; round++) {
    r.cut();
    await waitFor(() => bob.client.state !== 'online', 'bob to notice the cut');
    const queued = rb.send(`net cut ${round} from bob`);
    for (let i = 0; i < 4; i++) sent.push(await ra.send(`net cut ${round} from alice ${i}`));
    assert.equal(bob.seen.some((m) => m.content === `net cut ${round} from alice 0`), false, 'bob is cut off');
    r.restore();
    sent.push(await queued);
    sent.push(await rb.send(`net after ${round}`), await ra.send(`net after ${round} a`));
  }
  await waitFor(() => alice.seen.length >= sent.length && bob.seen.length >= sent.length, 'every message on both sides');
  await new Promise((res) => setTimeout(res, 500));
  assertExactly(alice, sent);
  assertExactly(bob, sent);
  alice.client.close(); bob.client.close();
  await r.close();
});

test('a send made while offline resolves once after the reconnect, and arrives once', async () => {
  const r = relay(() => port);
  const base = `http://127.0.0.1:${await r.listen()}`;
  const { alice, bob, ra } = await pair(base);
  r.cut();
  await waitFor(() => alice.client.state === 'offline', 'alice offline');
  let resolutions = 0;
  const p = ra.send('sent on the train').then((m) => { resolutions++; return m; });
  await new Promise((res) => setTimeout(res, 1000));
  assert.equal(resolutions, 0, 'nothing resolves while offline');
  r.restore();
  const m = await p;
  await waitFor(() => bob.seen.some((x) => x.id === m.id), 'bob to get it');
  await new Promise((res) => setTimeout(res, 800));
  assert.equal(resolutions, 1);
  assert.equal(bob.seen.filter((x) => x.content === 'sent on the train').length, 1);
  assert.equal(alice.seen.filter((x) => x.content === 'sent on the train').length, 1);
  alice.client.close(); bob.client.close();
  await r.close();
});

test('a file sent through the SDK is fetched by the other client with its signed URL alone', async () => {
  const { alice, bob, ra } = await pair(`http://127.0.0.1:${port}`);
  const bytes = Buffer.from('hello from a file\n');
  const up = await alice.client.upload(new Blob([bytes], { type: 'text/plain' }), 'hello.txt');
  assert.match(up.signed_url, /\?uid=.+&exp=\d+&sig=/);
  const m = await ra.send({ content: 'a file', attachment_id: up.id, message_type: 'file' });
  await waitFor(() => bob.seen.some((x) => x.id === m.id), 'bob to get it');
  const live = bob.seen.find((x) => x.id === m.id);
  const url = await bob.client.fileUrl(live);
  assert.ok(url.includes(`uid=${bob.id}`), 'signed for bob');
  const res = await fetch(url); // no Authorization header
  assert.equal(res.status, 200);
  assert.deepEqual(Buffer.from(await res.arrayBuffer()), bytes);
  const bad = await fetch(url.replace(/sig=./, (s) => (s.endsWith('A') ? 'sig=B' : 'sig=A')));
  assert.equal(bad.status, 403);
  assert.equal((await bad.text()).includes('hello from a file'), false);
  alice.client.close(); bob.client.close();
});
