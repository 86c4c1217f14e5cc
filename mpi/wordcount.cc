#include "mpi/wordcount.h"

#include <cstdint>
#include <cstring>
#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

#include "mpi/dist_array.h"

namespace procpar::mpi {
namespace {

// A (word, count) record on the wire: the count (8 bytes), the length (4 bytes), the bytes.
void append_record(std::string& buffer, std::string_view word, std::uint64_t count) {
  const std::uint32_t length = static_cast<std::uint32_t>(word.size());
  buffer.append(reinterpret_cast<const char*>(&count), sizeof count);
  buffer.append(reinterpret_cast<const char*>(&length), sizeof length);
  buffer.append(word);
}

template <class F>
void for_each_record(const char* data, std::size_t size, F f) {
  std::size_t at = 0;
  while (at < size) {
    std::uint64_t count;
    std::uint32_t length;
    std::memcpy(&count, data + at, sizeof count);
    std::memcpy(&length, data + at + sizeof count, sizeof length);
    at += sizeof count + sizeof length;
    f(std::string_view(data + at, length), count);
    at += length;
  }
}

// Displacements of consecutive blocks of the given sizes; the total in `total`.
std::vector<int> displacements(const std::vector<int>& sizes, std::size_t& total) {
  std::vector<int> displs(sizes.size());
  total = 0;
  for (std::size_t i = 0; i < sizes.size(); ++i) {
    displs[i] = mpi_count(total, "word_count");
    total += static_cast<std::size_t>(sizes[i]);
  }
  mpi_count(total, "word_count");
  return displs;
}

}  // namespace

WordCounts word_count(MPI_Comm comm, std::string_view text) {
  const int ranks = ranks_of(comm);
  const int rank = rank_of(comm);
  const auto ranges = split_at_word_boundaries(text, static_cast<std::size_t>(ranks));
  WordCounter mine;
  if (static_cast<std::size_t>(rank) < ranges.size()) {
    const auto [begin, end] = ranges[rank];
    mine.add_text(text.substr(begin, end - begin));
  }

  // The shuffle: each word to the rank that owns it. std::hash of a string is the same function
  // in every rank of one binary.
  std::vector<std::string> outgoing(ranks);
  for (const auto& [word, count] : mine.counts()) {
    append_record(outgoing[std::hash<std::string_view>{}(word) % ranks], word, count);
  }
  std::vector<int> send_sizes(ranks), recv_sizes(ranks);
  for (int r = 0; r < ranks; ++r) send_sizes[r] = mpi_count(outgoing[r].size(), "word_count");
  check(MPI_Alltoall(send_sizes.data(), 1, MPI_INT, recv_sizes.data(), 1, MPI_INT, comm),
        "MPI_Alltoall");
  std::size_t send_total = 0, recv_total = 0;
  const std::vector<int> send_displs = displacements(send_sizes, send_total);
  const std::vector<int> recv_displs = displacements(recv_sizes, recv_total);
  std::string send_buffer;
  send_buffer.reserve(send_total);
  for (const std::string& part : outgoing) send_buffer += part;
  std::string received(recv_total, '\0');
  check(MPI_Alltoallv(send_buffer.data(), send_sizes.data(), send_displs.data(), MPI_BYTE,
                      received.data(), recv_sizes.data(), recv_displs.data(), MPI_BYTE, comm),
        "MPI_Alltoallv");

  // The reduction of this rank's words.
  WordCounter merged;
  for_each_record(received.data(), received.size(),
                  [&](std::string_view word, std::uint64_t count) { merged.add_word(word, count); });
  std::string share;
  for (const auto& [word, count] : merged.counts()) append_record(share, word, count);

  // Every rank's share, to every rank.
  const int share_size = mpi_count(share.size(), "word_count");
  std::vector<int> share_sizes(ranks);
  check(MPI_Allgather(&share_size, 1, MPI_INT, share_sizes.data(), 1, MPI_INT, comm),
        "MPI_Allgather");
  std::size_t all_total = 0;
  const std::vector<int> share_displs = displacements(share_sizes, all_total);
  std::string all(all_total, '\0');
  check(MPI_Allgatherv(share.data(), share_size, MPI_BYTE, all.data(), share_sizes.data(),
                       share_displs.data(), MPI_BYTE, comm),
        "MPI_Allgatherv");
  WordCounts counts;
  for_each_record(all.data(), all.size(), [&](std::string_view word, std::uint64_t count) {
    counts.emplace_back(std::string(word), count);
  });
  sort_by_count(counts);
  return counts;
}

}  // namespace procpar::mpi
