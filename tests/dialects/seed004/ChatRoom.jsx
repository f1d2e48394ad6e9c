// Seed 004's "Basic Chat Component", verbatim from its document.
import { useState, useEffect, useRef } from 'react';

function ChatRoom({ roomId, authToken }) {
  const [messages, setMessages] = useState([]);
  const [inputValue, setInputValue] = useState('');
  const [typingUsers, setTypingUsers] = useState(new Set());
  const ws = useRef(null);

  useEffect(() => {
    // Fetch initial messages via REST API
    fetch(`/api/chat/rooms/${roomId}/messages/`, {
      headers: {
        'Authorization': `Bearer ${authToken}`
      }
    })
      .then(res => res.json())
      .then(data => setMessages(data.results));

    // Connect to WebSocket
    ws.current = new WebSocket(`ws://localhost:8000/ws/chat/${roomId}/`);

    ws.current.onmessage = (event) => {
      const data = JSON.parse(event.data);

      if (data.type === 'message') {
        setMessages(prev => [...prev, data.message]);
      } else if (data.type === 'typing') {
        setTypingUsers(prev => {
          const newSet = new Set(prev);
          if (data.is_typing) {
            newSet.add(data.user_id);
          } else {
            newSet.delete(data.user_id);
          }
          return newSet;
        });
      }
    };

    return () => ws.current?.close();
  }, [roomId, authToken]);

  const sendMessage = () => {
    if (inputValue.trim()) {
      ws.current.send(JSON.stringify({
        type: 'message',
        content: inputValue
      }));
      setInputValue('');
    }
  };

  const handleTyping = () => {
    ws.current.send(JSON.stringify({
      type: 'typing',
      is_typing: true
    }));
  };

  return (
    <div>
      <div className="messages">
        {messages.map(msg => (
          <div key={msg.id}>
            <strong>{msg.sender.display_name}:</strong> {msg.content}
          </div>
        ))}
      </div>

      {typingUsers.size > 0 && (
        <div className="typing-indicator">
          {typingUsers.size} user(s) typing...
        </div>
      )}

      <input
        value={inputValue}
        onChange={(e) => setInputValue(e.target.value)}
        onKeyPress={handleTyping}
        onKeyDown={(e) => e.key === 'Enter' && sendMessage()}
      />
      <button onClick={sendMessage}>Send</button>
    </div>
  );
}
