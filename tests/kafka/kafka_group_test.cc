// Consumer groups, restarts, crashes and kcat against librdkafka's mock
// cluster (3 brokers on 127.0.0.1).
#include <gtest/gtest.h>
#include <signal.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <set>
#include <sstream>
#include <thread>

#include "harness.h"
#include "pinpipe/kafka/kafka_broker.h"
#include "pinpipe/kafka/mock_cluster.h"

namespace pinpipe::kafka {
namespace {

using broker::Record;
using broker::StoredRecord;
using broker::TopicPartition;
using broker::TopicPartitionOffset;
using namespace std::chrono_literals;

// Waits until `done()` or `timeout`; returns done().
template <typename F>
bool WaitFor(F done, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(20ms);
  }
  return true;
}

// A group member on its own thread: polls, remembers what it read, commits
// after every batch (so its uncommitted window is one batch).
class Member {
 public:
  Member(broker::Broker& broker, std::string group, std::string topic) {
    auto c = broker.CreateConsumer({.group = group, .client_id = "member"});
    EXPECT_TRUE(c.ok()) << c.status().ToString();
    consumer_ = std::move(*c);
    consumer_->SetRebalanceListener({.on_assign =
                                         [this](const std::vector<TopicPartition>& tps) {
                                           std::lock_guard lock(mu_);
                                           for (const auto& tp : tps) assigned_.insert(tp);
                                         },
                                     .on_revoke =
                                         [this](const std::vector<TopicPartition>& tps) {
                                           std::lock_guard lock(mu_);
                                           for (const auto& tp : tps) assigned_.erase(tp);
                                           ++revokes_;
                                         }});
    EXPECT_TRUE(consumer_->Subscribe({topic}).ok());
    thread_ = std::thread([this, topic] { Run(topic); });
  }
  ~Member() { Stop(); }

  // Leaves the group (on_revoke, then LeaveGroup) and stops the thread.
  void Stop() {
    if (!thread_.joinable()) return;
    stop_ = true;
    thread_.join();
  }

  size_t Assigned() {
    std::lock_guard lock(mu_);
    return assigned_.size();
  }
  std::vector<StoredRecord> Records() {
    std::lock_guard lock(mu_);
    return records_;
  }
  std::set<std::string> Uncommitted() {
    std::lock_guard lock(mu_);
    return uncommitted_;
  }

 private:
  void Run(const std::string& topic) {
    while (!stop_) {
      auto batch = consumer_->Poll(50, 100);
      ASSERT_TRUE(batch.ok()) << batch.status().ToString();
      if (batch->empty()) continue;
      std::map<int32_t, int64_t> next;
      for (const auto& r : *batch) next[r.partition] = r.offset + 1;
      std::vector<TopicPartitionOffset> offsets;
      for (const auto& [p, o] : next) offsets.push_back({topic, p, o});
      // A commit racing a rebalance is refused (Aborted): that batch is the
      // uncommitted window another member may read again.
      Status s = consumer_->Commit(offsets);
      EXPECT_TRUE(s.ok() || s.code() == StatusCode::kAborted) << s.ToString();
      std::lock_guard lock(mu_);
      records_.insert(records_.end(), batch->begin(), batch->end());
      if (!s.ok()) {
        for (const auto& r : *batch) uncommitted_.insert(*r.value);
      }
    }
    EXPECT_TRUE(consumer_->Close().ok());
  }

