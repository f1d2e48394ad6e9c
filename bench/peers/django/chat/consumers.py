"""The chat consumer, as the Channels tutorial writes it: join the room's group on connect, save
each message through the ORM, then broadcast it to the group (the sender's own copy is its ack)."""
import json

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer

from .models import Message


class ChatConsumer(AsyncWebsocketConsumer):
    async def connect(self):
        self.room_id = self.scope["url_route"]["kwargs"]["room_id"]
        self.group = f"chat_{self.room_id}"
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()
        await self.send(text_data=json.dumps({"type": "connection_established"}))

    async def disconnect(self, code):
        await self.channel_layer.group_discard(self.group, self.channel_name)

    async def receive(self, text_data=None, bytes_data=None):
        try:
            frame = json.loads(text_data or "")
        except ValueError:
            return
        if frame.get("type") != "send_message" or not isinstance(frame.get("content"), str):
            return
        message = await self.save_message(frame["content"], frame.get("client_id") or "")
        await self.channel_layer.group_send(
            self.group,
            {
                "type": "chat.message",
                "message": {
                    "id": message.id,
                    "content": message.content,
                    "client_id": message.client_id,
                },
            },
        )

    async def chat_message(self, event):
        await self.send(
            text_data=json.dumps(
                {"type": "new_message", "room_id": self.room_id, "message": event["message"]}
            )
        )

    @database_sync_to_async
    def save_message(self, content, client_id):
        return Message.objects.create(room=self.room_id, content=content, client_id=client_id)
