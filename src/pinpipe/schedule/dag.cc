#include "pinpipe/schedule/dag.h"

#include <map>
#include <set>

namespace pinpipe::schedule {

Result<std::vector<const TaskSpec*>> TopologicalOrder(const DagSpec& dag) {
  if (dag.name.empty()) return InvalidArgumentError("a DAG needs a name");
  std::map<std::string, const TaskSpec*> by_id;
  for (const auto& t : dag.tasks) {
    if (t.id.empty()) return InvalidArgumentError("DAG '" + dag.name + "' has a task without id");
    if (!by_id.emplace(t.id, &t).second) {
      return InvalidArgumentError("DAG '" + dag.name + "' has two tasks named '" + t.id + "'");
    }
    if (!t.fn) return InvalidArgumentError("task '" + t.id + "' has nothing to run");
  }
  for (const auto& t : dag.tasks) {
    for (const auto& up : t.upstream) {
      if (!by_id.count(up)) {
        return InvalidArgumentError("task '" + t.id + "' depends on unknown task '" + up + "'");
      }
    }
  }
  std::vector<const TaskSpec*> order;
  std::set<std::string> done;
  while (order.size() < dag.tasks.size()) {
    bool progressed = false;
    for (const auto& t : dag.tasks) {
      if (done.count(t.id)) continue;
      bool ready = true;
      for (const auto& up : t.upstream) ready = ready && done.count(up);
      if (!ready) continue;
      order.push_back(&t);
      done.insert(t.id);
      progressed = true;
    }
    if (!progressed) return InvalidArgumentError("DAG '" + dag.name + "' has a dependency cycle");
  }
  return order;
}

}  // namespace pinpipe::schedule
