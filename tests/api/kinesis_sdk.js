// Drives `pinpipe serve` with the AWS SDK for JavaScript v3 Kinesis client
// (HTTP/1.1 via NodeHttpHandler), the way an AWS application would.
// Usage: node kinesis_sdk.js <endpoint> <accessKey> <secretKey> [expect-auth-failure]
// Prints one line per check; exits non-zero on the first failure.
const {
  KinesisClient, CreateStreamCommand, PutRecordCommand, PutRecordsCommand, ListShardsCommand,
  GetShardIteratorCommand, GetRecordsCommand, DescribeStreamCommand, DescribeStreamSummaryCommand,
  ListStreamsCommand, DeleteStreamCommand,
} = require('@aws-sdk/client-kinesis');
const { NodeHttpHandler } = require('@smithy/node-http-handler');
const assert = require('assert');

const [endpoint, accessKeyId, secretAccessKey, mode] = process.argv.slice(2);
const client = new KinesisClient({
  endpoint, region: 'us-east-1', credentials: { accessKeyId, secretAccessKey },
  requestHandler: new NodeHttpHandler(), maxAttempts: 1,
});

async function main() {
  if (mode === 'expect-auth-failure') {
    try {
      await client.send(new ListStreamsCommand({}));
    } catch (e) {
      console.log(`auth-error ${e.name}`);
      return;
    }
    throw new Error('request with a wrong secret was accepted');
  }
  const StreamName = 'sdk-stream';
  await client.send(new CreateStreamCommand({ StreamName, ShardCount: 2 }));
  console.log('created');
  const summary = await client.send(new DescribeStreamSummaryCommand({ StreamName }));
  assert.strictEqual(summary.StreamDescriptionSummary.OpenShardCount, 2);
  assert.ok(summary.StreamDescriptionSummary.StreamCreationTimestamp instanceof Date);
  const payloads = [];
  for (let i = 0; i < 5; i++) {
    const data = Buffer.from(JSON.stringify({ ind: i, note: 'caf\u00e9 \u2603', bin: '\u0000x' }));
    payloads.push(data);
    const r = await client.send(new PutRecordCommand({ StreamName, Data: data, PartitionKey: `key-${i}` }));
    assert.match(r.ShardId, /^shardId-00000000000[01]$/);
    assert.match(r.SequenceNumber, /^\d+$/);
  }
  console.log('put-record 5');
  const batch = [];
  for (let i = 0; i < 100; i++) {
    batch.push({ Data: Buffer.from([i, 255, 0, i]), PartitionKey: 'p', ExplicitHashKey: '0' });
  }
  const pr = await client.send(new PutRecordsCommand({ StreamName, Records: batch }));
  assert.strictEqual(pr.FailedRecordCount, 0);
  assert.strictEqual(pr.Records.length, 100);
  assert.ok(pr.Records.every((r) => r.ShardId === 'shardId-000000000000'));
  console.log('put-records 100');
  const shards = await client.send(new ListShardsCommand({ StreamName }));
  assert.strictEqual(shards.Shards.length, 2);
  assert.strictEqual(shards.Shards[1].HashKeyRange.EndingHashKey,
                     '340282366920938463463374607431768211455');
  let seen = [];
  for (const shard of shards.Shards) {
    const it = await client.send(new GetShardIteratorCommand({
      StreamName, ShardId: shard.ShardId, ShardIteratorType: 'TRIM_HORIZON' }));
    let iterator = it.ShardIterator;
    for (let round = 0; round < 3 && iterator; round++) {
      const got = await client.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: 60 }));
      for (const r of got.Records) {
        assert.ok(r.ApproximateArrivalTimestamp instanceof Date);
        seen.push({ key: r.PartitionKey, data: Buffer.from(r.Data), seq: r.SequenceNumber });
      }
      iterator = got.NextShardIterator;
    }
  }
  assert.strictEqual(seen.length, 105);
  for (let i = 0; i < 5; i++) {
    const rec = seen.find((s) => s.key === `key-${i}`);
    assert.ok(rec && rec.data.equals(payloads[i]), `record key-${i} differs`);
  }
  const binary = seen.filter((s) => s.key === 'p');
  assert.strictEqual(binary.length, 100);
  binary.forEach((r, i) => assert.ok(r.data.equals(Buffer.from([i, 255, 0, i])), `binary ${i}`));
  console.log(`get-records ${seen.length}`);
  const list = await client.send(new ListStreamsCommand({}));
  assert.ok(list.StreamNames.includes(StreamName));
  try {
    await client.send(new DescribeStreamCommand({ StreamName: 'no-such-stream' }));
    throw new Error('describe of a missing stream succeeded');
  } catch (e) {
    assert.strictEqual(e.name, 'ResourceNotFoundException');
    console.log(`missing ${e.name}`);
  }
  try {
    await client.send(new GetRecordsCommand({ ShardIterator: 'Zm9yZ2Vk' }));
    throw new Error('forged iterator accepted');
  } catch (e) {
    assert.strictEqual(e.name, 'InvalidArgumentException');
    console.log(`forged ${e.name}`);
  }
  await client.send(new DeleteStreamCommand({ StreamName }));
  console.log('deleted');
}

main().then(() => console.log('OK')).catch((e) => {
  console.error('FAILED', e);
  process.exit(1);
});
