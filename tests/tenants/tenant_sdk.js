// The AWS SDK for JavaScript v3 Kinesis client signing with one tenant's
// SigV4 key against a shared `pinpipe serve`.
// Usage: node tenant_sdk.js <endpoint> <accessKey> <secretKey> <own stream> <foreign stream>
// Prints one line per check; exits non-zero on the first failure.
const {
  KinesisClient, CreateStreamCommand, PutRecordCommand, ListStreamsCommand,
  DescribeStreamSummaryCommand, GetShardIteratorCommand, GetRecordsCommand,
} = require('@aws-sdk/client-kinesis');
const { NodeHttpHandler } = require('@smithy/node-http-handler');
const assert = require('assert');

// A fifth argument "expect-expired" signs with a clock 20 minutes slow and
// expects the request refused (a replayed or stale signature).
const [endpoint, accessKeyId, secretAccessKey, own, foreign] = process.argv.slice(2);
const client = new KinesisClient({
  endpoint, region: 'us-east-1', credentials: { accessKeyId, secretAccessKey },
  requestHandler: new NodeHttpHandler(), maxAttempts: 1,
  systemClockOffset: own === 'expect-expired' ? -20 * 60 * 1000 : 0,
});

async function denied(what, command) {
  try {
    await client.send(command);
  } catch (e) {
    assert.strictEqual(e.name, 'AccessDeniedException', `${what}: ${e.name} ${e.message}`);
    console.log(`denied ${what}`);
    return;
  }
  throw new Error(`${what} on ${foreign} was allowed`);
}

async function main() {
  if (own === 'expect-expired' || own === 'expect-auth-failure') {
    try {
      await client.send(new ListStreamsCommand({}));
    } catch (e) {
      console.log(`auth-error ${e.name} ${e.message}`);
      return;
    }
    throw new Error('a stale or wrongly signed request was accepted');
  }
  await client.send(new CreateStreamCommand({ StreamName: own, ShardCount: 1 }));
  await client.send(new PutRecordCommand({ StreamName: own, Data: Buffer.from('{"sdk":1}'), PartitionKey: 'k' }));
  const it = await client.send(new GetShardIteratorCommand({
    StreamName: own, ShardId: 'shardId-000000000000', ShardIteratorType: 'TRIM_HORIZON' }));
  const got = await client.send(new GetRecordsCommand({ ShardIterator: it.ShardIterator }));
  assert.strictEqual(Buffer.from(got.Records[0].Data).toString(), '{"sdk":1}');
  console.log('own stream ok');
  const listed = await client.send(new ListStreamsCommand({}));
  console.log(`listed ${JSON.stringify(listed.StreamNames)}`);
  await denied('CreateStream', new CreateStreamCommand({ StreamName: foreign + '-new', ShardCount: 1 }));
  await denied('PutRecord', new PutRecordCommand({ StreamName: foreign, Data: Buffer.from('x'), PartitionKey: 'k' }));
  await denied('DescribeStreamSummary', new DescribeStreamSummaryCommand({ StreamName: foreign }));
  await denied('GetShardIterator', new GetShardIteratorCommand({
    StreamName: foreign, ShardId: 'shardId-000000000000', ShardIteratorType: 'TRIM_HORIZON' }));
  console.log('OK');
}

main().catch((e) => { console.error(`FAIL ${e.name}: ${e.message}`); process.exit(1); });
