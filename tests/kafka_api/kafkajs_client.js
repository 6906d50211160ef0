// kafkajs (tests/peers, pinned) against pinpipe's Kafka protocol:
//   node kafkajs_client.js HOST:PORT TOPIC
// Admin: createTopics (2 partitions), createPartitions (to 3), fetchTopicMetadata,
// describeConfigs, alterConfigs (AlterConfigs: retention.ms set, then read back as a
// topic setting; an unknown key refused); listGroups shows the group after it ran. Producer: 30 records with keys and headers, one gzip batch.
// Consumer group: two members of group "js" split the 3 partitions and together read
// every record once; admin.describeGroups shows both while they run; the committed
// offsets (admin.fetchOffsets) reach the end of each partition. Prints "ok" on success.
const { Kafka, CompressionTypes, ConfigResourceTypes, logLevel } = require("kafkajs");

const [bootstrap, topic] = process.argv.slice(2);
const kafka = new Kafka({ clientId: "kafkajs-test", brokers: [bootstrap], logLevel: logLevel.ERROR });
const fail = (msg) => {
  console.error(msg);
  process.exit(1);
};

async function main() {
  const admin = kafka.admin();
  await admin.connect();
  if (!(await admin.createTopics({ topics: [{ topic, numPartitions: 2 }], waitForLeaders: true }))) {
    fail("createTopics: not created");
  }
  await admin.createPartitions({ topicPartitions: [{ topic, count: 3 }] });
  const meta = await admin.fetchTopicMetadata({ topics: [topic] });
  if (meta.topics[0].partitions.length !== 3) fail("partitions: " + JSON.stringify(meta));
  const configs = await admin.describeConfigs({
    resources: [{ type: ConfigResourceTypes.TOPIC, name: topic }],
    includeSynonyms: false,
  });
  const names = configs.resources[0].configEntries.map((e) => e.configName);
  if (!names.includes("retention.ms")) fail("describeConfigs: " + JSON.stringify(configs));
  await admin.alterConfigs({
    validateOnly: false,
    resources: [
      { type: ConfigResourceTypes.TOPIC, name: topic, configEntries: [{ name: "retention.ms", value: "86400000" }] },
    ],
  });
  const altered = await admin.describeConfigs({
    resources: [{ type: ConfigResourceTypes.TOPIC, name: topic, configNames: ["retention.ms"] }],
    includeSynonyms: false,
  });
  const retention = altered.resources[0].configEntries[0];
  if (retention.configValue !== "86400000" || retention.readOnly || retention.configSource !== 1) {
    fail("alterConfigs, then describeConfigs: " + JSON.stringify(altered));
  }
  let refused = null;
  await admin
    .alterConfigs({
      resources: [{ type: ConfigResourceTypes.TOPIC, name: topic, configEntries: [{ name: "bogus", value: "1" }] }],
    })
    .catch((e) => {
      for (let x = e; x && !refused; x = x.cause || x.originalError) refused = x.type;
      refused = refused || e.name;
    });
  if (refused !== "INVALID_CONFIG") fail("alterConfigs of an unknown key: " + refused);

  const producer = kafka.producer();
  await producer.connect();
  const messages = [];
  for (let i = 0; i < 30; i++) {
    messages.push({ key: "k" + i, value: "v" + i, partition: i % 3, headers: { n: String(i) } });
  }
  await producer.send({ topic, messages: messages.slice(0, 15), acks: -1 });
  await producer.send({ topic, messages: messages.slice(15), compression: CompressionTypes.GZIP });
  await producer.disconnect();

  const seen = new Map();
  const members = [];
  let done;
  const allSeen = new Promise((resolve) => (done = resolve));
  for (let m = 0; m < 2; m++) {
    const consumer = kafka.consumer({ groupId: "js", sessionTimeout: 10000, heartbeatInterval: 500 });
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ partition, message }) => {
        const key = message.key.toString();
        if (seen.has(key)) fail("record " + key + " read twice");
        if (message.headers.n.toString() !== key.slice(1)) fail("header of " + key);
        if (Number(key.slice(1)) % 3 !== partition) fail(key + " on partition " + partition);
        seen.set(key, message.value.toString());
        if (seen.size === 30) done();
      },
    });
    members.push(consumer);
  }
  const timer = setTimeout(() => fail("timed out with " + seen.size + " of 30"), 60000);
  await allSeen;
  clearTimeout(timer);
  for (let i = 0; i < 30; i++) if (seen.get("k" + i) !== "v" + i) fail("value of k" + i);

  // Both members are in the group, with the 3 partitions between them.
  let group;
  for (let i = 0; i < 40; i++) {
    group = (await admin.describeGroups(["js"])).groups[0];
    if (group.state === "Stable" && group.members.length === 2) break;
    await new Promise((r) => setTimeout(r, 250));
  }
  if (group.state !== "Stable" || group.members.length !== 2) {
    fail("describeGroups: " + JSON.stringify(group));
  }
  for (const c of members) await c.disconnect();  // commits on the way out
  const offsets = await admin.fetchOffsets({ groupId: "js", topics: [topic] });
  const committed = offsets[0].partitions.map((p) => Number(p.offset)).reduce((a, b) => a + b, 0);
  if (committed !== 30) fail("committed offsets: " + JSON.stringify(offsets));
  const { groups } = await admin.listGroups();
  if (!groups.some((g) => g.groupId === "js" && g.protocolType === "consumer")) {
    fail("listGroups: " + JSON.stringify(groups));
  }
  await admin.disconnect();
  console.log("ok");
}

main().catch((e) => fail("kafkajs: " + (e.stack || e)));
