// Who sent a Kafka request and what it may touch (see auth/tenants.h for the
// names a prefix owns). With tenants off there is no tenant and everything is
// allowed, as before tenants existed; an admin tenant may touch everything.
//
// The handlers answer a name outside the scope with Kafka's ACL errors:
// TOPIC_AUTHORIZATION_FAILED for topics, GROUP_AUTHORIZATION_FAILED for
// consumer groups, before anything is read or stored; listings (Metadata of
// all topics, ListGroups, OffsetFetch of all topics) leave such names out.
// Thread-safety: a value; the snapshot keeps `tenant` alive.
#pragma once

#include <memory>
#include <string_view>

#include "pinpipe/auth/tenants.h"

namespace pinpipe::kafka_api {

struct Principal {
  std::shared_ptr<const auth::TenantSet> snapshot;
  const auth::Tenant* tenant = nullptr;  // nullptr: tenants are off

  bool SeesAll() const { return tenant == nullptr || tenant->admin; }
  bool MayTopic(std::string_view topic) const { return SeesAll() || tenant->OwnsTopic(topic); }
  bool MayGroup(std::string_view group) const { return SeesAll() || tenant->OwnsGroup(group); }
};

}  // namespace pinpipe::kafka_api
