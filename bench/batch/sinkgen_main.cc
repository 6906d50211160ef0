// batch_sinkgen: writes generated sink objects for the batch benchmark.
// usage: batch_sinkgen OUT_DIR RECORDS POSTS PER_OBJECT [PARTITIONS] [SEED] [DIRT] [gzip] [PREFIX]
#include <cstdio>
#include <cstdlib>
#include <string>

#include "sink_gen.h"

int main(int argc, char** argv) {
  if (argc < 5) {
    std::fprintf(stderr,
                 "usage: %s OUT_DIR RECORDS POSTS PER_OBJECT [PARTITIONS] [SEED] [DIRT] [gzip] "
                 "[PREFIX]\n",
                 argv[0]);
    return 2;
  }
  pinpipe::testing::SinkGenOptions o;
  o.records = std::atoll(argv[2]);
  o.posts = std::atoll(argv[3]);
  o.per_object = std::atoll(argv[4]);
  if (argc > 5) o.partitions = std::atoi(argv[5]);
  if (argc > 6) o.seed = std::strtoull(argv[6], nullptr, 10);
  if (argc > 7) o.dirt = std::atof(argv[7]);
  if (argc > 8) o.gzip = std::string(argv[8]) == "gzip";
  if (argc > 9) o.prefix = argv[9];
  if (o.records <= 0 || o.posts <= 0 || o.per_object <= 0 || o.partitions <= 0) {
    std::fprintf(stderr, "RECORDS, POSTS, PER_OBJECT and PARTITIONS must be positive\n");
    return 2;
  }
  pinpipe::testing::SinkGenStats stats;
  if (!pinpipe::testing::GenerateSink(argv[1], o, &stats)) return 1;
  std::printf("%lld objects, %lld bytes\n", static_cast<long long>(stats.objects),
              static_cast<long long>(stats.bytes));
  return 0;
}
