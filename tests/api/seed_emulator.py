"""Sends exactly what the original project's Python emulator sent (requests,
json.dumps with default=str, the same headers and routes), then reads the
records back through the API and checks the stored bytes.

Usage: python3 seed_emulator.py <base_url>
"""
import base64
import datetime
import json
import sys

import requests

base = sys.argv[1]
prefix = "0a60b9a8a831"

pin_result = {"index": 7528, "unique_id": "fbe53c66-3442-4773-b19e-d3ec6f54dddf",
              "title": "No Title Data Available", "description": "No description available Story format",
              "poster_name": "User Info Error", "follower_count": "User Info Error",
              "tag_list": "N,o, ,T,a,g,s, ,A,v,a,i,l,a,b,l,e", "is_image_or_video": "multi-video(story page format)",
              "image_src": "Image src error.", "downloaded": 0,
              "save_location": "Local save in /data/mens-fashion", "category": "mens-fashion"}
geo_result = {"ind": 7528, "timestamp": datetime.datetime(2020, 8, 28, 3, 52, 47),
              "latitude": -89.9787, "longitude": -173.293, "country": "Albania"}
user_result = {"ind": 7528, "first_name": "Abigail", "last_name": "Ali", "age": 20,
               "date_joined": datetime.datetime(2015, 10, 24, 11, 23, 51)}

# Batch path: Kafka REST through API Gateway.
expected_topics = {}
for topic, value in (("pin", pin_result), ("geo", geo_result), ("user", user_result)):
    invoke_url = f"{base}/topics/{prefix}.{topic}"
    payload = json.dumps({"records": [{"value": value}]}, default=str)
    headers = {"Content-Type": "application/vnd.kafka.json.v2+json"}
    response = requests.request("POST", invoke_url, headers=headers, data=payload)
    assert response.status_code == 200, (response.status_code, response.text)
    body = response.json()
    assert body["offsets"][0]["offset"] == 0 and body["offsets"][0]["error_code"] is None, body
    expected_topics[f"{prefix}.{topic}"] = json.dumps(value, default=str, separators=(",", ":"))
    print(f"kafka {topic} {response.status_code}")

# Streaming path: Kinesis through API Gateway.
expected_streams = {}
for topic, value in (("pin", pin_result), ("geo", geo_result), ("user", user_result)):
    stream = f"streaming-{prefix}-{topic}"
    invoke_url = f"{base}/streams/{stream}/record"
    payload = json.dumps({"StreamName": stream, "Data": value, "PartitionKey": "partition-1"},
                         default=str)
    headers = {"Content-Type": "application/json"}
    response = requests.request("PUT", invoke_url, headers=headers, data=payload)
    assert response.status_code == 200, (response.status_code, response.text)
    assert response.json()["ShardId"] == "shardId-000000000000", response.text
    expected_streams[stream] = json.dumps(value, default=str, separators=(",", ":"))
    print(f"kinesis {topic} {response.status_code}")

# Read back: Kafka REST v2 consumer in binary format (exact bytes).
v2 = {"Content-Type": "application/vnd.kafka.v2+json"}
r = requests.post(f"{base}/consumers/check", headers=v2,
                  data=json.dumps({"name": "c1", "format": "binary", "auto.offset.reset": "earliest"}))
assert r.status_code == 200, r.text
inst = f"{base}/consumers/check/instances/c1"
r = requests.post(f"{inst}/subscription", headers=v2, data=json.dumps({"topics": list(expected_topics)}))
assert r.status_code == 204, r.text
got = {}
for _ in range(20):
    r = requests.get(f"{inst}/records?timeout=200",
                     headers={"Accept": "application/vnd.kafka.binary.v2+json"})
    assert r.status_code == 200, r.text
    for rec in r.json():
        got[rec["topic"]] = base64.b64decode(rec["value"]).decode()
    if len(got) == len(expected_topics):
        break
assert got == expected_topics, (got, expected_topics)
assert requests.delete(inst).status_code == 204
print("kafka readback identical")

# Read back the streams through the gateway's iterator routes.
for stream, expected in expected_streams.items():
    r = requests.get(f"{base}/streams/{stream}/sharditerator?shard-id=shardId-000000000000")
    assert r.status_code == 200, r.text
    it = r.json()["ShardIterator"]
    r = requests.get(f"{base}/streams/{stream}/records", headers={"Shard-Iterator": it})
    assert r.status_code == 200, r.text
    records = r.json()["Records"]
    assert len(records) == 1, records
    data = base64.b64decode(records[0]["Data"]).decode()
    assert data == expected, (data, expected)
print("kinesis readback identical")
# What the test reads back through the Broker after the server stops.
for name, expected in list(expected_topics.items()) + list(expected_streams.items()):
    print("expect\t%s\t%s" % (name, base64.b64encode(expected.encode()).decode()))
print("OK")
