#!/usr/bin/env python3
"""App event delivery, from webhook in to delivery out (tests/bench/run_app_events.sh).

Posts one signed call.session_started per call (each announces meeting.created and
meeting.started) from THREADS keep-alive connections, recording when each was sent; then reads
the receiver's accepted deliveries (verified by the standardwebhooks library) and reports
throughput and the latency from the webhook's send to the delivery's arrival.
Usage: app_events_load.py <streamgate-port> <receiver-port> <stream-secret> <calls> [threads]
"""
import hashlib
import hmac
import http.client
import json
import sys
import threading
import time

port, rport, secret, calls = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
threads = int(sys.argv[5]) if len(sys.argv) > 5 else 4
sent = {}


def body(call):
    at = "2026-04-08T14:00:00Z"
    return json.dumps({"type": "call.session_started", "created_at": at,
                       "call_cid": "default:" + call, "session_id": "s1",
                       "call": {"id": call, "type": "default", "cid": "default:" + call,
                                "created_by": {"id": "alice"}, "custom": {},
                                "session": {"id": "s1", "started_at": at}}})


def worker(k):
    conn = http.client.HTTPConnection("127.0.0.1", port)
    for i in range(k, calls, threads):
        call = "load%d" % i
        b = body(call).encode()
        sig = hmac.new(secret.encode(), b, hashlib.sha256).hexdigest()
        sent[call] = time.time()
        conn.request("POST", "/api/webhook/stream", b,
                     {"X-Signature": sig, "X-Webhook-Id": call, "Content-Type": "application/json"})
        r = conn.getresponse()
        r.read()
        if r.status != 200:
            raise SystemExit("webhook answered %d" % r.status)


start = time.time()
ts = [threading.Thread(target=worker, args=(k,)) for k in range(threads)]
for t in ts:
    t.start()
for t in ts:
    t.join()
sent_done = time.time()
expected = 2 * calls
while True:
    c = http.client.HTTPConnection("127.0.0.1", rport)
    c.request("GET", "/_received")
    got = json.loads(c.getresponse().read())
    if len(got["accepted"]) >= expected or time.time() - sent_done > 120:
        break
    time.sleep(0.2)
acc = got["accepted"]
lat = sorted(a["receivedAt"] / 1000 - sent[a["body"]["data"]["meeting"]["callId"]] for a in acc)
last = max(a["receivedAt"] for a in acc) / 1000
q = lambda p: lat[min(len(lat) - 1, int(p * (len(lat) - 1)))] * 1000
print("| %d webhooks (%d threads) | %.0f webhooks/s in | %d events delivered, %d rejected, %d ids distinct | %.0f events/s out | %.1f ms | %.1f ms | %.1f ms |"
      % (calls, threads, calls / (sent_done - start), len(acc), len(got["rejected"]),
         len({a["id"] for a in acc}), len(acc) / (last - start), q(0.5), q(0.99), q(1.0)))
