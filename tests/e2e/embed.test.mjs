// The embeddable room in headless Chromium: the embed page (/embed/rooms/{id}, in an iframe of
// another origin) and the <confab-room> element on a page of that other origin (the SDK loaded
// cross-origin) show a room, send, receive, and show an image by its signed URL in an <img>; a
// token without access shows the message and no data. Run by tests/e2e/run.sh after chat.test.mjs
// (it sets E2E_JWT_SECRET, to mint platform tokens, and E2E_HOST_PORT, the other origin's port).

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import path from 'node:path';
import { createHmac, randomUUID } from 'node:crypto';
import { chromium } from 'playwright-core';

import { png } from './png.mjs';

const BASE = process.env.E2E_BASE_URL || 'http://127.0.0.1:8080';
const SECRET = process.env.E2E_JWT_SECRET;
const HOST_PORT = Number(process.env.E2E_HOST_PORT || 0);
const CHROMIUM = process.env.E2E_CHROMIUM || '/usr/bin/chromium';
const SHOTS = process.env.E2E_SCREENSHOTS || 'target/e2e/screenshots';
const T = Number(process.env.E2E_TIMEOUT_MS || 15000);
const TENANT = '00000000-0000-0000-0000-000000000001';
const skip = !(SECRET && HOST_PORT) && 'needs E2E_JWT_SECRET and E2E_HOST_PORT (tests/e2e/run.sh against the real server)';

const b64 = (x) => Buffer.from(JSON.stringify(x)).toString('base64url');
function token(sub, name) {
  const now = Math.floor(Date.now() / 1000);
  const body = `${b64({ alg: 'HS256', typ: 'JWT' })}.${b64({ sub, tenant: TENANT, name, role: 'user', iat: now, exp: now + 3600 })}`;
  return `${body}.${createHmac('sha256', SECRET).update(body).digest('base64url')}`;
}

const people = {};
for (const name of ['Dana', 'Eve', 'Frank']) {
  const id = randomUUID();
  people[name] = { id, name, token: SECRET ? token(id, name) : '' };
}
let roomId;
let browser;
let host;
const pageErrors = [];

async function call(who, method, p, body) {
  const headers = { Authorization: `Bearer ${who.token}` };
  if (body && !(body instanceof FormData)) headers['Content-Type'] = 'application/json';
  const res = await fetch(BASE + p, { method, headers, body: body instanceof FormData ? body : body && JSON.stringify(body) });
  const json = await res.json().catch(() => null);
  if (!res.ok) throw new Error(`${method} ${p}: ${res.status} ${JSON.stringify(json)}`);
  return json;
}

/** The platform's own page on another origin: the element, or the embed page in an iframe. */
function hostPage(kind, who) {
  const script = `<script type="module" src="${BASE}/sdk/confab-room.js"></script>`;
  const body = kind === 'element'
    ? `${script}\n<confab-room room="${roomId}" token="${who.token}" style="height: 480px"></confab-room>`
    : `<iframe title="Course chat" src="${BASE}/embed/rooms/${roomId}#token=${encodeURIComponent(who.token)}" width="420" height="520"></iframe>`;
  return `<!doctype html><html><head><meta charset="utf-8"><title>Course page</title></head><body><h1>CS 101</h1>\n${body}\n</body></html>`;
}

async function open(url, who) {
  const ctx = await browser.newContext({ viewport: { width: 900, height: 700 } });
  const page = await ctx.newPage();
  page.on('pageerror', (e) => pageErrors.push(`${who}: ${e.message}`));
  await page.goto(url);
  return page;
}

before(async () => {
  if (skip) return;
  // Dana makes the room with Eve and shares an image in it (each token provisions its user).
  for (const p of Object.values(people)) await call(p, 'GET', '/api/chat/users/me');
  roomId = (await call(people.Dana, 'POST', '/api/chat/rooms', { name: 'CS 101', room_type: 'group', participant_ids: [people.Eve.id] })).id;
  await call(people.Dana, 'POST', `/api/chat/rooms/${roomId}/messages`, { content: 'Welcome to CS 101' });
  const form = new FormData();
  form.append('file', new Blob([png(80, 60)], { type: 'image/png' }), 'diagram.png');
  const up = await call(people.Dana, 'POST', '/api/chat/uploads', form);
  await call(people.Dana, 'POST', `/api/chat/rooms/${roomId}/messages`, { content: 'the diagram', attachment_id: up.id, message_type: 'image' });
  host = http.createServer((req, res) => {
    const u = new URL(req.url, 'http://x');
    const who = people[u.searchParams.get('as')];
    res.writeHead(who ? 200 : 404, { 'Content-Type': 'text/html; charset=utf-8' });
    res.end(who ? hostPage(u.pathname.slice(1), who) : 'no');
  });
  await new Promise((r) => host.listen(HOST_PORT, '127.0.0.1', r));
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'] });
});

after(async () => {
  if (browser) await browser.close();
  if (host) host.close();
});

const HOST = `http://127.0.0.1:${HOST_PORT}`;
const msg = (scope, text) => scope.locator('article.msg:not(.pending)', { hasText: text });

async function imageShown(scope) {
  const img = scope.locator('article.msg a.file img');
  await img.first().waitFor({ timeout: T });
  await scope.locator('article.msg a.file img[src*="sig="]').first().waitFor({ timeout: T });
  const ok = await img.first().evaluate((el) => new Promise((resolve) => {
    const done = () => resolve(el.complete && el.naturalWidth > 0);
    if (el.complete && el.naturalWidth) done(); else { el.addEventListener('load', done); el.addEventListener('error', () => resolve(false)); }
  }));
  assert.ok(ok, 'the image loaded from its signed URL');
  const src = await img.first().getAttribute('src');
  assert.match(src, /\/api\/chat\/uploads\/[0-9a-f-]+\/thumbnail\?uid=[0-9a-f-]+&exp=\d+&sig=/);
}

