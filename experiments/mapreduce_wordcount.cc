// The seed's MapReduce job (process-based-parallelism.md, "Notes / Map Reduce" and "Map Reduce
// details"):
//
//   "Use this to count words in some big document collection." (citing collections.Counter)
//   "We avoid a common problem with Hadoop that forces a reduce phase after every map phase.
//    The serial controller logic will not be restricted in any way."
//
// Word count (primitives/wordcount.h) over the King James Bible as Debian's bible-kjv prints it,
// repeated `copies` times, held in a RawArray: serially, and as a map phase (one range per worker,
// cut at word boundaries, each counted into its own hash table) on the process and thread pools,
// whose counts the caller merges. The CPython reference
// (python/mapreduce_wordcount.py) counts the same text with the same tokenisation using
// multiprocessing.Pool and collections.Counter; the goal is 30 times its throughput at the
// same number of workers.
//
// Benchmarks: wordcount/serial/n/copies, wordcount/{process,thread}/n/copies/p (n in bytes).
// Counters: bytes_per_second, words (words counted per call), distinct.
#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "benchmark/benchmark.h"
#include "corpus/kjv.h"
#include "experiments/bulk_support.h"
#include "experiments/experiment_main.h"
#include "experiments/profile.h"
#include "primitives/process_pool.h"
#include "primitives/shared_array.h"
#include "primitives/thread_pool.h"
#include "primitives/wordcount.h"

namespace procpar::experiments {
namespace {

const std::string& bible() {
  static const std::string text = corpus::kjv_text();
  return text;
}

// The corpus of the size being measured, in shared memory (written, so every page is touched
// before timing), and its serial count, which every backend must reproduce.
struct Corpus {
  explicit Corpus(std::size_t copies) : copies(copies), text(bible().size() * copies) {
    for (std::size_t c = 0; c < copies; ++c) {
      std::copy(bible().begin(), bible().end(), text.data() + c * bible().size());
    }
    expected = count_words(std::string_view(text.data(), text.size()));
    for (const auto& [word, count] : expected) words += count;
  }
  std::size_t copies;
  RawArray<char> text;
  WordCounts expected;
  std::uint64_t words = 0;
};

template <class Count>
void run(benchmark::State& state, Count count) {
  Corpus& c = inputs_of<Corpus>(state.range(1));
  // Warm-up, untimed: a pool's workers map the text the first time a task touches it.
  for (int call = 0; call < 2; ++call) {
    if (count(c) != c.expected) {
      state.SkipWithError("the counts differ from the serial count");
      return;
    }
  }
  for (auto _ : state) {
    WordCounts counts = count(c);
    benchmark::DoNotOptimize(counts.data());
    if (counts != c.expected) {
      state.SkipWithError("the counts differ from the serial count");
      return;
    }
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * c.text.size()));
  state.counters["words"] = static_cast<double>(c.words);
  state.counters["distinct"] = static_cast<double>(c.expected.size());
}

void serial(benchmark::State& state) {
  run(state, [](Corpus& c) {
    return count_words(std::string_view(c.text.data(), c.text.size()));
  });
}

template <class PoolType>
void on_pool(benchmark::State& state) {
  PoolType& pool = pool_of<PoolType>(state.range(2));
  run(state, [&pool](Corpus& c) { return word_count(pool, c.text.span()); });
}

// Copies of the 4.4 MB text: the quick profile counts it once; the full one at the size the
// CPython reference uses (8 copies, 35 MB, about a second per call in CPython) and at 64 copies
// (282 MB, a fraction of a second here).
std::vector<std::int64_t> copies() {
  return is_quick() ? std::vector<std::int64_t>{1} : std::vector<std::int64_t>{8, 64};
}

void register_benchmarks() {
  const auto bible_bytes = static_cast<std::int64_t>(bible().size());
  for (std::int64_t k : copies()) {
    const std::int64_t n = k * bible_bytes;
    benchmark::RegisterBenchmark("wordcount/serial", serial)
        ->ArgNames({"n", "copies"})->Args({n, k})->UseRealTime();
    for (std::int64_t p : worker_counts()) {
      benchmark::RegisterBenchmark("wordcount/process", on_pool<ProcessPool>)
          ->ArgNames({"n", "copies", "p"})->Args({n, k, p})->UseRealTime();
      benchmark::RegisterBenchmark("wordcount/thread", on_pool<ThreadPool>)
          ->ArgNames({"n", "copies", "p"})->Args({n, k, p})->UseRealTime();
    }
  }
}

}  // namespace
}  // namespace procpar::experiments

int main(int argc, char** argv) {
  procpar::experiments::keep_freed_memory();
  return procpar::experiments::run_experiment(argc, argv, "mapreduce_wordcount",
                                               procpar::experiments::register_benchmarks);
}