  std::unique_ptr<broker::Consumer> consumer_;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  std::mutex mu_;
  std::set<TopicPartition> assigned_;
  std::vector<StoredRecord> records_;
  std::set<std::string> uncommitted_;
  int revokes_ = 0;
};

class KafkaGroupTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto mock = MockCluster::Start(3);
    ASSERT_TRUE(mock.ok());
    mock_ = std::move(*mock);
    ASSERT_TRUE(mock_->CreateTopic("pins", 6).ok());
    auto b = NewKafkaBroker(
        Properties{{"bootstrap.servers", mock_->bootstrap_servers()},
                   // The mock delays a group's first join by 3 s and later rebalances by
                   // session.timeout.ms - 1 s: sessions must outlast the first.
                   {"session.timeout.ms", "4500"},
                   {"heartbeat.interval.ms", "300"},
                   {"topic.metadata.refresh.interval.ms", "500"},
                   {"pinpipe.timeout.ms", "10000"}});
    ASSERT_TRUE(b.ok()) << b.status().ToString();
    broker_ = std::move(*b);
  }

  // Produces values "v<from>".."v<to-1>" keyed by their number.
  void ProduceRange(int from, int to, const std::string& topic = "pins") {
    std::vector<Record> records;
    for (int i = from; i < to; ++i) {
      Record r;
      r.key = "k" + std::to_string(i);
      r.value = "v" + std::to_string(i);
      records.push_back(std::move(r));
    }
    auto acks = broker_->Produce(topic, records);
    ASSERT_TRUE(acks.ok()) << acks.status().ToString();
    for (const auto& a : *acks) ASSERT_TRUE(a.error.ok()) << a.error.ToString();
  }

  std::unique_ptr<MockCluster> mock_;
  std::unique_ptr<broker::Broker> broker_;
};

TEST_F(KafkaGroupTest, TwoMembersShareSixPartitionsAndTheSurvivorTakesOver) {
  Member a(*broker_, "sink", "pins");
  Member b(*broker_, "sink", "pins");
  ASSERT_TRUE(WaitFor([&] { return a.Assigned() == 3 && b.Assigned() == 3; }, 30s))
      << a.Assigned() << " " << b.Assigned();
  ProduceRange(0, 600);
  ASSERT_TRUE(WaitFor([&] { return a.Records().size() + b.Records().size() >= 600; }, 20s));
  EXPECT_GT(a.Records().size(), 0u);
  EXPECT_GT(b.Records().size(), 0u);

  // a leaves mid-stream; production goes on.
  std::thread producer([&] {
    for (int i = 600; i < 1200; i += 50) {
      ProduceRange(i, i + 50);
      std::this_thread::sleep_for(50ms);
    }
  });
  std::this_thread::sleep_for(200ms);
  a.Stop();
  producer.join();
  ASSERT_TRUE(WaitFor([&] { return b.Assigned() == 6; }, 30s)) << b.Assigned();
  ASSERT_TRUE(WaitFor([&] { return a.Records().size() + b.Records().size() >= 1200; }, 20s));
  std::this_thread::sleep_for(300ms);  // anything extra would be a duplicate
  b.Stop();

  std::map<std::string, int> seen;
  for (const auto* m : {&a, &b}) {
    for (const auto& r : const_cast<Member*>(m)->Records()) ++seen[*r.value];
  }
  EXPECT_EQ(seen.size(), 1200u);  // no loss
  std::set<std::string> window = a.Uncommitted();
  for (const auto& v : b.Uncommitted()) window.insert(v);
  for (const auto& [value, count] : seen) {
    // Only a batch whose commit lost against the rebalance may come twice.
    if (count > 1) {
      EXPECT_TRUE(window.count(value)) << value << " read twice";
    }
    EXPECT_LE(count, 2) << value;
  }
  // The group's committed offsets cover everything.
  auto committed = broker_->FetchCommittedOffsets("sink", "pins");
  ASSERT_TRUE(committed.ok());
  auto desc = broker_->DescribeTopic("pins");
  ASSERT_TRUE(desc.ok());
  int64_t total = 0;
  for (const auto& c : *committed) {
    EXPECT_EQ(c.offset, desc->partitions[c.partition].high_watermark);
    total += c.offset;
  }
  EXPECT_EQ(total, 1200);
  EXPECT_EQ(committed->size(), 6u);
}

