// kafkajs (tests/peers, pinned) as two tenants over SASL_SSL against a shared
// `pinpipe serve`: alice logs in with PLAIN, SCRAM-SHA-256 and SCRAM-SHA-512,
// bob with SCRAM-SHA-256. What each may see and do, and which Kafka error a
// refusal gives. Prints one JSON object of observations; the C++ test asserts.
//   node tenant_kafkajs.js HOST:PORT CA.PEM ALICE_PASSWORD BOB_PASSWORD
const fs = require("fs");
const { Kafka, ConfigResourceTypes, logLevel } = require("kafkajs");

const [bootstrap, caFile, alicePassword, bobPassword] = process.argv.slice(2);
const ca = [fs.readFileSync(caFile, "utf8")];
const out = {};

// A kafkajs client over SASL_SSL. With `brokerErrors` (an array) it logs at
// debug level and collects the Kafka error names kafkajs saw in answers, some
// of which it replaces by errors of its own (a refused FindCoordinator becomes
// KafkaJSGroupCoordinatorNotFound).
function client(mechanism, username, password, brokerErrors) {
  const logCreator = () => ({ log }) => {
    if (brokerErrors && log.error && log.error.type) brokerErrors.push(log.error.type);
  };
  return new Kafka({
    clientId: "kafkajs-tenant",
    brokers: [bootstrap],
    ssl: { ca },
    sasl: { mechanism, username, password },
    logLevel: brokerErrors ? logLevel.DEBUG : logLevel.NOTHING,
    logCreator,
    retry: { retries: 1, initialRetryTime: 100 },
    connectionTimeout: 5000,
    authenticationTimeout: 5000,
  });
}

// The Kafka error name of a kafkajs error (kafkajs wraps protocol errors).
function errorName(e) {
  for (let x = e; x; x = x.cause || x.originalError) {
    if (x.type) return x.type;
  }
  return e.name + ": " + e.message;
}

async function attempt(fn) {
  try {
    await fn();
    return "ok";
  } catch (e) {
    return errorName(e);
  }
}

// Values read by a new member of `groupId` on `topic` (from the beginning), or
// the error that stopped it; waits for `want` records or `ms`.
async function consume(kafka, topic, groupId, want, ms) {
  const consumer = kafka.consumer({
    groupId,
    sessionTimeout: 10000,
    heartbeatInterval: 500,
    retry: { retries: 0, restartOnFailure: async () => false },
  });
  const values = [];
  let error = null;
  let finish;
  const finished = new Promise((resolve) => (finish = resolve));
  consumer.on(consumer.events.CRASH, (ev) => {
    error = errorName(ev.payload.error);
    finish();
  });
  const timer = setTimeout(finish, ms);
  try {
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ message }) => {
        values.push(message.value.toString());
        if (values.length >= want) finish();
      },
    });
    await finished;
  } catch (e) {
    error = errorName(e);
  }
  clearTimeout(timer);
  await consumer.disconnect().catch(() => {});
  return { values, error };
}

