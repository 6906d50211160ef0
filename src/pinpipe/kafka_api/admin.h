// The admin APIs of kafka_api::Server that the Kafka tools use to describe
// and change the cluster (kafka-topics --describe / --alter,
// kafka-consumer-groups --list / --describe, kafka-configs --describe /
// --alter): ListGroups, DescribeGroups, DescribeConfigs, AlterConfigs,
// IncrementalAlterConfigs, CreatePartitions and DescribeCluster.
//
// Each function decodes its request body from `r` and returns what writes
// the response body (after the response header, before the final tagged
// fields, which the server adds), or nullopt when the request does not
// decode (the server then closes the connection, as for its other APIs).
// The body writers may block on the broker (they run on the server's
// blocking pool, never on an I/O thread).
//
// Thread-safety: the returned writers may run on any thread; the context
// they capture must outlive them (it is the server's).
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "pinpipe/broker/broker.h"
#include "pinpipe/kafka_api/authz.h"
#include "pinpipe/kafka_api/group_coordinator.h"
#include "pinpipe/kafka_api/protocol.h"
#include "pinpipe/kafka_api/server.h"

namespace pinpipe::log {
class Log;
}

namespace pinpipe::kafka_api {

// What the admin APIs read of the server.
struct AdminContext {
  broker::Broker* broker = nullptr;
  // The embedded log when the broker is the embedded one (topic settings with
  // their defaults); nullptr otherwise.
  log::Log* log = nullptr;
  GroupCoordinator* groups = nullptr;
  const ServerOptions* options = nullptr;
  std::string host;  // advertised host and port of this node (id 0)
  int32_t port = 0;
  // Who asks (set per request): topics and groups outside its scope get
  // TOPIC_/GROUP_AUTHORIZATION_FAILED, broker configs CLUSTER_AUTHORIZATION_FAILED,
  // and nothing about them is revealed or changed.
  Principal principal;
};

using BodyWriter = std::function<void(Writer&)>;

// The coordinator's groups and, as Empty with protocol type "", the groups
// that only have committed offsets in the broker (Broker::ListGroups).
std::optional<BodyWriter> ListGroups(const AdminContext& ctx, int16_t version, bool flexible,
                                     Reader& r);
std::optional<BodyWriter> DescribeGroups(const AdminContext& ctx, int16_t version, bool flexible,
                                         Reader& r);
std::optional<BodyWriter> DescribeConfigs(const AdminContext& ctx, int16_t version, bool flexible,
                                          Reader& r);
// Topic settings through Broker::AlterTopicConfig: AlterConfigs replaces a
// topic's settings with the ones named, IncrementalAlterConfigs applies SET /
// DELETE (back to the default) per key. Broker resources are refused
// (pinpipe's broker settings are static).
std::optional<BodyWriter> AlterConfigs(const AdminContext& ctx, int16_t version, bool flexible,
                                       Reader& r);
std::optional<BodyWriter> IncrementalAlterConfigs(const AdminContext& ctx, int16_t version,
                                                  bool flexible, Reader& r);
std::optional<BodyWriter> CreatePartitions(const AdminContext& ctx, int16_t version, bool flexible,
                                           Reader& r);
std::optional<BodyWriter> DescribeCluster(const AdminContext& ctx, int16_t version, bool flexible,
                                          Reader& r);

}  // namespace pinpipe::kafka_api