TEST_F(KafkaGroupTest, KilledMemberIsReplacedWithoutLossAndDuplicatesOnlyUncommitted) {
  testing::Process worker(
      {.argv = {KAFKA_GROUP_WORKER_BIN, mock_->bootstrap_servers(), "pins", "sink"}});
  // Parse the worker's output: what it read and what it committed.
  auto parse = [&](std::map<std::string, std::pair<int32_t, int64_t>>* read,
                   std::map<int32_t, int64_t>* committed, int* assigned) {
    std::istringstream in(worker.Output());
    std::string line;
    while (std::getline(in, line)) {
      if (in.eof()) break;  // an incomplete last line
      std::istringstream l(line);
      std::string kind;
      l >> kind;
      if (kind == "R") {
        int32_t p;
        int64_t o;
        std::string v;
        if (l >> p >> o >> v) (*read)[v] = {p, o};
      } else if (kind == "C") {
        int32_t p;
        int64_t o;
        if (l >> p >> o) (*committed)[p] = o;
      } else if (kind == "A") {
        l >> *assigned;
      }
    }
  };
  auto worker_assigned = [&] {
    std::map<std::string, std::pair<int32_t, int64_t>> r;
    std::map<int32_t, int64_t> c;
    int n = 0;
    parse(&r, &c, &n);
    return n;
  };
  Member b(*broker_, "sink", "pins");
  ASSERT_TRUE(WaitFor([&] { return worker_assigned() == 3 && b.Assigned() == 3; }, 30s))
      << worker.Output() << " member b has " << b.Assigned();
  std::atomic<bool> stop{false};
  std::atomic<int> produced{0};
  std::thread producer([&] {
    for (int i = 0; i < 1500 && !stop; i += 25) {
      ProduceRange(i, i + 25);
      produced = i + 25;
      std::this_thread::sleep_for(20ms);
    }
  });
  // Kill the worker once it has read and committed something.
  ASSERT_TRUE(WaitFor(
      [&] {
        std::map<std::string, std::pair<int32_t, int64_t>> r;
        std::map<int32_t, int64_t> c;
        int n = 0;
        parse(&r, &c, &n);
        return r.size() >= 100 && !c.empty();
      },
      30s));
  worker.Signal(SIGKILL);
  worker.Wait(5s);
  producer.join();
  const int total = produced;
  std::map<std::string, std::pair<int32_t, int64_t>> worker_read;
  std::map<int32_t, int64_t> worker_committed;
  int ignored = 0;
  parse(&worker_read, &worker_committed, &ignored);

  // The survivor gets all six partitions after the session timeout and reads
  // everything the worker had not committed.
  ASSERT_TRUE(WaitFor([&] { return b.Assigned() == 6; }, 30s)) << b.Assigned();
  std::set<std::string> all;
  ASSERT_TRUE(WaitFor(
      [&] {
        all.clear();
        for (const auto& [v, where] : worker_read) all.insert(v);
        for (const auto& r : b.Records()) all.insert(*r.value);
        return static_cast<int>(all.size()) >= total;
      },
      30s))
      << all.size() << " of " << total;
  b.Stop();
  EXPECT_EQ(static_cast<int>(all.size()), total);  // no loss
  int duplicates = 0;
  for (const auto& r : b.Records()) {
    auto it = worker_read.find(*r.value);
    if (it == worker_read.end()) continue;
    ++duplicates;
    // Re-read only what the worker had read but not committed.
    auto c = worker_committed.find(r.partition);
    int64_t committed = c == worker_committed.end() ? 0 : c->second;
    EXPECT_GE(r.offset, committed) << *r.value << " was committed by the dead worker";
  }
  EXPECT_LE(duplicates, 150);  // at most a few batches of 50
}

