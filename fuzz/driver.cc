// A libFuzzer-compatible driver for builds without libFuzzer (g++): replays
// every file under corpus/<target>/ and then feeds deterministic pseudo-random
// inputs (random bytes, and mutations of the corpus) until --seconds elapse.
// A crash, sanitizer report or abort fails the CTest run.
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

int main(int argc, char** argv) {
  double seconds = 5;
  std::string corpus_dir;
  for (int i = 1; i < argc; ++i) {
    if (std::strncmp(argv[i], "--seconds=", 10) == 0)
      seconds = std::atof(argv[i] + 10);
    else
      corpus_dir = argv[i];
  }
  if (corpus_dir.empty()) {
    std::string name = std::filesystem::path(argv[0]).filename().string();
    if (auto pos = name.rfind("_fuzz"); pos != std::string::npos) name.resize(pos);
    corpus_dir = "corpus/" + name;
  }
  std::vector<std::string> corpus;
  if (std::filesystem::is_directory(corpus_dir)) {
    for (const auto& entry : std::filesystem::directory_iterator(corpus_dir)) {
      std::ifstream in(entry.path(), std::ios::binary);
      std::stringstream buffer;
      buffer << in.rdbuf();
      corpus.push_back(buffer.str());
    }
  }
  for (const auto& input : corpus) {
    LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t*>(input.data()), input.size());
  }
  std::mt19937_64 rng(12345);
  const auto deadline = std::chrono::steady_clock::now() +
                        std::chrono::milliseconds(static_cast<int64_t>(seconds * 1000));
  uint64_t runs = 0;
  std::string input;
  while (std::chrono::steady_clock::now() < deadline) {
    if (!corpus.empty() && rng() % 4 != 0) {
      input = corpus[rng() % corpus.size()];
      const int mutations = 1 + static_cast<int>(rng() % 8);
      for (int m = 0; m < mutations && !input.empty(); ++m) {
        const size_t pos = rng() % input.size();
        switch (rng() % 4) {
          case 0:
            input[pos] = static_cast<char>(rng());
            break;
          case 1:
            input.erase(pos, 1 + rng() % 16);
            break;
          case 2:
            input.insert(pos, 1, static_cast<char>(rng()));
            break;
          default:
            input.resize(pos);
            break;
        }
      }
    } else {
      input.resize(rng() % 512);
      for (auto& c : input) c = static_cast<char>(rng());
    }
    LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t*>(input.data()), input.size());
    ++runs;
  }
  std::printf("%llu runs over %zu corpus inputs\n", static_cast<unsigned long long>(runs),
              corpus.size());
  return 0;
}
