// The WebSocket of docs/PROTOCOL.md section 7: a one-time ticket per connection, `ref`-matched
// acks, a client ping to keep the socket alive and to notice a dead one, and reconnection with
// exponential backoff and jitter. What to do after (re)connecting (join, resume) is the app's job:
// it gets onOpen(established) each time.

import { post } from './api.js';

const PING_EVERY_MS = 20000;
const PONG_WITHIN_MS = 10000;
const MAX_BACKOFF_MS = 15000;
const HANDSHAKE_WITHIN_MS = 10000;

let refCounter = 0;
export const newRef = () => `r${Date.now().toString(36)}${(refCounter++).toString(36)}`;

export class ChatSocket {
  constructor({ onFrame, onOpen, onState }) {
    this.onFrame = onFrame;
    this.onOpen = onOpen;
    this.onState = onState;
    this.ws = null;
    this.state = 'idle';
    this.attempt = 0;
    this.pending = new Map();
    this.stopped = true;
    this.timer = null;
    this.pingTimer = null;
    this.pongTimer = null;
    this.goOffline = () => this.dropped('offline');
    this.goOnline = () => { if (!this.stopped && this.state !== 'open') this.connectSoon(0); };
    window.addEventListener('offline', this.goOffline);
    window.addEventListener('online', this.goOnline);
  }

  setState(s) {
    if (this.state === s) return;
    this.state = s;
    this.onState(s, this.attempt);
  }

  start() {
    this.stopped = false;
    this.attempt = 0;
    this.connect();
  }

  stop() {
    this.stopped = true;
    clearTimeout(this.timer);
    this.teardown(1000);
    this.setState('idle');
  }

  connectSoon(delay) {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.connect(), delay);
  }

  async connect() {
    clearTimeout(this.timer);
    if (this.stopped) return;
    if (this.ws && this.ws.readyState <= 1) return;
    // One attempt at a time: an 'online' event during the ticket request must not open a second socket.
    if (this.connecting) return;
    if (!navigator.onLine) { this.setState('offline'); this.connectSoon(10000); return; }
    this.setState(this.attempt === 0 && this.state === 'idle' ? 'connecting' : 'reconnecting');
    let ticket;
    this.connecting = true;
    try {
      ticket = (await post('/api/chat/ws-ticket', {})).ticket;
    } catch (e) {
      if (e.status === 401) { this.stop(); return; }
      this.scheduleRetry();
      return;
    } finally {
      this.connecting = false;
    }
    if (this.stopped || (this.ws && this.ws.readyState <= 1)) return;
    const proto = location.protocol === 'https:' ? 'wss' : 'ws';
    const ws = new WebSocket(`${proto}://${location.host}/ws/chat/?ticket=${encodeURIComponent(ticket)}`);
    this.ws = ws;
    // A handshake that hangs (a dead network, a proxy) counts as a drop.
    clearTimeout(this.pongTimer);
    this.pongTimer = setTimeout(() => { if (ws === this.ws && this.state !== 'open') this.dropped('timeout'); }, HANDSHAKE_WITHIN_MS);
    ws.onmessage = (ev) => {
      if (ws !== this.ws) return;
      let frame;
      try { frame = JSON.parse(ev.data); } catch { return; }
      this.received(frame);
    };
    ws.onclose = () => { if (ws === this.ws) this.dropped('closed'); };
    ws.onerror = () => { /* onclose follows */ };
  }

  received(frame) {
    clearTimeout(this.pongTimer);
    if (frame.type === 'connection_established') {
      this.attempt = 0;
      this.setState('open');
      this.startPing();
      this.onOpen(frame);
      return;
    }
    if ((frame.type === 'ack' || frame.type === 'error') && frame.ref && this.pending.has(frame.ref)) {
      const p = this.pending.get(frame.ref);
      this.pending.delete(frame.ref);
      clearTimeout(p.timer);
      if (frame.type === 'ack') p.resolve(frame);
      else p.reject(Object.assign(new Error((frame.error && frame.error.message) || 'error'), frame.error || {}));
    }
    this.onFrame(frame);
  }

  startPing() {
    clearInterval(this.pingTimer);
    this.pingTimer = setInterval(() => {
      if (!this.send({ type: 'ping' })) return;
      clearTimeout(this.pongTimer);
      this.pongTimer = setTimeout(() => this.dropped('timeout'), PONG_WITHIN_MS);
    }, PING_EVERY_MS);
  }

  teardown(code) {
    clearInterval(this.pingTimer);
    clearTimeout(this.pongTimer);
    const ws = this.ws;
    this.ws = null;
    if (ws) {
      ws.onmessage = ws.onclose = ws.onerror = null;
      try { ws.close(code); } catch { /* already closed */ }
    }
    for (const p of this.pending.values()) {
      clearTimeout(p.timer);
      p.reject(Object.assign(new Error('disconnected'), { code: 'disconnected' }));
    }
    this.pending.clear();
  }

  dropped(why) {
    this.teardown(why === 'offline' ? 4000 : 1000);
    if (this.stopped) return;
    if (why === 'offline' || !navigator.onLine) {
      this.setState('offline');
      // The 'online' event reconnects at once; this is for a browser that never sends it.
      this.connectSoon(10000);
      return;
    }
    this.scheduleRetry();
  }

  scheduleRetry() {
    this.setState('reconnecting');
    const base = Math.min(MAX_BACKOFF_MS, 500 * 2 ** this.attempt);
    this.attempt += 1;
    // "Equal jitter": half fixed, half random, so a server restart is not met by a stampede.
    this.connectSoon(base / 2 + Math.random() * (base / 2));
  }

  get isOpen() { return !!this.ws && this.ws.readyState === 1 && this.state === 'open'; }

  send(frame) {
    if (!this.ws || this.ws.readyState !== 1) return false;
    this.ws.send(JSON.stringify(frame));
    return true;
  }

  /// Sends a frame with a fresh `ref` and resolves with its `ack` (rejects with its `error`).
  request(frame, timeoutMs = 10000) {
    const ref = frame.ref || newRef();
    return new Promise((resolve, reject) => {
      if (!this.send({ ...frame, ref })) {
        reject(Object.assign(new Error('not connected'), { code: 'disconnected' }));
        return;
      }
      const timer = setTimeout(() => {
        this.pending.delete(ref);
        reject(Object.assign(new Error('no answer from the server'), { code: 'timeout' }));
      }, timeoutMs);
      this.pending.set(ref, { resolve, reject, timer });
    });
  }
}
