"""confluent-kafka (librdkafka) as two tenants over SASL_SSL against a shared
`pinpipe serve`: what each may see and do, and what is refused with which
Kafka error. Prints one JSON object of observations; the C++ test asserts.

usage: tenant_kafka.py <bootstrap> <ca.pem> <alice password> <bob password>
"""
import json
import sys
import time

from confluent_kafka import Consumer, KafkaError, KafkaException, Producer
from confluent_kafka.admin import AdminClient

bootstrap, ca, alice_pw, bob_pw = sys.argv[1:5]
out = {}


def conf(user, password, mechanism, **extra):
    c = {
        "bootstrap.servers": bootstrap,
        "security.protocol": "SASL_SSL",
        "ssl.ca.location": ca,
        "sasl.mechanisms": mechanism,
        "sasl.username": user,
        "sasl.password": password,
    }
    c.update(extra)
    return c


def produce(c, topic, n, value=b"v"):
    """Produces n records; returns the distinct delivery error names (or "ok")."""
    results = []

    def done(err, msg):
        results.append(err.name() if err else "ok")

    p = Producer(dict(c, **{"message.timeout.ms": 15000}))
    for i in range(n):
        p.produce(topic, value=value + b"%d" % i, on_delivery=done)
    p.flush(30)
    return sorted(set(results))


def consume(c, topic, group, want, timeout=15):
    """Returns (values, error names) of what a group consumer of topic sees."""
    cons = Consumer(dict(c, **{"group.id": group, "auto.offset.reset": "earliest",
                               "enable.auto.commit": False}))
    cons.subscribe([topic])
    values, errors = [], set()
    end = time.time() + timeout
    while time.time() < end and len(values) < want:
        m = cons.poll(1)
        if m is None:
            continue
        if m.error():
            errors.add(m.error().name())
            if m.error().fatal() or m.error().code() in (
                    KafkaError.TOPIC_AUTHORIZATION_FAILED, KafkaError.GROUP_AUTHORIZATION_FAILED):
                break
            continue
        values.append(m.value().decode())
    if values and not errors:
        try:
            cons.commit(asynchronous=False)
        except KafkaException as e:
            errors.add(e.args[0].name())
    cons.close()
    return values, sorted(errors)


alice = conf("alice", alice_pw, "PLAIN")
bob = conf("bob", bob_pw, "SCRAM-SHA-256")

# bob first, so bob.py exists when alice reaches for it.
out["bob_produce_own"] = produce(bob, "bob.py", 3, b"bob")
out["alice_produce_own"] = produce(alice, "alice.py", 2, b"alice")
out["alice_produce_bobs"] = produce(alice, "bob.py", 2, b"intruder")
md = AdminClient(alice).list_topics(timeout=15)
out["alice_topics"] = sorted(md.topics)
out["alice_bobs_topic_error"] = (md.topics["bob.py"].error.name()
                                 if "bob.py" in md.topics and md.topics["bob.py"].error else None)
out["alice_consume_own"] = consume(alice, "alice.py", "alice.g", 2)
out["alice_consume_bobs_topic"] = consume(alice, "bob.py", "alice.g2", 1)
out["alice_with_bobs_group"] = consume(alice, "alice.py", "bob.g", 1)
out["bob_consume_own"] = consume(bob, "bob.py", "bob.g", 4, timeout=6)  # 3, nothing of alice



def refused(user, password, mechanism):
    """The client errors seen when logging in with a bad credential."""
    errors = []
    c = conf(user, password, mechanism, error_cb=lambda e: errors.append(e.name()))
    admin = AdminClient(c)
    try:
        admin.list_topics(timeout=8)
        errors.append("accepted")
    except KafkaException as e:
        errors.append(e.args[0].name())
    admin.poll(1)  # serves error_cb
    return sorted(set(errors))


out["wrong_password"] = refused("alice", "wrong-password", "PLAIN")
out["unknown_user"] = refused("nobody", "x", "SCRAM-SHA-512")

# bob's quota (records_per_s in the config): a burst over it, then one more
# record: the broker holds the second produce and says so in throttle_time_ms.
throttles = []
p = Producer(dict(bob, **{"throttle_cb": lambda ev: throttles.append(ev.throttle_time * 1000),
                          "linger.ms": 0}))
for i in range(300):
    p.produce("bob.quota", value=b"q")
p.flush(30)
start = time.time()
p.produce("bob.quota", value=b"last")
p.flush(30)
p.poll(0)
out["quota_second_flush_s"] = round(time.time() - start, 2)
out["quota_throttle_ms"] = max(throttles) if throttles else 0
print(json.dumps(out))
