// Pack of a DistArray: keep the elements whose flag is set, in their order, into another
// DistArray, owner computes:
//
//   std::size_t kept = mpi::pack(in.span(), flags.span(), out.span());   collective
//
// Each rank (1) counts the set flags of its piece (pack.h's count kernel), (2) learns every
// rank's count, piece of `out` and node in one MPI_Allgather and scans the counts into output
// offsets locally, (3) packs its kept elements (pack.h's branchless copy kernel) one run per
// receiving rank: rank r's kept elements go to out[offset_r, offset_r + count_r), which may span
// several ranks' pieces. A run whose receiver is this rank, or a rank on the same node, is
// packed straight into the receiver's piece; a run for another node goes into a send buffer kept
// between calls, and (4) those runs travel in one MPI_Alltoallv, each straight to its receiver.
// A barrier ends a call in which any rank wrote into another's piece.
//
// Why the node-local runs bypass MPI. Through messages, an element that changes rank is written
// twice (into the send buffer, then copied into the receiver's piece): at 2 ranks and half the
// flags set, the copy of the quarter of the elements that move adds about 30 % to the memory
// traffic of the whole pack, where a process pool's workers write once into one shared output.
// Ranks that share a node share memory: MPI says which do (MPI_Comm_split_type, SHARED), and a
// DistArray's pieces are RawArrays, which any process of the node can map (shared_array.h), so
// the runs go straight to their place, as they do in the pool. This is the MPI-3 shared-memory
// model (MPI_Win_allocate_shared) with the library's own arrays as the shared segments, kept
// because the serial kernels work on RawSpans; it needs /proc/<pid>/fd of the other ranks to
// be readable, and when any rank cannot map a piece it needs, every rank of the call uses
// messages instead (decided in the collective that checks for overlap, before data moves).
//
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
// of each run but the last), one MPI_Allgather of 48 bytes per rank, one MPI_Allreduce of four
// ints (the overlap check, the fallback and the transfer agreed), the first call on a communicator one
// MPI_Comm_split_type (then cached), and the kept elements that change node moved once
// through MPI; an MPI_Barrier when any run was written into another rank's piece. The first
// write into another rank's piece maps it (about 0.4 us per page, once per array). Memory: the
// send buffer keeps the most elements a call of this thread sent through MPI, for type T.
#ifndef PROCPAR_MPI_PACK_H_
#define PROCPAR_MPI_PACK_H_

#include <mpi.h>

#include <algorithm>
#include <atomic>
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

// What each rank tells the others before the packing: how many elements it keeps, its piece
// of the output (a RawSpan: a rank on the same node can map it) and its node.
template <class T>
struct PackPeer {
  std::uint64_t count;
  RawSpan<T> out;
  int node;
};

// The rank whose piece holds global position `position` (the last one for position = size).
inline std::size_t receiver_of(const std::vector<std::size_t>& bounds, std::size_t position) {
  const auto after = std::upper_bound(bounds.begin(), bounds.end() - 1, position);
  return static_cast<std::size_t>(after - bounds.begin()) - 1;
}

}  // namespace dist_detail

// How kept elements reach a rank of the same node: written straight into its piece (the
// default), or sent as messages, as to another node (to measure what messages cost, or where
// ranks must not map each other's memory). Every rank of a call must pass the same.
enum class PackTransfer { kSharedMemoryOnNode, kMessages };

