#include "pinpipe/kafka_api/group_coordinator.h"

#include <algorithm>

#include "pinpipe/kafka_api/protocol.h"

namespace pinpipe::kafka_api {
namespace {
constexpr int16_t kIllegalGeneration = 22;
constexpr int16_t kInconsistentGroupProtocol = 23;
constexpr int16_t kUnknownMemberId = 25;
constexpr int16_t kRebalanceInProgress = 27;
}  // namespace

void GroupCoordinator::StartRebalance(Group& g) {
  g.state = State::kPreparing;
  int32_t timeout = 0;
  for (auto& [id, m] : g.members) timeout = std::max(timeout, m.rebalance_timeout_ms);
  g.rebalance_deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout);
}

void GroupCoordinator::MaybeCompleteJoin(Group& g, bool force, Pending* out) {
  if (g.state != State::kPreparing) return;
  bool all = true;
  for (auto& [id, m] : g.members) all = all && static_cast<bool>(m.join);
  if (!all && !force) return;
  std::erase_if(g.members, [](const auto& kv) { return !kv.second.join; });
  if (g.members.empty()) {
    g.state = State::kEmpty;
    ++g.generation;
    return;
  }
  // The first protocol of the leader's list that every member supports.
  if (!g.members.contains(g.leader)) g.leader = g.members.begin()->first;
  g.protocol_name.clear();
  for (const auto& [name, meta] : g.members[g.leader].protocols) {
    bool everyone = true;
    for (auto& [id, m] : g.members) {
      everyone = everyone && std::any_of(m.protocols.begin(), m.protocols.end(),
                                         [&](const auto& p) { return p.first == name; });
    }
    if (everyone) {
      g.protocol_name = name;
      break;
    }
  }
  ++g.generation;
  g.state = State::kCompleting;
  for (auto& [id, m] : g.members) {
    JoinResult r;
    r.generation = g.generation;
    r.protocol_type = g.protocol_type;
    r.protocol_name = g.protocol_name;
    r.leader = g.leader;
    r.member_id = id;
    if (g.protocol_name.empty()) r.error = kInconsistentGroupProtocol;
    if (id == g.leader) {
      for (auto& [mid, mm] : g.members) {
        for (const auto& [name, meta] : mm.protocols) {
          if (name == g.protocol_name) r.members.emplace_back(mid, meta);
        }
      }
    }
    m.last_seen = std::chrono::steady_clock::now();
    out->push_back([cb = std::move(m.join), r = std::move(r)]() mutable { cb(std::move(r)); });
    m.join = nullptr;
  }
}

void GroupCoordinator::Join(const std::string& group, const std::string& member_id,
                            const std::string& client_id, const std::string& client_host,
                            int32_t session_timeout_ms, int32_t rebalance_timeout_ms,
                            const std::string& protocol_type, Protocols protocols,
                            JoinCallback done) {
  Pending pending;
  {
    std::lock_guard lock(mu_);
    Group& g = groups_[group];
    if (!g.members.empty() && g.protocol_type != protocol_type) {
      JoinResult r;
      r.error = kInconsistentGroupProtocol;
      pending.push_back([done, r] { done(r); });
    } else if (!member_id.empty() && !g.members.contains(member_id)) {
      JoinResult r;
      r.error = kUnknownMemberId;
      pending.push_back([done, r] { done(r); });
    } else {
      std::string id = member_id;
      if (id.empty()) id = client_id + "-" + std::to_string(++next_member_);
      Member& m = g.members[id];
      m.client_id = client_id;
      m.client_host = client_host;
      m.session_timeout_ms = session_timeout_ms;
      m.rebalance_timeout_ms = rebalance_timeout_ms > 0 ? rebalance_timeout_ms : session_timeout_ms;
      m.protocols = std::move(protocols);
      m.last_seen = std::chrono::steady_clock::now();
      if (m.join) {  // a second join replaces the first: tell the first to retry
        JoinResult r;
        r.error = kRebalanceInProgress;
        pending.push_back([cb = std::move(m.join), r] { cb(r); });
      }
      m.join = std::move(done);
      g.protocol_type = protocol_type;
      if (g.state != State::kPreparing) StartRebalance(g);
      MaybeCompleteJoin(g, false, &pending);
    }
  }
  for (auto& f : pending) f();
}

