#include "primitives/wordcount.h"

#include <algorithm>
#include <cstring>

#if defined(__AVX512BW__) || defined(__SSE2__)
#include <immintrin.h>
#endif

namespace procpar {
namespace {

constexpr std::size_t kInitialSlots = 1 << 12;  // a power of two
constexpr std::size_t kBlock = 64;               // bytes classified at once
constexpr std::size_t kHead = 16;                // bytes of a word kept in its slot
constexpr std::uint64_t kCaseBits = 0x2020202020202020ull;

// Bit i is set when p[i] is a word byte, for the 64 bytes at p.
inline std::uint64_t word_byte_mask(const unsigned char* p) {
#if defined(__AVX512BW__)
  const __m512i bytes = _mm512_loadu_si512(p);
  const __m512i offset = _mm512_sub_epi8(_mm512_or_si512(bytes, _mm512_set1_epi8(0x20)),
                                         _mm512_set1_epi8('a'));
  return _mm512_cmplt_epu8_mask(offset, _mm512_set1_epi8(26)) |
         _mm512_cmpeq_epi8_mask(bytes, _mm512_set1_epi8('\''));
#elif defined(__SSE2__)
  std::uint64_t mask = 0;
  for (int part = 0; part < 4; ++part) {
    const __m128i bytes = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + 16 * part));
    // (c | 0x20) - 'a' < 26, unsigned, as a signed compare after shifting the range to -128.
    const __m128i offset =
        _mm_sub_epi8(_mm_or_si128(bytes, _mm_set1_epi8(0x20)), _mm_set1_epi8('a' - 128));
    const __m128i letter = _mm_cmplt_epi8(offset, _mm_set1_epi8(-128 + 26));
    const __m128i apostrophe = _mm_cmpeq_epi8(bytes, _mm_set1_epi8('\''));
    const auto bits = static_cast<std::uint32_t>(_mm_movemask_epi8(_mm_or_si128(letter, apostrophe)));
    mask |= std::uint64_t{bits} << (16 * part);
  }
  return mask;
#else
  std::uint64_t mask = 0;
  for (std::size_t i = 0; i < kBlock; ++i) mask |= std::uint64_t{is_word_byte(p[i])} << i;
  return mask;
#endif
}

inline std::uint64_t load64(const unsigned char* p) {
  std::uint64_t v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

// The low `bytes` bytes of a 64-bit word (bytes <= 8).
inline std::uint64_t low_bytes(std::size_t bytes) {
  return bytes >= 8 ? ~std::uint64_t{0} : (std::uint64_t{1} << (8 * bytes)) - 1;
}

inline std::uint64_t mix(std::uint64_t a, std::uint64_t b) {
  std::uint64_t h = (a ^ (b * 0x9E3779B97F4A7C15ull)) * 0xD6E8FEB86659FD93ull;
  return h ^ (h >> 32);
}

inline std::uint64_t hash_head(std::uint64_t head0, std::uint64_t head1, std::uint64_t length) {
  return mix(head0 ^ length, head1);
}

std::uint64_t hash_bytes(const char* word, std::size_t length) {
  std::uint64_t h = length;
  for (std::size_t i = 0; i < length; i += 8) {
    std::uint64_t chunk = 0;
    std::memcpy(&chunk, word + i, std::min<std::size_t>(8, length - i));
    h = mix(h, chunk);
  }
  return h;
}

}  // namespace

WordCounter::WordCounter() : slots_(kInitialSlots) {}

std::uint64_t WordCounter::hash_of(const Slot& slot) const {
  if (slot.length <= kHead) return hash_head(slot.head0, slot.head1, slot.length);
  return hash_bytes(arena_.data() + slot.arena_offset, slot.length);
}

void WordCounter::grow() {
  std::vector<Slot> old(slots_.size() * 2);
  old.swap(slots_);
  const std::size_t mask = slots_.size() - 1;
  for (const Slot& slot : old) {
    if (slot.length == 0) continue;
    std::size_t i = hash_of(slot) & mask;
    while (slots_[i].length != 0) i = (i + 1) & mask;
    slots_[i] = slot;
  }
}

inline void WordCounter::add_short(std::uint64_t head0, std::uint64_t head1,
                                   std::uint32_t length, std::uint64_t count) {
  const std::size_t mask = slots_.size() - 1;
  for (std::size_t i = hash_head(head0, head1, length) & mask;; i = (i + 1) & mask) {
    Slot& slot = slots_[i];
    if (slot.head0 == head0 && slot.head1 == head1 && slot.length == length) {
      slot.count += count;
      return;
    }
    if (slot.length == 0) {
      slot = Slot{head0, head1, count, length, 0};
      if (++used_ * 2 > slots_.size()) grow();
      return;
    }
  }
}

