"""Third-party check of what aimm publishes: decodes every Sparkplug B message of a group with
pysparkplug (an independent Python implementation; it resolves DDATA aliases from the births it
has seen) and writes one JSON object per message to OUT. Prints "ready" once subscribed and
exits after the first NDEATH or after the timeout.

Usage: python3 sparkplug_decode.py HOST PORT GROUP OUT [TIMEOUT_S]
"""

import json
import sys
import threading

import pysparkplug as psp

host, port, group, out = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
timeout_s = float(sys.argv[5]) if len(sys.argv) > 5 else 120.0
done = threading.Event()
lock = threading.Lock()
sink = open(out, "w", encoding="utf-8")


def plain(value):
    return value if isinstance(value, (bool, int, float, str, type(None))) else repr(value)


def on_message(_client, message):
    payload = message.payload
    record = {
        "topic": str(message.topic),
        "type": str(message.topic.message_type),
        "device": message.topic.device_id,
        "seq": getattr(payload, "seq", None),
        "bd_seq": plain(getattr(getattr(payload, "bd_seq_metric", None), "value", None)),
        "timestamp": payload.timestamp,
        "metrics": [
            {
                "name": m.name,
                "alias": m.alias,
                "datatype": m.datatype.name,
                "value": plain(m.value),
                "timestamp": m.timestamp,
                "is_null": m.is_null,
                "is_historical": m.is_historical,
            }
            # (pysparkplug models NDEATH with its bdSeq metric only.)
            for m in getattr(payload, "metrics", ())
        ],
    }
    with lock:
        sink.write(json.dumps(record) + "\n")
        sink.flush()
    if message.topic.message_type == psp.MessageType.NDEATH:
        done.set()


client = psp.Client()
# pysparkplug subscribes on connect; readiness is the broker's SUBACK (paho's callback).
client._client.on_subscribe = lambda *_args: print("ready", flush=True)
client.subscribe(
    psp.Topic(group_id=group, message_type=psp.MULTI_LEVEL_WILDCARD),
    psp.QoS.AT_LEAST_ONCE,
    on_message,
)
client.connect(host, port=port, blocking=False)
finished = done.wait(timeout_s)
client.disconnect()
sink.close()
sys.exit(0 if finished else 2)
