// Seed 004's "WebSocket Connection Flow" snippets 1-4, verbatim from its document, in order
// (5, `ws.close();`, is called by the test when it is done).
const roomId = 'your-room-uuid';
const ws = new WebSocket(`ws://your-domain/ws/chat/${roomId}/`);

ws.onopen = (event) => {
  console.log('Connected to chat room');
};

ws.onmessage = (event) => {
  const data = JSON.parse(event.data);

  switch(data.type) {
    case 'message':
      // New message received
      displayMessage(data.message);
      break;

    case 'typing':
      // User typing status changed
      updateTypingIndicator(data.user_id, data.is_typing);
      break;

    case 'user_joined':
      // User joined the room
      showNotification(`${data.user} joined`);
      break;

    case 'user_left':
      // User left the room
      showNotification(`${data.user} left`);
      break;
  }
};

function sendMessage(content) {
  ws.send(JSON.stringify({
    type: 'message',
    content: content
  }));
}

let typingTimeout;

function handleTyping() {
  // Send typing=true
  ws.send(JSON.stringify({
    type: 'typing',
    is_typing: true
  }));

  // Auto-cancel after 3 seconds of no typing
  clearTimeout(typingTimeout);
  typingTimeout = setTimeout(() => {
    ws.send(JSON.stringify({
      type: 'typing',
      is_typing: false
    }));
  }, 3000);
}