TEST_F(KafkaGroupTest, CommitsSurviveAConsumerRestart) {
  ProduceRange(0, 120);
  std::vector<TopicPartitionOffset> done;
  {
    auto c = broker_->CreateConsumer({.group = "restart"});
    ASSERT_TRUE(c.ok());
    ASSERT_TRUE((*c)->Subscribe({"pins"}).ok());
    std::vector<StoredRecord> got;
    ASSERT_TRUE(WaitFor(
        [&] {
          auto batch = (*c)->Poll(20, 100);
          EXPECT_TRUE(batch.ok());
          got.insert(got.end(), batch->begin(), batch->end());
          return !got.empty();
        },
        30s));
    std::map<int32_t, int64_t> next;
    for (const auto& r : got) next[r.partition] = r.offset + 1;
    for (const auto& [p, o] : next) done.push_back({"pins", p, o});
    ASSERT_TRUE((*c)->Commit(done).ok());
    std::vector<TopicPartition> tps;
    for (const auto& d : done) tps.push_back({d.topic, d.partition});
    auto committed = (*c)->Committed(tps);
    ASSERT_TRUE(committed.ok());
    EXPECT_EQ(*committed, done);
    ASSERT_TRUE((*c)->Close().ok());
  }
  // A new process in the same group resumes exactly at the commits.
  auto c = broker_->CreateConsumer({.group = "restart"});
  ASSERT_TRUE(c.ok());
  ASSERT_TRUE((*c)->Subscribe({"pins"}).ok());
  std::map<int32_t, int64_t> first;
  int count = 0;
  int remaining = 120;
  for (const auto& d : done) remaining -= static_cast<int>(d.offset);
  ASSERT_TRUE(WaitFor(
      [&] {
        auto batch = (*c)->Poll(200, 100);
        EXPECT_TRUE(batch.ok());
        for (const auto& r : *batch) {
          first.emplace(r.partition, r.offset);
          ++count;
        }
        return count >= remaining;
      },
      // A rejoin on the mock cluster takes 8-20 s on an idle 2-core machine;
      // the bound is for liveness only, the assertions are on what arrives.
      60s));
  std::this_thread::sleep_for(200ms);
  auto extra = (*c)->Poll(200, 100);
  ASSERT_TRUE(extra.ok());
  EXPECT_EQ(count + static_cast<int>(extra->size()), remaining);
  auto desc = broker_->DescribeTopic("pins");
  ASSERT_TRUE(desc.ok());
  for (const auto& d : done) {
    auto it = first.find(d.partition);
    if (it == first.end()) {
      EXPECT_EQ(d.offset, desc->partitions[d.partition].high_watermark) << d.partition;
    } else {
      EXPECT_EQ(it->second, d.offset) << d.partition;
    }
  }
}

TEST_F(KafkaGroupTest, RevokeRunsBeforeThePartitionsAreLost) {
  ProduceRange(0, 60);
  auto c = broker_->CreateConsumer({.group = "revoke"});
  ASSERT_TRUE(c.ok());
  broker::Consumer* consumer = c->get();
  std::map<int32_t, int64_t> next;
  std::vector<std::string> events;
  std::vector<Status> revoke_commits;
  consumer->SetRebalanceListener(
      {.on_assign =
           [&](const std::vector<TopicPartition>& tps) {
             events.push_back("assign " + std::to_string(tps.size()));
           },
       .on_revoke =
           [&](const std::vector<TopicPartition>& tps) {
             // Still owned while the owner flushes and commits.
             auto owned = consumer->Assignment();
             for (const auto& tp : tps) {
               EXPECT_TRUE(std::find(owned.begin(), owned.end(), tp) != owned.end());
             }
             events.push_back("revoke " + std::to_string(tps.size()));
             std::vector<TopicPartitionOffset> offsets;
             for (const auto& tp : tps) {
               if (next.count(tp.partition)) {
                 offsets.push_back({tp.topic, tp.partition, next[tp.partition]});
               }
             }
             revoke_commits.push_back(consumer->Commit(offsets));
           }});
  ASSERT_TRUE(consumer->Subscribe({"pins"}).ok());
  int count = 0;
  ASSERT_TRUE(WaitFor(
      [&] {
        auto batch = consumer->Poll(100, 100);
        for (const auto& r : *batch) {
          next[r.partition] = r.offset + 1;
          ++count;
        }
        return count >= 60;
      },
      30s));
  // A second member joins: the first is asked to give its partitions up.
  auto other = broker_->CreateConsumer({.group = "revoke"});
  ASSERT_TRUE(other.ok());
  ASSERT_TRUE((*other)->Subscribe({"pins"}).ok());
  ASSERT_TRUE(WaitFor(
      [&] {
        EXPECT_TRUE(consumer->Poll(10, 50).ok());
        EXPECT_TRUE((*other)->Poll(10, 50).ok());
        return (*other)->Assignment().size() == 3 && consumer->Assignment().size() == 3;
      },
      30s));
  ASSERT_GE(events.size(), 3u);
  EXPECT_EQ(events[0], "assign 6");
  EXPECT_EQ(events[1], "revoke 6");
  EXPECT_EQ(events.back(), "assign 3");
  ASSERT_FALSE(revoke_commits.empty());
  // A real broker accepts this commit (the group is preparing to rebalance);
  // librdkafka 2.0.2's mock refuses every commit during a rebalance, which
  // surfaces as Aborted: retriable, never silent.
  EXPECT_TRUE(revoke_commits[0].ok() || revoke_commits[0].code() == StatusCode::kAborted)
      << revoke_commits[0].ToString();
  auto mine = consumer->Assignment();
  for (const auto& tp : (*other)->Assignment()) {
    EXPECT_TRUE(std::find(mine.begin(), mine.end(), tp) == mine.end());
  }
  ASSERT_TRUE((*other)->Close().ok());
  ASSERT_TRUE(consumer->Close().ok());
}

