#!/usr/bin/env python3
"""Writes N signed call.session_started bodies (one per call) for webhook.lua: 'signature<TAB>body' lines."""
import hashlib, hmac, json, sys

secret, count, out = sys.argv[1].encode(), int(sys.argv[2]), sys.argv[3]
with open(out, "w") as f:
    for i in range(count):
        call_id = f"bench-{i}"
        at = "2026-04-08T14:23:35.879421674Z"
        event = {
            "type": "call.session_started",
            "created_at": at,
            "call_cid": f"default:{call_id}",
            "session_id": f"sess-{i}",
            "call": {
                "type": "default", "id": call_id, "cid": f"default:{call_id}",
                "current_session_id": f"sess-{i}", "created_at": at, "updated_at": at,
                "created_by": {"id": f"user-{i % 97}", "role": "user", "teams": [], "custom": {},
                               "created_at": at, "updated_at": at, "banned": False, "online": True,
                               "language": "en"},
                "custom": {"meetingId": f"meeting-{i}", "agentId": "agent-456", "agentName": "Sales Assistant"},
                "backstage": False, "recording": False, "transcribing": False, "captioning": False,
                "blocked_user_ids": [],
                "settings": {"audio": {"mic_default_on": True, "default_device": "speaker"},
                             "video": {"camera_default_on": True, "enabled": True},
                             "recording": {"mode": "available", "quality": "1080p"}},
                "session": {"id": f"sess-{i}", "participants": [], "started_at": at,
                            "participants_count_by_role": {}, "anonymous_participant_count": 0,
                            "accepted_by": {}, "rejected_by": {}, "missed_by": {}},
                "egress": {"broadcasting": False, "hls": None},
                "ingress": {"rtmp": {"address": "rtmps://ingress.stream-io-video.com:443/x"}},
            },
        }
        body = json.dumps(event, separators=(",", ":"))
        sig = hmac.new(secret, body.encode(), hashlib.sha256).hexdigest()
        f.write(f"{sig}\t{body}\n")
