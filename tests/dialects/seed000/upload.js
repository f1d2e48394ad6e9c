// Seed 000's "File Upload Example", verbatim (docs/DIALECTS.md).
const uploadFile = async (file) => {
  const formData = new FormData();
  formData.append('file', file);

  const response = await fetch('/api/notifications/chat/upload/', {
    method: 'POST',
    headers: {
      'Authorization': `Bearer ${localStorage.getItem('auth_token')}`
    },
    body: formData
  });

  const result = await response.json();

  // Send file message
  socket.send(JSON.stringify({
    type: 'send_message',
    conversation_id: conversationId,
    content: `Shared a file: ${result.file_name}`,
    message_type: 'file',
    file_url: result.file_url,
    file_name: result.file_name,
    file_size: result.file_size
  }));
};
