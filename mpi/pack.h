// Pack of a DistArray: keep the elements whose flag is set, in their order, into another
// DistArray, owner computes:
//
//   std::size_t kept = mpi::pack(in.span(), flags.span(), out.span());   collective
//
// Each rank (1) counts the set flags of its piece (pack.h's count kernel), (2) learns every
// rank's count (one MPI_Allgather of a 64-bit integer) and scans them into output offsets
// locally, (3) packs its kept elements (pack.h's branchless copy kernel): those whose output
// position is in its own piece of `out` straight there, the others into a send buffer kept
// between calls, and (4) sends each run of those straight to the rank that owns its output
// positions, in one MPI_Alltoallv. Rank r's
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
// Cost: 2n/p flag and element reads per rank (plus a second count of the flags up to the end
// of the run that stays, when runs leave after it), one MPI_Allgather of 8 bytes per rank, one
// MPI_Allreduce of an int (the overlap check), and the kept elements that change rank moved
// once (at most count_r * sizeof(T) bytes sent by rank r, to at most a few ranks when the flags
// are even; none at one rank). Memory: the send buffer keeps the most elements a call of this
// thread sent, for element type T.
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

namespace dist_detail {

// The index just past the `kept`-th set flag (0 when kept is 0): flags[0, index) hold exactly
// `kept` set flags. Requires at least `kept` set flags. Whole blocks are counted with pack.h's
// count kernel (which vectorises), so finding the end costs about a count of the flags read.
template <class Flag>
std::size_t input_end_of_kept(RawSpan<Flag> flags, std::size_t kept) {
  constexpr std::size_t kBlock = 4096;
  std::size_t index = 0;
  std::size_t seen = 0;
  while (seen < kept && flags.size() - index > kBlock) {
    const std::size_t in_block = pack_detail::count_piece<Flag>(flags.subspan(index, kBlock));
    if (seen + in_block >= kept) break;
    seen += in_block;
    index += kBlock;
  }
  const Flag* data = flags.data();
  for (; seen < kept; ++index) seen += static_cast<bool>(data[index]);
  return index;
}

// A buffer of at least `count` elements for the runs this rank sends, kept for the life of the
// thread and grown, never shrunk: on the project's machines fresh memory costs about 15 us per
// 4 KiB page when first touched, which a buffer allocated per call paid on every call (pack at
// one rank took about 3 times the process pool's time).
template <class T>
RawSpan<T> send_buffer(std::size_t count) {
  thread_local RawArray<T> buffer(0);
  if (buffer.size() < count) buffer = RawArray<T>(count);
  return buffer.span().subspan(0, count);
}

}  // namespace dist_detail

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

  // Output positions of sender s that land in receiver r's piece of `out`.
  const auto landing = [&](int sender, int receiver) {
    const Piece target = piece_of(out.size(), out.unit(), ranks, receiver);
    const std::size_t from = std::max<std::size_t>(offsets[sender], target.begin);
    const std::size_t to = std::min<std::size_t>(offsets[sender + 1], target.end);
    return Piece{from, std::max(from, to)};
  };
  // This rank's kept elements, numbered 0..my_count-1, go in rank order of their receivers, so
  // the run that stays here, [stay.begin, stay.end) of them, splits the others into the runs for
  // lower ranks (before it) and higher ranks (after it). The staying run is packed straight into
  // this rank's piece of `out`; only the runs for other ranks pass through the send buffer.
  const Piece own = landing(rank, rank);
  const Piece out_piece = piece_of(out.size(), out.unit(), ranks, rank);
  const std::size_t stay_begin = own.size() > 0 ? own.begin - offsets[rank] : 0;
  const Piece stay{stay_begin, stay_begin + own.size()};
  const RawSpan<T> send_buffer = dist_detail::send_buffer<T>(my_count - stay.size());
  if (my_count > 0) {
    const RawSpan<T> local_in = in.local();
    const RawSpan<Flag> local_flags = flags.local();
    // When nothing leaves after the staying run (always at one rank), its input runs to the end.
    const std::size_t split_low = dist_detail::input_end_of_kept(local_flags, stay.begin);
    const std::size_t split_high = stay.end == my_count
                                       ? local_in.size()
                                       : dist_detail::input_end_of_kept(local_flags, stay.end);
    const auto write = [&](std::size_t from, std::size_t to, RawSpan<T> target) {
      if (target.empty()) return;
      pack_detail::write_piece<T, Flag>(local_in.subspan(from, to - from),
                                        local_flags.subspan(from, to - from), target);
    };
    write(0, split_low, send_buffer.subspan(0, stay.begin));
    write(split_low, split_high, out.local().subspan(own.begin - out_piece.begin, stay.size()));
    write(split_high, local_in.size(), send_buffer.subspan(stay.begin, my_count - stay.end));
  }

  std::vector<int> send_counts(ranks), send_displs(ranks), recv_counts(ranks), recv_displs(ranks);
  std::size_t sent = 0;
  for (int r = 0; r < ranks; ++r) {
    const std::size_t outgoing = r == rank ? 0 : landing(rank, r).size();
    send_counts[r] = mpi_count(outgoing, "pack");
    send_displs[r] = mpi_count(sent, "pack");
    sent += outgoing;
    const Piece incoming = r == rank ? Piece{} : landing(r, rank);
    recv_counts[r] = mpi_count(incoming.size(), "pack");
    recv_displs[r] = mpi_count(incoming.size() > 0 ? incoming.begin - out_piece.begin : 0, "pack");
  }
  const ByteType<T> type;
  check(MPI_Alltoallv(send_buffer.data(), send_counts.data(), send_displs.data(), type.get(),
                      out.local().data(), recv_counts.data(), recv_displs.data(), type.get(),
                      comm),
        "MPI_Alltoallv");
  return kept;
}

}  // namespace procpar::mpi

#endif  // PROCPAR_MPI_PACK_H_