test('the embed page in another origin\'s iframe and the element on its page talk to each other', { skip }, async () => {
  const eve = await open(`${HOST}/embed?as=Eve`, 'eve-iframe');
  const frame = eve.frameLocator('iframe');
  await msg(frame, 'Welcome to CS 101').waitFor({ timeout: T });
  await imageShown(frame);
  const dana = await open(`${HOST}/element?as=Dana`, 'dana-element');
  const el = dana.locator('confab-room');
  await msg(el, 'Welcome to CS 101').waitFor({ timeout: T });
  await imageShown(el);
  assert.equal(await dana.locator('confab-room article.msg').count(), 2, 'no room list, just the room');

  await frame.locator('textarea').fill('Hello from the iframe');
  await frame.locator('textarea').press('Enter');
  await msg(frame, 'Hello from the iframe').waitFor({ timeout: T });
  await msg(el, 'Hello from the iframe').waitFor({ timeout: T });

  await el.locator('textarea').fill('Hello from the element <b>bold?</b>');
  await el.locator('button.send').click();
  await msg(frame, 'Hello from the element').waitFor({ timeout: T });
  assert.equal((await msg(frame, 'Hello from the element').locator('.text').textContent()), 'Hello from the element <b>bold?</b>');
  assert.equal(await eve.frameLocator('iframe').locator('article.msg b').count(), 0, 'user text is text');
  // Issue 20: the element renders the same Markdown subset, and link tricks stay text.
  const dialogs = [];
  for (const p of [eve, dana]) p.on('dialog', (d) => { dialogs.push(d.message()); d.dismiss().catch(() => {}); });
  await call(people.Dana, 'POST', `/api/chat/rooms/${roomId}/messages`, { content: 'md **bold** `code` [x](javascript:alert(1)) [ok](https://example.com/)\n```js\nlet a = 1;\n```' });
  for (const scope of [frame, el]) {
    const m = msg(scope, 'md bold');
    await m.waitFor({ timeout: T });
    assert.equal(await m.locator('strong').textContent(), 'bold');
    assert.equal(await m.locator('pre.md-code[data-lang="js"] code').textContent(), 'let a = 1;');
    assert.deepEqual(await m.locator('a').evaluateAll((els) => els.map((e) => e.getAttribute('href'))), ['https://example.com/']);
    assert.ok((await m.locator('.text').textContent()).includes('[x](javascript:alert(1))'));
  }
  // A link preview (run.sh lets the server preview loopback pages) shows in both, as text.
  const site = http.createServer((req, res) => {
    res.writeHead(200, { 'Content-Type': 'text/html' });
    res.end('<meta property="og:title" content="Lecture &lt;b&gt;notes&lt;/b&gt;"><meta property="og:site_name" content="CS 101">');
  });
  await new Promise((r) => site.listen(0, '127.0.0.1', r));
  await call(people.Dana, 'POST', `/api/chat/rooms/${roomId}/messages`, { content: `notes: http://127.0.0.1:${site.address().port}/w1` });
  for (const scope of [frame, el]) {
    const card = msg(scope, 'notes:').locator('a.link-preview');
    await card.waitFor({ timeout: T });
    assert.equal(await card.locator('.lp-title').textContent(), 'Lecture <b>notes</b>');
    assert.equal(await card.locator('b').count(), 0);
  }
  site.close();
  assert.deepEqual(dialogs, []);
  await eve.screenshot({ path: path.join(SHOTS, 'embed-iframe.png') });
  await dana.screenshot({ path: path.join(SHOTS, 'embed-element.png') });

  // An image sent live (over the WebSocket) shows by its signed URL too.
  const form = new FormData();
  form.append('file', new Blob([png(40, 40)], { type: 'image/png' }), 'live.png');
  const up = await call(people.Dana, 'POST', '/api/chat/uploads', form);
  await call(people.Dana, 'POST', `/api/chat/rooms/${roomId}/messages`, { content: 'live picture', attachment_id: up.id, message_type: 'image' });
  await msg(frame, 'live picture').locator('img[src*="sig="]').waitFor({ timeout: T });
  await eve.context().close();
  await dana.context().close();
});

test('a token without access shows the message and no data, in the embed page and the element', { skip }, async () => {
  for (const [url, scope] of [
    [`${BASE}/embed/rooms/${roomId}#token=${encodeURIComponent(people.Frank.token)}`, (p) => p.locator('confab-room')],
    [`${HOST}/element?as=Frank`, (p) => p.locator('confab-room')],
  ]) {
    const page = await open(url, 'frank');
    const s = scope(page);
    await s.locator('.notice', { hasText: 'not a member' }).waitFor({ timeout: T });
    await page.waitForTimeout(500);
    assert.equal(await s.locator('article.msg').count(), 0);
    assert.equal(await s.locator('img').count(), 0);
    const text = await page.evaluate(() => document.querySelector('confab-room').shadowRoot.textContent);
    assert.ok(!text.includes('Welcome to CS 101') && !text.includes('CS 101'), 'no room data on the page');
    await page.context().close();
  }
});

test('no page errors in the embedded room', { skip }, () => {
  assert.deepEqual(pageErrors, []);
});