template <class T, class Flag>
std::size_t pack(DistSpan<T> in, DistSpan<Flag> flags, DistSpan<T> out,
                 PackTransfer transfer = PackTransfer::kSharedMemoryOnNode) {
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
  const int ranks = ranks_of(comm);
  const int rank = rank_of(comm);
  const auto me = static_cast<std::size_t>(rank);

  const dist_detail::PackPeer<T> mine{flags.local().empty() ? 0 : pack_detail::count_piece<Flag>(flags.local()),
                     out.local(), dist_detail::node_of(comm)};
  const std::vector<dist_detail::PackPeer<T>> peers = dist_detail::allgather(comm, mine);
  std::vector<std::uint64_t> offsets(peers.size() + 1, 0);
  for (std::size_t r = 0; r < peers.size(); ++r) offsets[r + 1] = offsets[r] + peers[r].count;
  const std::uint64_t kept = offsets.back();
  if (out.size() < kept) {  // the same on every rank
    throw std::invalid_argument("pack: output has room for " + std::to_string(out.size()) +
                                " elements but " + std::to_string(kept) + " are kept");
  }
  const std::vector<std::size_t> bounds = piece_bounds(out.size(), out.unit(), ranks);
  // Output positions of sender s that land in receiver r's piece of `out`.
  const auto landing = [&](std::size_t sender, std::size_t receiver) {
    const std::size_t from = std::max<std::size_t>(offsets[sender], bounds[receiver]);
    const std::size_t to = std::min<std::size_t>(offsets[sender + 1], bounds[receiver + 1]);
    return Piece{from, std::max(from, to)};
  };
  const auto shares_node = [&](std::size_t a, std::size_t b) {
    return a != b && peers[a].node == peers[b].node;
  };
  // Map the pieces this rank will write into now, so that a rank that cannot (no /proc, say)
  // makes every rank fall back to messages before any data moves.
  const bool messages_only = transfer == PackTransfer::kMessages;
  bool cannot_map = false;
  for (std::size_t r = 0; r < peers.size() && !messages_only; ++r) {
    if (!shares_node(me, r) || landing(me, r).size() == 0) continue;
    try {
      (void)peers[r].out.data();
    } catch (const std::exception&) {
      cannot_map = true;
    }
  }
  // One collective for the checks only some ranks can make (a rank whose pieces are empty
  // sees no overlap where others do) and for the choice of transfer, which all must share.
  const int local_flags[4] = {overlap(in.local(), out.local()) ? 1 : 0, cannot_map ? 1 : 0,
                              messages_only ? 1 : 0, messages_only ? 0 : 1};
  int agreed[4] = {0, 0, 0, 0};
  check(MPI_Allreduce(local_flags, agreed, 4, MPI_INT, MPI_MAX, comm), "MPI_Allreduce");
  if (agreed[0] != 0) throw std::invalid_argument("pack: output overlaps the input");
  if (agreed[2] != 0 && agreed[3] != 0) {
    throw std::invalid_argument("pack: the ranks pass different PackTransfer values");
  }
  if (kept == 0) return 0;
  const bool direct_allowed = agreed[1] == 0 && !messages_only;
  const auto direct = [&](std::size_t a, std::size_t b) {
    return direct_allowed && shares_node(a, b);
  };

  // This rank's kept elements, numbered 0..count-1, go to the receivers in rank order: one run
  // per receiver, packed straight into its piece when it is this rank or shares its node, else
  // into the send buffer, in receiver order (MPI_Alltoallv's layout).
  std::size_t buffered = 0;
  for (std::size_t r = 0; r < peers.size(); ++r) {
    if (r != me && !direct(me, r)) buffered += landing(me, r).size();
  }
  const RawSpan<T> send_buffer = dist_detail::send_buffer<T>(buffered);
  const RawSpan<T> local_in = in.local();
  const RawSpan<Flag> local_flags_in = flags.local();
  std::size_t input_at = 0;   // input index of this rank's next kept element
  std::size_t kept_at = 0;    // how many of this rank's kept elements come before it
  std::size_t buffer_at = 0;
  std::uint64_t direct_bytes = 0;
  for (std::size_t r = 0; r < peers.size() && kept_at < mine.count; ++r) {
    const Piece run = landing(me, r);
    if (run.size() == 0) continue;
    // The last run takes the rest of the input (the kernel stops once its target is full).
    const std::size_t input_end =
        kept_at + run.size() == mine.count
            ? local_in.size()
            : input_at + dist_detail::input_end_of_kept(
                             local_flags_in.subspan(input_at, local_in.size() - input_at),
                             run.size());
    RawSpan<T> target;
    if (r == me || direct(me, r)) {
      target = peers[r].out.subspan(run.begin - bounds[r], run.size());
      if (r != me) direct_bytes += run.size() * sizeof(T);
    } else {
      target = send_buffer.subspan(buffer_at, run.size());
      buffer_at += run.size();
    }
    pack_detail::write_piece<T, Flag>(local_in.subspan(input_at, input_end - input_at),
                                      local_flags_in.subspan(input_at, input_end - input_at),
                                      target);
    input_at = input_end;
    kept_at += run.size();
  }
  dist_detail::count_bytes_written_to_other_ranks(direct_bytes);

  // Every rank knows every pair's traffic, so all agree on which collectives follow.
  bool any_message = false;
  bool any_direct = false;
  for (std::size_t s = 0; s < peers.size(); ++s) {
    for (std::size_t r = dist_detail::receiver_of(bounds, offsets[s]); r < peers.size() &&
                                                          bounds[r] < offsets[s + 1];
         ++r) {
      if (r == s || landing(s, r).size() == 0) continue;
      (direct(s, r) ? any_direct : any_message) = true;
    }
  }
  if (any_message) {
    std::vector<int> send_counts(peers.size()), send_displs(peers.size()),
        recv_counts(peers.size()), recv_displs(peers.size());
    std::size_t sent = 0;
    for (std::size_t r = 0; r < peers.size(); ++r) {
      const std::size_t outgoing = r == me || direct(me, r) ? 0 : landing(me, r).size();
      send_counts[r] = mpi_count(outgoing, "pack");
      send_displs[r] = mpi_count(sent, "pack");
      sent += outgoing;
      const Piece incoming = r == me || direct(r, me) ? Piece{} : landing(r, me);
      recv_counts[r] = mpi_count(incoming.size(), "pack");
      recv_displs[r] =
          mpi_count(incoming.size() > 0 ? incoming.begin - bounds[me] : 0, "pack");
    }
    const ByteType<T> type;
    check(MPI_Alltoallv(send_buffer.data(), send_counts.data(), send_displs.data(), type.get(),
                        out.local().data(), recv_counts.data(), recv_displs.data(), type.get(),
                        comm),
          "MPI_Alltoallv");
  }
  if (any_direct) {
    // The writes into other ranks' pieces are complete and visible once every rank has passed
    // the barrier (the fences order them against the barrier's own messages).
    std::atomic_thread_fence(std::memory_order_seq_cst);
    check(MPI_Barrier(comm), "MPI_Barrier");
    std::atomic_thread_fence(std::memory_order_seq_cst);
  }
  return kept;
}

}  // namespace procpar::mpi

#endif  // PROCPAR_MPI_PACK_H_