void WordCounter::add_long(const char* lowered, std::size_t length, std::uint64_t count) {
  if (length > UINT32_MAX || arena_.size() + length > UINT32_MAX) {
    throw std::length_error("WordCounter: words longer than 4 GiB in total are not supported");
  }
  std::uint64_t head0, head1;
  std::memcpy(&head0, lowered, 8);
  std::memcpy(&head1, lowered + 8, 8);
  const std::size_t mask = slots_.size() - 1;
  for (std::size_t i = hash_bytes(lowered, length) & mask;; i = (i + 1) & mask) {
    Slot& slot = slots_[i];
    if (slot.length == length && slot.head0 == head0 && slot.head1 == head1 &&
        std::memcmp(arena_.data() + slot.arena_offset, lowered, length) == 0) {
      slot.count += count;
      return;
    }
    if (slot.length == 0) {
      slot = Slot{head0, head1, count, static_cast<std::uint32_t>(length),
                  static_cast<std::uint32_t>(arena_.size())};
      arena_.append(lowered, length);
      if (++used_ * 2 > slots_.size()) grow();
      return;
    }
  }
}

// A word as it appears in the text (any case); at least kHead bytes must be readable from
// `word` when length <= kHead.
inline void WordCounter::add_raw(const unsigned char* word, std::size_t length) {
  if (length <= kHead) {
    const std::uint64_t head0 = (load64(word) | kCaseBits) & low_bytes(length);
    const std::uint64_t head1 =
        length <= 8 ? 0 : (load64(word + 8) | kCaseBits) & low_bytes(length - 8);
    add_short(head0, head1, static_cast<std::uint32_t>(length), 1);
    return;
  }
  scratch_.resize(length);
  for (std::size_t i = 0; i < length; ++i) scratch_[i] = static_cast<char>(word[i] | 0x20);
  add_long(scratch_.data(), length, 1);
}

void WordCounter::add_words_scalar(const unsigned char* begin, const unsigned char* end) {
  unsigned char padded[kHead];
  const unsigned char* p = begin;
  while (p < end) {
    while (p < end && !is_word_byte(*p)) ++p;
    const unsigned char* start = p;
    while (p < end && is_word_byte(*p)) ++p;
    const std::size_t length = p - start;
    if (length == 0) break;
    if (length <= kHead && end - start < static_cast<std::ptrdiff_t>(kHead)) {
      std::memset(padded, 0, kHead);
      std::memcpy(padded, start, length);
      add_raw(padded, length);
    } else {
      add_raw(start, length);
    }
  }
}

void WordCounter::add_text(std::string_view text) {
  const auto* base = reinterpret_cast<const unsigned char*>(text.data());
  const std::size_t size = text.size();
  // Blocks are read whole, and a word's head is read 16 bytes wide from its start: stop the
  // block loop where either could pass the end, and finish with the scalar loop.
  const std::size_t block_limit = size >= kBlock + kHead ? size - kBlock - kHead : 0;
  std::size_t pos = 0;
  std::size_t word_start = 0;
  bool in_word = false;  // a word began in an earlier block and has not ended yet
  for (; pos < block_limit; pos += kBlock) {
    const std::uint64_t word = word_byte_mask(base + pos);
    const std::uint64_t before = (word << 1) | std::uint64_t{in_word};  // bit i: byte i-1 in a word
    std::uint64_t starts = word & ~before;
    std::uint64_t ends = ~word & before;  // bit i: byte i is the first after a word
    if (in_word) {
      if (ends == 0) continue;
      add_raw(base + word_start, pos + __builtin_ctzll(ends) - word_start);
      ends &= ends - 1;
      in_word = false;
    }
    while (starts != 0) {
      const std::size_t start = pos + __builtin_ctzll(starts);
      starts &= starts - 1;
      if (ends == 0) {
        word_start = start;
        in_word = true;
        break;
      }
      add_raw(base + start, pos + __builtin_ctzll(ends) - start);
      ends &= ends - 1;
    }
  }
  add_words_scalar(base + (in_word ? word_start : pos), base + size);
}

void WordCounter::add_word(std::string_view word, std::uint64_t count) {
  if (word.empty()) throw std::invalid_argument("WordCounter::add_word: empty word");
  for (char c : word) {
    const auto byte = static_cast<unsigned char>(c);
    if (!is_word_byte(byte) || (byte >= 'A' && byte <= 'Z')) {
      throw std::invalid_argument("WordCounter::add_word: '" + std::string(word) +
                                  "' is not a lower-case word");
    }
  }
  if (word.size() > kHead) {
    add_long(word.data(), word.size(), count);
    return;
  }
  unsigned char padded[kHead] = {};
  std::memcpy(padded, word.data(), word.size());
  add_short(load64(padded), load64(padded + 8), static_cast<std::uint32_t>(word.size()), count);
}

