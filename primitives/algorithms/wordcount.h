// Word count: the first MapReduce job (the seed: "count words in some big document collection"
// with a Counter per chunk, merged).
//
// Tokenisation, the same everywhere (experiments/python/mapreduce_wordcount.py uses
// re.findall(rb"[a-z']+", text.lower()) on bytes): a word is a maximal run of the bytes A-Z, a-z
// and the apostrophe ('), lower-cased (ASCII only). Every other byte, including digits,
// punctuation, whitespace and bytes >= 0x80, separates words. So "Lord's" is the word "lord's",
// "Ge1:1" gives "ge", and "naïve" gives "na" and "ve".
//
//   RawArray<char> text = ...;                      // the corpus, in shared memory
//   WordCounts counts = word_count(pool, text.span());
//   counts[0];                                      // {"the", 64023}: count desc, then word
//
// Cost: one pass over the text in the workers (0.8-0.9 GB/s per core here, about 70 times
// CPython's re.findall + Counter per CPU second: a vectorised scan for word boundaries, AVX-512
// or SSE2, and an open-addressing table keyed by the word's first 16 bytes, with no allocation
// per word), plus a merge in the caller proportional to the number of distinct words per task
// (12,866 for the King James Bible), independent of the text's size: about 1.5 ms for two tasks
// here, the final sort included.
#ifndef PROCPAR_PRIMITIVES_WORDCOUNT_H_
#define PROCPAR_PRIMITIVES_WORDCOUNT_H_

#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

#include "primitives/partition.h"
#include "primitives/pool.h"
#include "primitives/shared_array.h"

namespace procpar {

// Words and how often each occurs.
using WordCounts = std::vector<std::pair<std::string, std::uint64_t>>;

// True for the bytes that words are made of (A-Z, a-z, ').
constexpr bool is_word_byte(unsigned char c) {
  return static_cast<unsigned char>((c | 0x20) - 'a') < 26 || c == '\'';
}

// A counter of words: a hash table with open addressing. Words of up to 16 bytes are stored in
// the slot itself (compared as two 64-bit integers); longer ones in an arena owned by the counter.
// Memory grows with the number of distinct words, not with the text.
class WordCounter {
 public:
  WordCounter();

  // Counts every word of `text` (the tokenisation rule above), as if `text` were a whole
  // document: a word cut by the end of `text` counts as the part inside it.
  void add_text(std::string_view text);

  // Adds `count` occurrences of `word`, which must already be a word in its lower-case form.
  void add_word(std::string_view word, std::uint64_t count);

  // Adds every count of `other`.
  void merge(const WordCounter& other);

  std::size_t distinct() const { return used_; }
  std::uint64_t total() const;

  // Every word with its count, in no particular order.
  WordCounts counts() const;
  // Every word with its count, sorted by count (sort_by_count).
  WordCounts sorted_counts() const;

 private:
  struct Slot {
    std::uint64_t head0 = 0;  // the word's bytes 0-7, zero-padded
    std::uint64_t head1 = 0;  // bytes 8-15, zero-padded
    std::uint64_t count = 0;
    std::uint32_t length = 0;        // 0 marks an empty slot
    std::uint32_t arena_offset = 0;  // where a word longer than 16 bytes is kept whole
  };

  void add_short(std::uint64_t head0, std::uint64_t head1, std::uint32_t length,
                 std::uint64_t count);
  void add_long(const char* lowered, std::size_t length, std::uint64_t count);
  void add_raw(const unsigned char* word, std::size_t length);
  void grow();
  std::uint64_t hash_of(const Slot& slot) const;
  void add_words_scalar(const unsigned char* begin, const unsigned char* end);

  std::vector<Slot> slots_;
  std::size_t used_ = 0;
  std::string arena_;
  std::string scratch_;  // lower-cased copy of a long word, reused
};

// Sorts by count, highest first, then by word.
void sort_by_count(WordCounts& counts);

// The counts of several counters added per word (each a counter's counts(), or any counts of
// lower-case words), sorted by count (sort_by_count).
WordCounts merge_counts(const std::vector<WordCounts>& parts);

// The words of `text`, counted serially and sorted by count (the reference the parallel job
// must equal).
WordCounts count_words(std::string_view text);

// Cuts [0, text.size()) into at most `parts` contiguous ranges of nearly equal size, each cut
// moved forward to the next byte that is not part of a word, so no word is split. Empty ranges
// are dropped. Throws std::invalid_argument if parts is 0.
std::vector<std::pair<std::size_t, std::size_t>> split_at_word_boundaries(std::string_view text,
                                                                          std::size_t parts);

namespace wordcount_detail {

// The map task: counts the words of text[begin, end).
WordCounts count_range(RawSpan<char> text, std::size_t begin, std::size_t end);

}  // namespace wordcount_detail

// Counts the words of `text` on `pool`: a map phase of `tasks` ranges cut at word boundaries
// (default: one per worker, since the work per byte is even), the caller counting the first
// range itself while the pool counts the others (run_pieces_with), then adding the tasks' counts
// into its own counter. Returns the counts sorted by count (highest first), then word; the
// same whatever the pool, the number of workers or tasks.
//
// Why the caller merges rather than a reduce phase on the pool (reduce_by_key, mapreduce.h): the
// map outputs are small (the distinct words of a range, 12,866 for the King James Bible, however
// long the range), and merging one costs the caller a hash-table update per word, about 0.5 ms
// here; a reduce phase would ship every pair to a worker and back, 3-4 ms for two tasks on the
// process pool. CPython's reference merges its Counters in the caller too. A job whose map
// outputs grow with the input belongs on reduce_by_key. The caller counting a range of its own
// keeps it busy during the map phase and spares that range's counts a trip through the pool
// (4.4 MB at p = 2 on the process pool: 6.5 ms against 7.6-8.3 ms with every range a task).
template <Pool P>
WordCounts word_count(P& pool, RawSpan<char> text, std::size_t tasks = 0) {
  const std::string_view view(text.data(), text.size());
  const auto ranges = split_at_word_boundaries(view, tasks == 0 ? pool.workers() : tasks);
  std::vector<std::tuple<RawSpan<char>, std::size_t, std::size_t>> map_inputs;
  map_inputs.reserve(ranges.size());
  for (const auto& [begin, end] : ranges) map_inputs.emplace_back(text, begin, end);
  if (map_inputs.size() < 2) {
    return merge_counts(run_pieces(pool, &wordcount_detail::count_range, map_inputs));
  }
  auto [total, others] = run_pieces_with(
      pool, &wordcount_detail::count_range, map_inputs,
      [view](const RawSpan<char>&, std::size_t begin, std::size_t end) {
        WordCounter counter;
        counter.add_text(view.substr(begin, end - begin));
        return counter;
      });
  for (const WordCounts& part : others) {
    for (const auto& [word, count] : part) total.add_word(word, count);
  }
  return total.sorted_counts();
}

}  // namespace procpar

#endif  // PROCPAR_PRIMITIVES_WORDCOUNT_H_
