#include "pinpipe/api/metrics.h"

#include <gtest/gtest.h>

namespace pinpipe::api {
namespace {

TEST(MetricsTest, ProduceLatencySumsEveryProduceRouteAndNothingElse) {
  Metrics m;
  m.RecordRequest("kafka.produce", 200, 800);              // 0.8 ms: the 0.001 bucket
  m.RecordRequest("kafka.produce_partition", 200, 3'000);  // 3 ms: 0.005
  m.RecordRequest("kinesis.PutRecords", 200, 400);         // 0.4 ms: 0.0005
  m.RecordRequest("gateway.put_record", 200, 20'000'000);  // 20 s: only +Inf
  m.RecordRequest("kafka.list_topics", 200, 100);          // not a produce route
  m.RecordRequest("kinesis.DescribeStream", 200, 100);
  const auto h = m.ProduceLatency();
  ASSERT_EQ(h.upper_bounds.size(), Metrics::kBuckets.size());
  ASSERT_EQ(h.counts.size(), Metrics::kBuckets.size());
  EXPECT_EQ(h.upper_bounds.front(), 0.0005);
  EXPECT_EQ(h.counts[0], 1);  // <= 0.5 ms
  EXPECT_EQ(h.counts[1], 2);  // <= 1 ms (cumulative)
  EXPECT_EQ(h.counts[2], 2);  // <= 2.5 ms
  EXPECT_EQ(h.counts[3], 3);  // <= 5 ms
  EXPECT_EQ(h.counts.back(), 3);
  EXPECT_EQ(h.total, 4);
}

TEST(MetricsTest, TotalsCountEveryRouteAndEveryApi) {
  Metrics m;
  EXPECT_EQ(m.TotalRequests(), 0);
  m.RecordRequest("kafka.produce", 200, 1);
  m.RecordRequest("kafka.produce", 500, 1);
  m.RecordRequest("kafka.list_topics", 200, 1);
  m.AddRecords("kafka", 10, 100);
  m.AddRecords("kinesis", 5, 50);
  EXPECT_EQ(m.TotalRequests(), 3);
  EXPECT_EQ(m.TotalRecordsIn(), 15);
  EXPECT_TRUE(IsProduceRoute("kinesis.PutRecord"));
  EXPECT_FALSE(IsProduceRoute("kinesis.GetRecords"));
}

}  // namespace
}  // namespace pinpipe::api