void WordCounter::merge(const WordCounter& other) {
  for (const Slot& slot : other.slots_) {
    if (slot.length == 0) continue;
    if (slot.length <= kHead) {
      add_short(slot.head0, slot.head1, slot.length, slot.count);
    } else {
      add_long(other.arena_.data() + slot.arena_offset, slot.length, slot.count);
    }
  }
}

std::uint64_t WordCounter::total() const {
  std::uint64_t sum = 0;
  for (const Slot& slot : slots_) sum += slot.count;
  return sum;
}

WordCounts WordCounter::counts() const {
  WordCounts out;
  out.reserve(used_);
  for (const Slot& slot : slots_) {
    if (slot.length == 0) continue;
    if (slot.length <= kHead) {
      char bytes[kHead];
      std::memcpy(bytes, &slot.head0, 8);
      std::memcpy(bytes + 8, &slot.head1, 8);
      out.emplace_back(std::string(bytes, slot.length), slot.count);
    } else {
      out.emplace_back(arena_.substr(slot.arena_offset, slot.length), slot.count);
    }
  }
  return out;
}

void sort_by_count(WordCounts& counts) {
  // Integer keys decide almost every comparison: the count, then the word's first 8 bytes read
  // big-endian (zero-padded, which orders as the strings do); the whole words are compared only
  // when both are equal. Sorting the keys and moving each pair once is several times faster than
  // sorting the pairs with a string comparison.
  struct Key {
    std::uint64_t count;
    std::uint64_t prefix;
    std::size_t index;
  };
  std::vector<Key> keys(counts.size());
  for (std::size_t i = 0; i < counts.size(); ++i) {
    const std::string& word = counts[i].first;
    unsigned char head[8] = {};
    std::memcpy(head, word.data(), std::min<std::size_t>(8, word.size()));
    std::uint64_t prefix = 0;
    for (unsigned char byte : head) prefix = (prefix << 8) | byte;
    keys[i] = {counts[i].second, prefix, i};
  }
  std::sort(keys.begin(), keys.end(), [&counts](const Key& a, const Key& b) {
    if (a.count != b.count) return a.count > b.count;
    if (a.prefix != b.prefix) return a.prefix < b.prefix;
    return counts[a.index].first < counts[b.index].first;
  });
  WordCounts sorted;
  sorted.reserve(counts.size());
  for (const Key& key : keys) sorted.push_back(std::move(counts[key.index]));
  counts = std::move(sorted);
}

WordCounts WordCounter::sorted_counts() const {
  WordCounts sorted = counts();
  sort_by_count(sorted);
  return sorted;
}

WordCounts merge_counts(const std::vector<WordCounts>& parts) {
  WordCounter total;
  for (const WordCounts& part : parts) {
    for (const auto& [word, count] : part) total.add_word(word, count);
  }
  return total.sorted_counts();
}

WordCounts count_words(std::string_view text) {
  WordCounter counter;
  counter.add_text(text);
  return counter.sorted_counts();
}

std::vector<std::pair<std::size_t, std::size_t>> split_at_word_boundaries(std::string_view text,
                                                                          std::size_t parts) {
  if (parts == 0) throw std::invalid_argument("split_at_word_boundaries: parts must be at least 1");
  std::vector<std::pair<std::size_t, std::size_t>> ranges;
  std::size_t begin = 0;
  for (std::size_t i = 1; i <= parts && begin < text.size(); ++i) {
    // i * size / parts without overflow: size < 2^63 and parts is small, but stay exact anyway.
    std::size_t cut = static_cast<std::size_t>(
        static_cast<unsigned __int128>(text.size()) * i / parts);
    cut = std::max(cut, begin);
    while (cut < text.size() && is_word_byte(static_cast<unsigned char>(text[cut]))) ++cut;
    if (cut > begin) ranges.emplace_back(begin, cut);
    begin = cut;
  }
  return ranges;
}

namespace wordcount_detail {

WordCounts count_range(RawSpan<char> text, std::size_t begin, std::size_t end) {
  if (begin > end || end > text.size()) {
    throw std::out_of_range("word count: range [" + std::to_string(begin) + ", " +
                            std::to_string(end) + ") is outside a text of " +
                            std::to_string(text.size()) + " bytes");
  }
  WordCounter counter;
  counter.add_text(std::string_view(text.data() + begin, end - begin));
  return counter.counts();
}

}  // namespace wordcount_detail
}  // namespace procpar
