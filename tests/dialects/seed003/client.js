// Seed 003's "Frontend Integration Guide" snippets (1. to 4.), verbatim from its document.
// The page supplies handleIncomingMessage; the test fills in the conversation id, host and token.

const conversationId = 'your-conversation-id';
const ws = new WebSocket(`ws://localhost:8000/ws/chat/${conversationId}/`);

ws.onopen = () => {
    console.log('Connected to chat');
};

ws.onmessage = (event) => {
    const data = JSON.parse(event.data);
    handleIncomingMessage(data);
};

ws.onerror = (error) => {
    console.error('WebSocket error:', error);
};

ws.onclose = () => {
    console.log('Disconnected from chat');
};

function sendMessage(content) {
    ws.send(JSON.stringify({
        type: 'send_message',
        content: content,
        message_type: 'text'
    }));
}

let typingTimer;

function handleTyping() {
    ws.send(JSON.stringify({
        type: 'typing',
        is_typing: true
    }));
    
    clearTimeout(typingTimer);
    typingTimer = setTimeout(() => {
        ws.send(JSON.stringify({
            type: 'typing',
            is_typing: false
        }));
    }, 3000);
}

function markMessagesRead(messageIds) {
    ws.send(JSON.stringify({
        type: 'mark_read',
        message_ids: messageIds
    }));
}