async function main() {
  // bob first, so bob.js exists when alice reaches for it.
  const bob = client("scram-sha-256", "bob", bobPassword);
  const bobProducer = bob.producer();
  await bobProducer.connect();
  await bobProducer.send({ topic: "bob.js", messages: [{ value: "b0" }, { value: "b1" }], acks: -1 });
  await bobProducer.disconnect();

  // alice with each mechanism: produce one record to her topic and list topics.
  out.alice = {};
  let alice;
  for (const mechanism of ["plain", "scram-sha-256", "scram-sha-512"]) {
    alice = client(mechanism, "alice", alicePassword);
    const seen = {};
    const producer = alice.producer();
    seen.produce_own = await attempt(async () => {
      await producer.connect();
      await producer.send({ topic: "alice.js", messages: [{ value: mechanism }], acks: -1 });
    });
    await producer.disconnect().catch(() => {});
    const admin = alice.admin();
    seen.list_topics = await admin
      .connect()
      .then(() => admin.listTopics())
      .then((topics) => topics.sort())
      .catch(errorName);
    await admin.disconnect().catch(() => {});
    out.alice[mechanism] = seen;
  }

  // The rest as alice with SCRAM-SHA-512 (the last client made above).
  out.alice_consume_own = await consume(alice, "alice.js", "alice-js", 3, 20000);
  const producer = alice.producer();
  await producer.connect();
  out.alice_produce_bobs = await attempt(() =>
    producer.send({ topic: "bob.js", messages: [{ value: "intruder" }], acks: -1 }),
  );
  await producer.disconnect();
  const brokerErrors = [];
  const aliceLogged = client("scram-sha-512", "alice", alicePassword, brokerErrors);
  out.alice_with_bobs_group = await consume(aliceLogged, "alice.js", "bob-js", 1, 15000);
  out.alice_with_bobs_group.broker_errors = [...new Set(brokerErrors)].sort();
  const admin = alice.admin();
  await admin.connect();
  const all = await admin.fetchTopicMetadata();
  out.alice_metadata_topics = all.topics.map((t) => t.name).sort();
  out.alice_metadata_bobs = await attempt(() => admin.fetchTopicMetadata({ topics: ["bob.js"] }));
  // AlterConfigs: her topic changes, bob's topic and the broker are refused.
  const retention = (name) => ({
    resources: [
      { type: ConfigResourceTypes.TOPIC, name, configEntries: [{ name: "retention.ms", value: "7200000" }] },
    ],
  });
  out.alice_alter_own = await attempt(() => admin.alterConfigs(retention("alice.js")));
  const described = await admin.describeConfigs({
    resources: [{ type: ConfigResourceTypes.TOPIC, name: "alice.js", configNames: ["retention.ms"] }],
    includeSynonyms: false,
  });
  out.alice_retention = described.resources[0].configEntries.map((e) => e.configValue);
  out.alice_alter_bobs = await attempt(() => admin.alterConfigs(retention("bob.js")));
  out.alice_alter_broker = await attempt(() =>
    admin.alterConfigs({
      resources: [
        { type: ConfigResourceTypes.BROKER, name: "0", configEntries: [{ name: "log.retention.ms", value: "1" }] },
      ],
    }),
  );
  await admin.disconnect();

  // A wrong password, with PLAIN and with SCRAM: the login is refused.
  out.wrong_password = {};
  for (const mechanism of ["plain", "scram-sha-256"]) {
    const bad = client(mechanism, "alice", "not-the-password").admin();
    // kafkajs names the refusal in its error class and message (no Kafka code).
    out.wrong_password[mechanism] = await attempt(async () => {
      await bad.connect();
      await bad.listTopics();
    });
    await bad.disconnect().catch(() => {});
  }

  // bob's topic holds his two records: the refused produce stored nothing.
  const bobAdmin = bob.admin();
  await bobAdmin.connect();
  const offsets = await bobAdmin.fetchTopicOffsets("bob.js");
  out.bob_high_watermark = offsets.reduce((n, p) => n + Number(p.high), 0);
  await bobAdmin.disconnect();
  out.bob_consume_own = await consume(bob, "bob.js", "bob-js", 3, 4000);  // 2, nothing of alice
  // bob's topic kept its retention: alice's alter changed nothing.
  await bobAdmin.connect();
  const bobs = await bobAdmin.describeConfigs({
    resources: [{ type: ConfigResourceTypes.TOPIC, name: "bob.js", configNames: ["retention.ms"] }],
    includeSynonyms: false,
  });
  out.bob_retention_source = bobs.resources[0].configEntries.map((e) => e.configSource);
  // ListGroups shows each tenant its own groups only (those with members and
  // those with only committed offsets alike).
  const groupsOf = async (kafka) => {
    const a = kafka.admin();
    await a.connect();
    const { groups } = await a.listGroups();
    await a.disconnect();
    return groups.map((g) => g.groupId).sort();
  };
  await bobAdmin.disconnect();
  out.alice_groups = await groupsOf(alice);
  out.bob_groups = await groupsOf(bob);
}

main()
  .then(() => {
    console.log(JSON.stringify(out));
    process.exit(0);
  })
  .catch((e) => {
    console.error("kafkajs: " + (e.stack || e));
    process.exit(1);
  });
