"""boto3, the AWS CLI and Python's requests against `pinpipe serve`'s Kinesis API with SigV4 on.

Usage (CTest runs it with the peers venv, tests/support/peer-python):
  aws_kinesis_test.py <pinpipe binary> <source dir>
"""
import base64
import collections
import datetime
import json
import os
import subprocess
import sys
import tempfile
import unittest

import boto3
import botocore
from botocore import UNSIGNED
from botocore.config import Config
from botocore.exceptions import ClientError

BINARY, SOURCE = sys.argv[1], sys.argv[2]
sys.path.insert(0, os.path.join(SOURCE, "tests", "support"))
from pinpipe_proc import Pinpipe  # noqa: E402

ACCESS, SECRET, REGION = "AKIDPINPIPETEST", "pinpipe-secret-key", "eu-west-1"
VENV = os.environ.get("PINPIPE_PEERS_VENV", os.path.dirname(os.path.dirname(sys.executable)))


def error_code(e):
    return e.response["Error"]["Code"]


class KinesisPeers(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory(prefix="pinpipe-aws-")
        cls.dir = cls.tmp.name
        cls.server = Pinpipe(BINARY, cls.dir, [
            "--set", f"api.kinesis_access_key={ACCESS}", "--set", f"api.kinesis_secret_key={SECRET}",
            "serve", "--listen", "127.0.0.1:{port}", "--data-dir", os.path.join(cls.dir, "data")])
        cls.base = cls.server.base
        # The CLI and boto3 read only what the test gives them: no ~/.aws of the user's.
        cls.env = dict(os.environ, HOME=cls.dir, AWS_ACCESS_KEY_ID=ACCESS,
                       AWS_SECRET_ACCESS_KEY=SECRET, AWS_DEFAULT_REGION=REGION,
                       AWS_CONFIG_FILE=os.path.join(cls.dir, "aws-config"),
                       AWS_SHARED_CREDENTIALS_FILE=os.path.join(cls.dir, "aws-credentials"))
        cls.env.pop("AWS_PROFILE", None)
        cls.env.pop("AWS_SESSION_TOKEN", None)

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()
        cls.tmp.cleanup()

    def client(self, access=ACCESS, secret=SECRET, **config):
        return boto3.session.Session(aws_access_key_id=access, aws_secret_access_key=secret,
                                     region_name=REGION).client(
            "kinesis", endpoint_url=self.base,
            config=Config(retries={"max_attempts": 1}, **config))

    def read_all(self, k, stream):
        """Every record of every shard, from TRIM_HORIZON, as {shard: [(seq, key, data)]}."""
        out = {}
        for page in k.get_paginator("list_shards").paginate(StreamName=stream):
            for shard in page["Shards"]:
                it = k.get_shard_iterator(StreamName=stream, ShardId=shard["ShardId"],
                                          ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
                got = []
                while True:
                    r = k.get_records(ShardIterator=it, Limit=7)
                    got += [(x["SequenceNumber"], x["PartitionKey"], x["Data"]) for x in r["Records"]]
                    if not r["Records"]:
                        break
                    it = r["NextShardIterator"]
                out[shard["ShardId"]] = got
        return out

    # -- boto3 ---------------------------------------------------------------------------

    def test_boto3_stream_lifecycle_and_round_trip(self):
        k = self.client()
        self.assertEqual(k.meta.service_model.protocol, "json")  # not CBOR (see README)
        k.create_stream(StreamName="boto-orders", ShardCount=3)
        k.get_waiter("stream_exists").wait(StreamName="boto-orders",
                                           WaiterConfig={"Delay": 1, "MaxAttempts": 5})
        with self.assertRaises(ClientError) as e:
            k.create_stream(StreamName="boto-orders", ShardCount=3)
        self.assertEqual(error_code(e.exception), "ResourceInUseException")

        summary = k.describe_stream_summary(StreamName="boto-orders")["StreamDescriptionSummary"]
        self.assertEqual(summary["StreamStatus"], "ACTIVE")
        self.assertEqual(summary["OpenShardCount"], 3)
        self.assertTrue(summary["StreamARN"].endswith(":stream/boto-orders"), summary)
        self.assertIsInstance(summary["StreamCreationTimestamp"], datetime.datetime)

        # Paging one shard at a time, as the paginators do, must see every shard once, and
        # the hash key ranges must tile [0, 2^128).
        pages = list(k.get_paginator("list_shards").paginate(
            StreamName="boto-orders", PaginationConfig={"PageSize": 1}))
        self.assertEqual(len(pages), 3)
        shards = [s for p in pages for s in p["Shards"]]
        self.assertEqual([s["ShardId"] for s in shards],
                         ["shardId-000000000000", "shardId-000000000001", "shardId-000000000002"])
        start = 0
        for s in shards:
            self.assertEqual(int(s["HashKeyRange"]["StartingHashKey"]), start)
            start = int(s["HashKeyRange"]["EndingHashKey"]) + 1
        self.assertEqual(start, 2 ** 128)
        described = [s["ShardId"] for p in k.get_paginator("describe_stream").paginate(
            StreamName="boto-orders", PaginationConfig={"PageSize": 2})
            for s in p["StreamDescription"]["Shards"]]
        self.assertEqual(described, [s["ShardId"] for s in shards])
        one = k.describe_stream(StreamName="boto-orders", Limit=1)["StreamDescription"]
        self.assertEqual((len(one["Shards"]), one["HasMoreShards"]), (1, True))

        # PutRecord (binary, explicit hash key) and PutRecords; read everything back.
        sent = collections.Counter()
        r = k.put_record(StreamName="boto-orders", Data=b"\x00\xff binary \x80", PartitionKey="p0")
        sent[("p0", b"\x00\xff binary \x80")] += 1
        self.assertRegex(r["SequenceNumber"], r"^[0-9]+$")
        last = k.put_record(StreamName="boto-orders", Data=b"to the last shard", PartitionKey="x",
                            ExplicitHashKey=str(2 ** 128 - 1))
        self.assertEqual(last["ShardId"], "shardId-000000000002")
        sent[("x", b"to the last shard")] += 1
        batch = [{"Data": json.dumps({"ind": i}).encode(), "PartitionKey": f"user-{i % 17}"}
                 for i in range(120)]
        rr = k.put_records(StreamName="boto-orders", Records=batch)
        self.assertEqual(rr["FailedRecordCount"], 0)
        self.assertEqual(len(rr["Records"]), 120)
        for b in batch:
            sent[(b["PartitionKey"], b["Data"])] += 1

        got = self.read_all(k, "boto-orders")
        received = collections.Counter((key, data) for recs in got.values() for _, key, data in recs)
        self.assertEqual(received, sent)
        # One partition key always lands on one shard, in the order it was put.
        for shard, recs in got.items():
            seqs = [int(s) for s, _, _ in recs]
            self.assertEqual(seqs, sorted(seqs), shard)
        where = {}
        for shard, recs in got.items():
            for _, key, _ in recs:
                self.assertEqual(where.setdefault(key, shard), shard, key)
        # The put answers name the shard the record is read from.
        by_seq = {s: shard for shard, recs in got.items() for s, _, _ in recs}
        for ack in rr["Records"]:
            self.assertEqual(by_seq[ack["SequenceNumber"]], ack["ShardId"])

        # AT_/AFTER_SEQUENCE_NUMBER, LATEST and AT_TIMESTAMP.
        last_shard = got["shardId-000000000002"]
        seq = last["SequenceNumber"]
        at = k.get_shard_iterator(StreamName="boto-orders", ShardId=last["ShardId"],
                                  ShardIteratorType="AT_SEQUENCE_NUMBER",
                                  StartingSequenceNumber=seq)["ShardIterator"]
        self.assertEqual(k.get_records(ShardIterator=at, Limit=1)["Records"][0]["Data"],
                         b"to the last shard")
        after = k.get_shard_iterator(StreamName="boto-orders", ShardId=last["ShardId"],
                                     ShardIteratorType="AFTER_SEQUENCE_NUMBER",
                                     StartingSequenceNumber=seq)["ShardIterator"]
        after_seqs = [x["SequenceNumber"] for x in k.get_records(ShardIterator=after)["Records"]]
        self.assertEqual(after_seqs, [s for s, _, _ in last_shard if int(s) > int(seq)])
        latest = k.get_shard_iterator(StreamName="boto-orders", ShardId="shardId-000000000001",
                                      ShardIteratorType="LATEST")["ShardIterator"]
        self.assertEqual(k.get_records(ShardIterator=latest)["Records"], [])
        since = k.get_shard_iterator(
            StreamName="boto-orders", ShardId="shardId-000000000001", ShardIteratorType="AT_TIMESTAMP",
            Timestamp=datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(hours=1))
        recs = k.get_records(ShardIterator=since["ShardIterator"], Limit=10000)["Records"]
        self.assertEqual(len(recs), len(got["shardId-000000000001"]))
        self.assertIsInstance(recs[0]["ApproximateArrivalTimestamp"], datetime.datetime)

        # Errors come back as the exceptions boto3 users catch.
        for call, code in [
            (lambda: k.describe_stream_summary(StreamName="no-such-stream"), "ResourceNotFoundException"),
            (lambda: k.put_record(StreamName="no-such-stream", Data=b"x", PartitionKey="k"),
             "ResourceNotFoundException"),
            (lambda: k.put_record(StreamName="boto-orders", Data=b"x" * (1024 * 1024 + 1),
                                  PartitionKey="k"), "ValidationException"),
            (lambda: k.get_records(ShardIterator="bm90IGFuIGl0ZXJhdG9yIGF0IGFsbA=="),
             "InvalidArgumentException"),
            (lambda: k.get_shard_iterator(StreamName="boto-orders", ShardId="shardId-000000000009",
                                          ShardIteratorType="TRIM_HORIZON"), "ResourceNotFoundException"),
        ]:
            with self.assertRaises(ClientError) as e:
                call()
            self.assertEqual(error_code(e.exception), code)

        names = [n for p in k.get_paginator("list_streams").paginate(PaginationConfig={"PageSize": 1})
                 for n in p["StreamNames"]]
        self.assertIn("boto-orders", names)
        self.assertEqual(len(names), len(set(names)))
        k.delete_stream(StreamName="boto-orders")
        k.get_waiter("stream_not_exists").wait(StreamName="boto-orders",
                                               WaiterConfig={"Delay": 1, "MaxAttempts": 5})

    def test_boto3_refuses_wrong_credentials_and_stores_nothing(self):
        good = self.client()
        good.create_stream(StreamName="boto-auth", ShardCount=1)
        cases = [
            (self.client(secret="not-the-secret"), "InvalidSignatureException"),
            (self.client(access="AKIDSOMEONEELSE"), "UnrecognizedClientException"),
            (self.client(signature_version=UNSIGNED), "MissingAuthenticationTokenException"),
        ]
        for k, code in cases:
            with self.assertRaises(ClientError) as e:
                k.put_record(StreamName="boto-auth", Data=b"forged", PartitionKey="k")
            self.assertEqual(error_code(e.exception), code)
            self.assertEqual(e.exception.response["ResponseMetadata"]["HTTPStatusCode"], 400)
            with self.assertRaises(ClientError):
                k.list_streams()
        self.assertEqual(self.read_all(good, "boto-auth"), {"shardId-000000000000": []})

    # -- AWS CLI -------------------------------------------------------------------------

    def aws(self, *args, env=None, check=True):
        cmd = [os.path.join(VENV, "bin", "aws"), "kinesis", *args, "--endpoint-url", self.base,
               "--output", "json"]
        r = subprocess.run(cmd, env=env or self.env, capture_output=True, text=True, timeout=60)
        if check:
            self.assertEqual(r.returncode, 0, f"{' '.join(args)}\n{r.stdout}\n{r.stderr}")
            return json.loads(r.stdout) if r.stdout.strip() else {}
        return r

    def test_aws_cli_commands(self):
        version = subprocess.run([os.path.join(VENV, "bin", "aws"), "--version"], env=self.env,
                                 capture_output=True, text=True)
        self.assertIn("aws-cli/1.", version.stdout + version.stderr)
        self.aws("create-stream", "--stream-name", "cli-clicks", "--shard-count", "2")
        self.aws("wait", "stream-exists", "--stream-name", "cli-clicks")
        summary = self.aws("describe-stream-summary", "--stream-name", "cli-clicks")
        self.assertEqual(summary["StreamDescriptionSummary"]["OpenShardCount"], 2)
        self.assertEqual(summary["StreamDescriptionSummary"]["StreamStatus"], "ACTIVE")

        # AWS CLI v1 sends a blob argument's text as the bytes; fileb:// sends a file's bytes.
        one = self.aws("put-record", "--stream-name", "cli-clicks", "--partition-key", "user-1",
                       "--data", '{"ind": 1, "title": "hello"}')
        blob = os.path.join(self.dir, "blob.bin")
        with open(blob, "wb") as f:
            f.write(bytes(range(256)))
        self.aws("put-record", "--stream-name", "cli-clicks", "--partition-key", "user-1",
                 "--data", "fileb://" + blob)
        many = self.aws("put-records", "--stream-name", "cli-clicks", "--records",
                        "Data=first,PartitionKey=user-1", "Data=second,PartitionKey=user-2",
                        "Data=third,PartitionKey=user-3")
        self.assertEqual(many["FailedRecordCount"], 0)

        shards = self.aws("list-shards", "--stream-name", "cli-clicks")["Shards"]
        self.assertEqual([s["ShardId"] for s in shards],
                         ["shardId-000000000000", "shardId-000000000001"])
        # The CLI pages describe-stream by itself; one shard a page must still give both.
        paged = self.aws("describe-stream", "--stream-name", "cli-clicks", "--page-size", "1")
        self.assertEqual(len(paged["StreamDescription"]["Shards"]), 2)

        got = collections.Counter()
        for s in shards:
            it = self.aws("get-shard-iterator", "--stream-name", "cli-clicks", "--shard-id",
                          s["ShardId"], "--shard-iterator-type", "TRIM_HORIZON")["ShardIterator"]
            recs = self.aws("get-records", "--shard-iterator", it)["Records"]
            for r in recs:
                got[(r["PartitionKey"], base64.b64decode(r["Data"]))] += 1
        self.assertEqual(got, collections.Counter({
            ("user-1", b'{"ind": 1, "title": "hello"}'): 1, ("user-1", bytes(range(256))): 1,
            ("user-1", b"first"): 1, ("user-2", b"second"): 1, ("user-3", b"third"): 1}))

        it = self.aws("get-shard-iterator", "--stream-name", "cli-clicks", "--shard-id",
                      one["ShardId"], "--shard-iterator-type", "AT_SEQUENCE_NUMBER",
                      "--starting-sequence-number", one["SequenceNumber"])["ShardIterator"]
        first = self.aws("get-records", "--shard-iterator", it, "--limit", "1")["Records"]
        self.assertEqual(base64.b64decode(first[0]["Data"]), b'{"ind": 1, "title": "hello"}')

        wrong = dict(self.env, AWS_SECRET_ACCESS_KEY="not-the-secret")
        r = self.aws("put-record", "--stream-name", "cli-clicks", "--partition-key", "k", "--data",
                     "forged", env=wrong, check=False)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("InvalidSignatureException", r.stderr)
        r = self.aws("describe-stream-summary", "--stream-name", "cli-nope", check=False)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("ResourceNotFoundException", r.stderr)

    # -- the original emulator's requests ------------------------------------------------

    def test_original_emulator_requests_to_both_apis(self):
        """tests/api/seed_emulator.py sends exactly what the original emulator sent (Kafka REST v2
        POST /topics/<prefix>.pin, API Gateway PUT /streams/streaming-<prefix>-pin/record) with the
        pinned requests, and reads it back; then boto3 reads the gateway's records natively."""
        import requests
        self.assertEqual(requests.__version__, "2.34.2")
        r = subprocess.run([sys.executable, os.path.join(SOURCE, "tests", "api", "seed_emulator.py"),
                            self.base], capture_output=True, text=True, timeout=120)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr + self.server.output())
        self.assertIn("kafka readback identical", r.stdout)
        self.assertIn("kinesis readback identical", r.stdout)
        expected = {}
        for line in r.stdout.splitlines():
            if line.startswith("expect\tstreaming-"):
                _, name, b64 = line.split("\t")
                expected[name] = base64.b64decode(b64)
        self.assertEqual(len(expected), 3)
        k = self.client()
        for name, value in expected.items():
            got = self.read_all(k, name)
            self.assertEqual([d for recs in got.values() for _, _, d in recs], [value], name)
            row = json.loads(value)
            self.assertEqual(row.get("ind", row.get("index")), 7528)


if __name__ == "__main__":
    print(f"boto3 {boto3.__version__}, botocore {botocore.__version__}", flush=True)
    unittest.main(argv=[sys.argv[0], "-v"])
