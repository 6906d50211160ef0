// GroupCoordinator: Kafka's classic consumer-group protocol (JoinGroup,
// SyncGroup, Heartbeat, LeaveGroup) for the clients of one kafka_api::Server.
// Membership lives in memory; committed offsets are not kept here but in the
// Broker's group offsets (Server's OffsetCommit/OffsetFetch), so REST, sink
// and Kafka clients of one group share them.
//
// A rebalance starts when a member joins, leaves, changes its protocols or
// misses its session timeout; the other members learn it from Heartbeat
// (REBALANCE_IN_PROGRESS) and rejoin. Join completes once every member has
// rejoined or the rebalance timeout passes (the missing ones are removed);
// the leader gets every member's metadata and hands out assignments in
// SyncGroup, which the others wait for.
//
// Thread-safety: all methods are thread-safe; callbacks run with no lock
// held, on the calling thread or the one running Tick().
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace pinpipe::kafka_api {

struct JoinResult {
  int16_t error = 0;
  int32_t generation = -1;
  std::string protocol_type;
  std::string protocol_name;
  std::string leader;
  std::string member_id;
  // For the leader only: every member and its metadata for the chosen protocol.
  std::vector<std::pair<std::string, std::string>> members;
};

// A group as DescribeGroups shows it. Member metadata and assignments are
// filled in only when the group is Stable, as Kafka does.
struct GroupDescription {
  bool known = false;  // false: no such group in memory (then state is "Dead")
  std::string state = "Dead";
  std::string protocol_type;
  std::string protocol_name;
  struct Member {
    std::string member_id, client_id, client_host, metadata, assignment;
  };
  std::vector<Member> members;
};

struct SyncResult {
  int16_t error = 0;
  std::string protocol_type;
  std::string protocol_name;
  std::string assignment;
};

class GroupCoordinator {
 public:
  using JoinCallback = std::function<void(JoinResult)>;
  using SyncCallback = std::function<void(SyncResult)>;
  using Protocols = std::vector<std::pair<std::string, std::string>>;  // name, metadata

  // `client_host` is the member's address as DescribeGroups reports it ("/127.0.0.1").
  void Join(const std::string& group, const std::string& member_id, const std::string& client_id,
            const std::string& client_host, int32_t session_timeout_ms,
            int32_t rebalance_timeout_ms, const std::string& protocol_type, Protocols protocols,
            JoinCallback done);
  void Sync(const std::string& group, int32_t generation, const std::string& member_id,
            std::vector<std::pair<std::string, std::string>> assignments, SyncCallback done);
  int16_t Heartbeat(const std::string& group, int32_t generation, const std::string& member_id);
  int16_t Leave(const std::string& group, const std::string& member_id);
  // Whether an OffsetCommit from this member/generation may commit (-1 / ""
  // is a simple consumer outside the group protocol).
  int16_t CheckCommit(const std::string& group, int32_t generation, const std::string& member_id);
  // Expires members and completes overdue rebalances; call periodically.
  void Tick();

  struct GroupSummary {
    std::string group, state, protocol_type;
    size_t members = 0;
  };
  std::vector<GroupSummary> List();
  GroupDescription Describe(const std::string& group);

 private:
  using TimePoint = std::chrono::steady_clock::time_point;
  struct Member {
    std::string client_id;
    std::string client_host;
    int32_t session_timeout_ms = 45'000;
    int32_t rebalance_timeout_ms = 300'000;
    Protocols protocols;
    TimePoint last_seen;
    JoinCallback join;  // set while waiting in a rebalance
    SyncCallback sync;  // set while waiting for the leader's assignments
    std::string assignment;
  };
  enum class State { kEmpty, kPreparing, kCompleting, kStable };
  struct Group {
    State state = State::kEmpty;
    int32_t generation = 0;
    std::string protocol_type;
    std::string protocol_name;
    std::string leader;
    std::map<std::string, Member> members;
    TimePoint rebalance_deadline;
  };
  using Pending = std::vector<std::function<void()>>;
  void StartRebalance(Group& g);
  // Completes the join phase when every member rejoined (or `force`).
  void MaybeCompleteJoin(Group& g, bool force, Pending* out);

  std::mutex mu_;
  std::map<std::string, Group> groups_;
  uint64_t next_member_ = 0;
};

}  // namespace pinpipe::kafka_api
