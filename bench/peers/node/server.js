// The Node peer of Confab's benchmark: a plain `ws` broadcast server with no persistence, the
// fan-out ceiling. A client connects to /ws/chat/<room>/ (the same path scheme as the Django peer)
// and every frame it sends is broadcast, as one pre-serialised string, to everyone in that room,
// the sender included (its copy is its acknowledgement).
'use strict';
const http = require('http');
const { WebSocketServer } = require('ws');

const port = Number(process.env.PORT || 8090);
const host = process.env.HOST || '127.0.0.1';
const rooms = new Map(); // room id -> Set of sockets
let nextId = 0;

const server = http.createServer((req, res) => {
  if (req.url === '/healthz') { res.writeHead(200); res.end('ok'); return; }
  res.writeHead(404); res.end();
});
const wss = new WebSocketServer({ server, perMessageDeflate: false, maxPayload: 64 * 1024 });

wss.on('connection', (ws, req) => {
  const m = /^\/ws\/chat\/([^/?]+)\/?/.exec(req.url || '');
  if (!m) { ws.close(1008, 'no room'); return; }
  const roomId = decodeURIComponent(m[1]);
  let members = rooms.get(roomId);
  if (!members) { members = new Set(); rooms.set(roomId, members); }
  members.add(ws);
  ws.send(JSON.stringify({ type: 'connection_established' }));

  ws.on('message', (data, isBinary) => {
    if (isBinary) return;
    let frame;
    try { frame = JSON.parse(data.toString()); } catch { return; }
    if (frame.type !== 'send_message' || typeof frame.content !== 'string') return;
    const out = JSON.stringify({
      type: 'new_message',
      room_id: roomId,
      message: { id: ++nextId, content: frame.content, client_id: frame.client_id || null },
    });
    for (const peer of members) {
      if (peer.readyState === 1) peer.send(out);
    }
  });
  ws.on('close', () => {
    members.delete(ws);
    if (members.size === 0) rooms.delete(roomId);
  });
});

server.listen(port, host, () => console.log(`node peer listening on ${host}:${port}`));