void GroupCoordinator::Sync(const std::string& group, int32_t generation,
                            const std::string& member_id,
                            std::vector<std::pair<std::string, std::string>> assignments,
                            SyncCallback done) {
  Pending pending;
  {
    std::lock_guard lock(mu_);
    auto git = groups_.find(group);
    SyncResult r;
    if (git == groups_.end() || !git->second.members.contains(member_id)) {
      r.error = kUnknownMemberId;
    } else if (git->second.generation != generation) {
      r.error = kIllegalGeneration;
    } else if (git->second.state == State::kPreparing) {
      r.error = kRebalanceInProgress;
    }
    if (r.error != 0) {
      pending.push_back([done, r] { done(r); });
    } else {
      Group& g = git->second;
      Member& me = g.members[member_id];
      me.last_seen = std::chrono::steady_clock::now();
      if (g.state == State::kStable) {
        r.protocol_type = g.protocol_type;
        r.protocol_name = g.protocol_name;
        r.assignment = me.assignment;
        pending.push_back([done, r] { done(r); });
      } else {
        me.sync = std::move(done);
        if (member_id == g.leader) {
          for (auto& [id, m] : g.members) m.assignment.clear();
          for (auto& [id, a] : assignments) {
            if (auto it = g.members.find(id); it != g.members.end()) it->second.assignment = a;
          }
          g.state = State::kStable;
        }
        if (g.state == State::kStable) {
          for (auto& [id, m] : g.members) {
            if (!m.sync) continue;
            SyncResult ok;
            ok.protocol_type = g.protocol_type;
            ok.protocol_name = g.protocol_name;
            ok.assignment = m.assignment;
            pending.push_back([cb = std::move(m.sync), ok] { cb(ok); });
            m.sync = nullptr;
          }
        }
      }
    }
  }
  for (auto& f : pending) f();
}

int16_t GroupCoordinator::Heartbeat(const std::string& group, int32_t generation,
                                    const std::string& member_id) {
  std::lock_guard lock(mu_);
  auto git = groups_.find(group);
  if (git == groups_.end()) return kUnknownMemberId;
  Group& g = git->second;
  auto it = g.members.find(member_id);
  if (it == g.members.end()) return kUnknownMemberId;
  it->second.last_seen = std::chrono::steady_clock::now();
  if (g.state == State::kPreparing) return kRebalanceInProgress;
  if (g.generation != generation) return kIllegalGeneration;
  return kNone;
}

int16_t GroupCoordinator::Leave(const std::string& group, const std::string& member_id) {
  Pending pending;
  int16_t error = kNone;
  {
    std::lock_guard lock(mu_);
    auto git = groups_.find(group);
    if (git == groups_.end() || !git->second.members.contains(member_id)) {
      error = kUnknownMemberId;
    } else {
      Group& g = git->second;
      g.members.erase(member_id);
      if (g.members.empty()) {
        g.state = State::kEmpty;
        ++g.generation;
      } else {
        if (g.state != State::kPreparing) StartRebalance(g);
        MaybeCompleteJoin(g, false, &pending);
      }
    }
  }
  for (auto& f : pending) f();
  return error;
}

int16_t GroupCoordinator::CheckCommit(const std::string& group, int32_t generation,
                                      const std::string& member_id) {
  if (generation < 0 && member_id.empty()) return kNone;
  std::lock_guard lock(mu_);
  auto git = groups_.find(group);
  if (git == groups_.end() || !git->second.members.contains(member_id)) return kUnknownMemberId;
  // Like Kafka, a member may still commit for its generation while a
  // rebalance is being prepared (it does so when its partitions are revoked).
  if (git->second.generation != generation) return kIllegalGeneration;
  return kNone;
}

void GroupCoordinator::Tick() {
  Pending pending;
  {
    std::lock_guard lock(mu_);
    const auto now = std::chrono::steady_clock::now();
    for (auto& [name, g] : groups_) {
      bool expired = false;
      for (auto it = g.members.begin(); it != g.members.end();) {
        const Member& m = it->second;
        if (!m.join && !m.sync &&
            now - m.last_seen > std::chrono::milliseconds(m.session_timeout_ms)) {
          it = g.members.erase(it);
          expired = true;
        } else {
          ++it;
        }
      }
      if (expired) {
        if (g.members.empty()) {
          g.state = State::kEmpty;
          ++g.generation;
        } else if (g.state != State::kPreparing) {
          StartRebalance(g);
        }
      }
      MaybeCompleteJoin(g, g.state == State::kPreparing && now >= g.rebalance_deadline, &pending);
    }
  }
  for (auto& f : pending) f();
}

namespace {
const char* StateName(int state) {
  static const char* kStates[] = {"Empty", "PreparingRebalance", "CompletingRebalance", "Stable"};
  return kStates[state];
}
}  // namespace

std::vector<GroupCoordinator::GroupSummary> GroupCoordinator::List() {
  std::lock_guard lock(mu_);
  std::vector<GroupSummary> out;
  for (auto& [name, g] : groups_) {
    out.push_back({name, StateName(static_cast<int>(g.state)), g.protocol_type, g.members.size()});
  }
  return out;
}

GroupDescription GroupCoordinator::Describe(const std::string& group) {
  std::lock_guard lock(mu_);
  GroupDescription d;
  auto it = groups_.find(group);
  if (it == groups_.end()) return d;
  const Group& g = it->second;
  d.known = true;
  d.state = StateName(static_cast<int>(g.state));
  d.protocol_type = g.protocol_type;
  const bool stable = g.state == State::kStable;
  if (stable) d.protocol_name = g.protocol_name;
  for (const auto& [id, m] : g.members) {
    GroupDescription::Member& out = d.members.emplace_back();
    out.member_id = id;
    out.client_id = m.client_id;
    out.client_host = m.client_host;
    if (!stable) continue;
    out.assignment = m.assignment;
    for (const auto& [name, meta] : m.protocols) {
      if (name == g.protocol_name) out.metadata = meta;
    }
  }
  return d;
}

}  // namespace pinpipe::kafka_api
