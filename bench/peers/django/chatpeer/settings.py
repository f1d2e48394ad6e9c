"""Settings of the Django Channels peer: production-style (DEBUG off, persistent DB connections,
the Redis channel layer), configured from the environment by scripts/bench.sh."""
import os
from urllib.parse import unquote, urlparse

SECRET_KEY = os.environ.get("PEER_SECRET_KEY", "bench-only-not-a-secret")
DEBUG = False
ALLOWED_HOSTS = ["*"]
INSTALLED_APPS = ["django.contrib.contenttypes", "channels", "chat"]
MIDDLEWARE = []
ROOT_URLCONF = "chatpeer.urls"
ASGI_APPLICATION = "chatpeer.asgi.application"
USE_TZ = True
TIME_ZONE = "UTC"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

_db = urlparse(os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/bench_django"))
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": _db.path.lstrip("/"),
        "USER": unquote(_db.username or "postgres"),
        "PASSWORD": unquote(_db.password or ""),
        "HOST": _db.hostname or "127.0.0.1",
        "PORT": _db.port or 5432,
        # Persistent connections, as any production deployment sets: with the default (0)
        # database_sync_to_async would open a new connection for every message.
        "CONN_MAX_AGE": 600,
    }
}

# channels_redis, the layer the Channels docs recommend for production: InMemoryChannelLayer is
# for testing and single processes only.
CHANNEL_LAYERS = {
    "default": {
        "BACKEND": "channels_redis.core.RedisChannelLayer",
        "CONFIG": {
            "hosts": [
                {
                    "address": os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"),
                    # redis-py's asyncio pool holds 100 connections by default and then fails
                    # ("Too many connections") instead of waiting: thousands of consumers
                    # joining and leaving groups at once need more.
                    "max_connections": 1000,
                }
            ]
        },
    }
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": "WARNING"},
}
