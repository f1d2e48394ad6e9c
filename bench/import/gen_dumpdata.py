#!/usr/bin/env python3
"""Writes a Django `dumpdata` export in seed 004's shapes (auth.user, chat.chatroom with its
participants, chat.message with a reactions map, chat.messagereadstatus) for the import
benchmark, streaming: memory stays flat whatever the size.

    bench/import/gen_dumpdata.py --messages 1000000 --out target/bench/import/chat.json

Users have integer pks, rooms and messages UUID pks; one message in 50 is edited, one in 200
deleted, one in 20 a reply, one in 10 has reactions; every member has read up to some message.
"""
import argparse
import json
import random
import uuid
from datetime import datetime, timedelta, timezone


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--messages", type=int, default=1_000_000)
    ap.add_argument("--rooms", type=int, default=1_000)
    ap.add_argument("--users", type=int, default=2_000)
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    rnd = random.Random(7)
    start = datetime(2024, 1, 1, tzinfo=timezone.utc)
    first = True

    def emit(out, model, pk, fields):
        nonlocal first
        out.write("[\n" if first else ",\n")
        first = False
        out.write(json.dumps({"model": model, "pk": pk, "fields": fields}, ensure_ascii=False))

    with open(a.out, "w", encoding="utf-8") as out:
        for n in range(1, a.users + 1):
            emit(out, "auth.user", n, {"username": f"user{n}", "email": f"user{n}@example.com",
                                       "first_name": "User", "last_name": str(n), "password": "!"})
        rooms = []
        for r in range(a.rooms):
            rid = str(uuid.UUID(int=rnd.getrandbits(128), version=4))
            members = rnd.sample(range(1, a.users + 1), 10)
            rooms.append((rid, members))
            emit(out, "chat.chatroom", rid, {"name": f"Room {r}", "room_type": "group",
                                             "participants": members, "created_by": members[0],
                                             "is_active": True, "created_at": start.isoformat()})
        recent = {}
        for m in range(a.messages):
            rid, members = rooms[m % a.rooms]
            mid = str(uuid.UUID(int=rnd.getrandbits(128), version=4))
            at = start + timedelta(seconds=m)
            fields = {"room": rid, "sender": rnd.choice(members), "content": f"message {m}: " + "lorem ipsum dolor sit amet " * 3,
                      "message_type": "text", "timestamp": at.isoformat().replace("+00:00", "Z"),
                      "edited_at": None, "is_deleted": m % 200 == 0, "reply_to": None, "reactions": {}}
            if m % 50 == 1:
                fields["edited_at"] = (at + timedelta(minutes=1)).isoformat()
            if m % 20 == 2 and rid in recent:
                fields["reply_to"] = recent[rid]
            if m % 10 == 3:
                fields["reactions"] = {"👍": rnd.sample(members, 2)}
            recent[rid] = mid
            emit(out, "chat.message", mid, fields)
        for rid, members in rooms:
            for user in members[:5]:
                if rid in recent:
                    emit(out, "chat.messagereadstatus", None, {"message": recent[rid], "user": user})
        out.write("\n]\n" if not first else "[]\n")


if __name__ == "__main__":
    main()
