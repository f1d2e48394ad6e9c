"""The one table of the peer: every message, saved before it is broadcast."""
from django.db import models


class Message(models.Model):
    room = models.CharField(max_length=64, db_index=True)
    content = models.TextField()
    client_id = models.CharField(max_length=64, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
