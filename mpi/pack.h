// Pack of a DistArray: keep the elements whose flag is set, in their order, into another
// DistArray, owner computes:
//
//   std::size_t kept = mpi::pack(in.span(), flags.span(), out.span());   collective
//
// Each rank (1) counts the set flags of its piece (pack.h's count kernel), (2) learns every
// rank's count (one MPI_Allgather of a 64-bit integer) and scans them into output offsets
// locally, (3) packs its kept elements (pack.h's branchless copy kernel) and (4) sends each run
// of them straight to the rank that owns those output positions, in one MPI_Alltoallv. Rank r's
// kept elements go to out[offset_r, offset_r + count_r), which may span several ranks' pieces.
// Why an MPI_Allgather of the counts rather than MPI_Exscan: a receiving rank needs every
// sender's offset, not only its own, to know what arrives from whom; with MPI_Exscan each rank
// would learn its own offset and an MPI_Alltoall of the counts would still be needed.
//
// Returns how many were kept, on every rank; out[kept..] is left as it was. Same result
// whatever the number of ranks (no arithmetic on the elements). Data moves only from the rank
// that holds it to the rank that owns its output position, never through rank 0.
// Throws std::invalid_argument on every rank if flags and in differ in size or distribution,
// the arrays live on different communicators, out overlaps in, or out has room for fewer than
// the kept elements.
// Cost: 2n/p flag and element reads per rank, one MPI_Allgather of 8 bytes per rank, one
// MPI_Allreduce of an int (the overlap check), and the kept elements moved once (at most
// count_r * sizeof(T) bytes sent by rank r, to at most a few ranks when the flags are even).
#ifndef PROCPAR_MPI_PACK_H_
#define PROCPAR_MPI_PACK_H_

#include <mpi.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

#include "mpi/dist_array.h"
#include "primitives/pack.h"
#include "primitives/shared_array.h"

namespace procpar::mpi {

template <class T, class Flag>
std::size_t pack(DistSpan<T> in, DistSpan<Flag> flags, DistSpan<T> out) {
  static_assert(std::is_constructible_v<bool, const Flag&>, "pack: a flag must convert to bool");
  dist_detail::check_same_comm(in.comm(), flags.comm(), "pack");
  dist_detail::check_same_comm(in.comm(), out.comm(), "pack");
  if (flags.size() != in.size()) {
    throw std::invalid_argument("pack: input has " + std::to_string(in.size()) +
                                " elements but " + std::to_string(flags.size()) + " flags");
  }
  if (flags.unit() != in.unit()) {
    throw std::invalid_argument("pack: input and flags are distributed differently (units " +
                                std::to_string(in.unit()) + " and " +
                                std::to_string(flags.unit()) + ")");
  }
  const MPI_Comm comm = in.comm();
  // Collective: a rank whose pieces are empty sees no overlap where the others do.
  agree_or_throw(comm, overlap(in.local(), out.local()), "pack: output overlaps the input");
  const int ranks = ranks_of(comm);
  const int rank = rank_of(comm);

  const std::uint64_t my_count =
      flags.local().empty() ? 0 : pack_detail::count_piece<Flag>(flags.local());
  const std::vector<std::uint64_t> counts = dist_detail::allgather(comm, my_count);
  std::vector<std::uint64_t> offsets(counts.size() + 1, 0);
  for (std::size_t r = 0; r < counts.size(); ++r) offsets[r + 1] = offsets[r] + counts[r];
  const std::uint64_t kept = offsets.back();
  if (out.size() < kept) {  // the same on every rank
    throw std::invalid_argument("pack: output has room for " + std::to_string(out.size()) +
                                " elements but " + std::to_string(kept) + " are kept");
  }
  if (kept == 0) return 0;

  RawArray<T> mine(my_count);
  if (my_count > 0) pack_detail::write_piece<T, Flag>(in.local(), flags.local(), mine.span());

  // Output positions [from, to) of sender s that land in receiver d's piece of `out`.
  const auto overlap_count = [&](int sender, int receiver) -> std::size_t {
    const Piece target = piece_of(out.size(), out.unit(), ranks, receiver);
    const std::size_t from = std::max<std::size_t>(offsets[sender], target.begin);
    const std::size_t to = std::min<std::size_t>(offsets[sender + 1], target.end);
    return to > from ? to - from : 0;
  };
  std::vector<int> send_counts(ranks), send_displs(ranks), recv_counts(ranks), recv_displs(ranks);
  std::size_t sent = 0, received = 0;
  for (int r = 0; r < ranks; ++r) {
    send_counts[r] = mpi_count(overlap_count(rank, r), "pack");
    send_displs[r] = mpi_count(sent, "pack");
    sent += send_counts[r];
    recv_counts[r] = mpi_count(overlap_count(r, rank), "pack");
    recv_displs[r] = mpi_count(received, "pack");
    received += recv_counts[r];
  }
  // What arrives fills this rank's piece of `out` from its start, in sender order: the senders'
  // output ranges are consecutive, so their runs are too.
  const ByteType<T> type;
  check(MPI_Alltoallv(mine.span().data(), send_counts.data(), send_displs.data(), type.get(),
                      out.local().data(), recv_counts.data(), recv_displs.data(), type.get(),
                      comm),
        "MPI_Alltoallv");
  return kept;
}

}  // namespace procpar::mpi

#endif  // PROCPAR_MPI_PACK_H_
