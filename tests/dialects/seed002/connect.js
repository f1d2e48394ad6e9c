// Seed 002's "Example React Integration", verbatim (docs/DIALECTS.md).
const ws = new WebSocket(`ws://localhost:9090/ws/chat/${tenantId}/?token=${jwt}`);
ws.onopen = () => {
  ws.send(JSON.stringify({ type: 'join_conversation', conversation_id }));
};
ws.onmessage = (event) => {
  const data = JSON.parse(event.data);
  // handle data.type: new_message, typing_indicator, etc.
};
