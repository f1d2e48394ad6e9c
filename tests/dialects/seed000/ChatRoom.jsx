// Seed 000's "React Chat Component Example", verbatim (docs/DIALECTS.md).
import React, { useState, useEffect, useRef } from 'react';

function ChatRoom({ conversationId }) {
  const [messages, setMessages] = useState([]);
  const [newMessage, setNewMessage] = useState('');
  const [isTyping, setIsTyping] = useState(false);
  const [socket, setSocket] = useState(null);
  const messagesEndRef = useRef(null);

  useEffect(() => {
    // Connect to WebSocket
    const ws = new WebSocket(`ws://localhost:3001/ws/chat/${tenantId}/`);
    ws.onopen = () => {
      // Join conversation
      ws.send(JSON.stringify({
        type: 'join_conversation',
        conversation_id: conversationId
      }));
    };

    ws.onmessage = (event) => {
      const data = JSON.parse(event.data);
      handleWebSocketMessage(data);
    };

    setSocket(ws);
    return () => ws.close();
  }, [conversationId]);

  const handleWebSocketMessage = (data) => {
    switch (data.type) {
      case 'new_message':
        setMessages(prev => [...prev, data.message]);
        break;
      case 'typing_indicator':
        setIsTyping(data.is_typing);
        break;
      // Handle other message types...
    }
  };

  const sendMessage = () => {
    if (!newMessage.trim()) return;

    socket.send(JSON.stringify({
      type: 'send_message',
      conversation_id: conversationId,
      content: newMessage,
      message_type: 'text'
    }));

    setNewMessage('');
  };

  const handleTyping = (e) => {
    setNewMessage(e.target.value);

    // Send typing indicators
    if (e.target.value && !isTyping) {
      socket.send(JSON.stringify({
        type: 'start_typing',
        conversation_id: conversationId
      }));
    } else if (!e.target.value && isTyping) {
      socket.send(JSON.stringify({
        type: 'stop_typing',
        conversation_id: conversationId
      }));
    }
  };

  return (
    <div className="chat-room">
      <div className="messages">
        {messages.map(message => (
          <div key={message.id} className="message">
            <strong>{message.sender_id}:</strong> {message.content}
            {message.reactions.length > 0 && (
              <div className="reactions">
                {message.reactions.map((reaction, index) => (
                  <span key={index}>{reaction.emoji}</span>
                ))}
              </div>
            )}
          </div>
        ))}
        {isTyping && <div className="typing">Someone is typing...</div>}
        <div ref={messagesEndRef} />
      </div>

      <div className="message-input">
        <input
          type="text"
          value={newMessage}
          onChange={handleTyping}
          onKeyPress={(e) => e.key === 'Enter' && sendMessage()}
          placeholder="Type a message..."
        />
        <button onClick={sendMessage}>Send</button>
      </div>
    </div>
  );
}