TEST_F(KafkaGroupTest, PatternSubscriptionFollowsMatchingTopics) {
  ASSERT_TRUE(mock_->CreateTopic("kt.pin", 2).ok());
  ASSERT_TRUE(mock_->CreateTopic("other", 2).ok());
  auto c = broker_->CreateConsumer({.group = "pattern"});
  ASSERT_TRUE(c.ok());
  ASSERT_TRUE((*c)->Subscribe({"kt\\..*"}, /*is_pattern=*/true).ok());
  EXPECT_EQ((*c)->Subscribe({"("}, true).code(), StatusCode::kInvalidArgument);
  ASSERT_TRUE((*c)->Subscribe({"kt\\..*"}, /*is_pattern=*/true).ok());
  ASSERT_TRUE(WaitFor(
      [&] {
        EXPECT_TRUE((*c)->Poll(10, 50).ok());
        return (*c)->Assignment().size() == 2;
      },
      30s));
  for (const auto& tp : (*c)->Assignment()) EXPECT_EQ(tp.topic, "kt.pin");
  // A matching topic created later joins the subscription.
  ASSERT_TRUE(mock_->CreateTopic("kt.geo", 1).ok());
  ASSERT_TRUE(WaitFor(
      [&] {
        EXPECT_TRUE((*c)->Poll(10, 50).ok());
        return (*c)->Assignment().size() == 3;
      },
      30s));
  ASSERT_TRUE((*c)->Close().ok());
}

// The helper process hosts the cluster; kcat reads what Produce wrote.
TEST(KafkaInteropTest, KcatConsumesWhatProduceWrote) {
  testing::Process cluster(
      {.argv = {KAFKA_MOCK_CLUSTER_BIN, "--brokers", "3", "--topic", "interop:2"}});
  std::string bootstrap;
  ASSERT_TRUE(WaitFor(
      [&] {
        std::string out = cluster.Output();
        auto nl = out.find('\n');
        if (nl == std::string::npos) return false;
        bootstrap = out.substr(0, nl);
        return true;
      },
      10s));
  ASSERT_NE(bootstrap.find("127.0.0.1:"), std::string::npos) << bootstrap;
  auto b = NewKafkaBroker(Properties{{"bootstrap.servers", bootstrap}});
  ASSERT_TRUE(b.ok());
  std::vector<Record> records;
  std::string expected;
  for (int i = 0; i < 50; ++i) {
    Record r;
    r.key = "key-" + std::to_string(i);
    r.value = "{\"pin\":" + std::to_string(i) + ",\"title\":\"caf\xc3\xa9 \\\"x\\\" y\"}";
    r.partition = 1;
    expected += *r.key + "=" + *r.value + "\n";
    records.push_back(std::move(r));
  }
  auto acks = (*b)->Produce("interop", records);
  ASSERT_TRUE(acks.ok());
  EXPECT_EQ(acks->back().offset, 49);
  auto kcat = testing::RunCommand({"kcat", "-C", "-b", bootstrap, "-t", "interop", "-p", "1", "-o",
                                   "beginning", "-e", "-q", "-f", "%k=%s\n"},
                                  "", {}, 30s);
  ASSERT_EQ(kcat.exit_code, 0) << kcat.err;
  EXPECT_EQ(kcat.out, expected);
  EXPECT_EQ(cluster.Stop(), 0);
}

}  // namespace
}  // namespace pinpipe::kafka
