// Arrays block-distributed over the ranks of an MPI communicator, the data of the primitives in
// mpi/ (reduce, dot, scan, pack, matvec):
//
//   DistArray<double> a(MPI_COMM_WORLD, n);         collective: every rank passes the same n
//   a.generate([](std::size_t i) { return f(i); }); each rank fills its own piece, a[i] = f(i)
//   RawSpan<double> mine = a.local();               this rank's piece: global [a.begin(), a.end())
//   double s = mpi::reduce<std::plus<>>(a.span(), 0.0);
//
// Distribution. Rank r owns piece r of partition_bounds(n, p) (primitives/partition.h), the same
// contiguous pieces a pool of p workers would get, so rank r of p holds what worker r of a
// p-worker pool works on; ranks past the last piece (n < p) own an empty piece. A DistArray made
// with unit = u > 1 is cut only between runs of u elements (a matrix of u columns, distributed
// by rows): the partition of n/u units, each u elements long.
//
// The driver. Rank 0 owns piece 0 and computes like every other rank (SPMD, owner computes):
// no rank only drives, so none idles while the others work, and no bulk data ever travels
// through rank 0: elements stay with their owner and every collective here is symmetric.
//
// Memory. Each rank allocates only its piece: a RawArray (primitives/shared_array.h), so the
// serial kernels of primitives/, which take RawSpan views, run on it unchanged. One
// descriptor per array per rank.
//
// Errors. Construction is collective: the ranks agree on the size and unit (one MPI_Allreduce of
// four integers), and a disagreement is a std::invalid_argument on every rank, never a rank left
// waiting. Checks that only some ranks could see (an overlap of two views, when some pieces are
// empty) are agreed the same way (agree_or_throw). MPI's own errors abort the job (Open MPI's
// default handler, MPI_ERRORS_ARE_FATAL); under MPI_ERRORS_RETURN they become
// std::runtime_error naming the call.
#ifndef PROCPAR_MPI_DIST_ARRAY_H_
#define PROCPAR_MPI_DIST_ARRAY_H_

#include <mpi.h>

#include <algorithm>
#include <atomic>
#include <climits>
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

#include "primitives/partition.h"
#include "primitives/shared_array.h"

namespace procpar::mpi {

// Throws std::runtime_error naming `call` unless `rc` is MPI_SUCCESS.
inline void check(int rc, const char* call) {
  if (rc == MPI_SUCCESS) return;
  char text[MPI_MAX_ERROR_STRING];
  int length = 0;
  MPI_Error_string(rc, text, &length);
  throw std::runtime_error(std::string(call) + " failed: " + std::string(text, length));
}

inline int rank_of(MPI_Comm comm) {
  int rank = 0;
  check(MPI_Comm_rank(comm, &rank), "MPI_Comm_rank");
  return rank;
}

inline int ranks_of(MPI_Comm comm) {
  int ranks = 0;
  check(MPI_Comm_size(comm, &ranks), "MPI_Comm_size");
  return ranks;
}

// Throws std::invalid_argument(message) on every rank of `comm` if `bad` holds on any of them
// (one MPI_Allreduce of an int), so that an error only some ranks can see never leaves the
// others waiting in the next collective. Collective.
inline void agree_or_throw(MPI_Comm comm, bool bad, const std::string& message) {
  int local = bad ? 1 : 0;
  int any = 0;
  check(MPI_Allreduce(&local, &any, 1, MPI_INT, MPI_LOR, comm), "MPI_Allreduce");
  if (any != 0) throw std::invalid_argument(message);
}

// Global indices [begin, end) of a rank's piece.
struct Piece {
  std::size_t begin = 0;
  std::size_t end = 0;
  std::size_t size() const { return end - begin; }
};

// bounds[r], bounds[r + 1]: the global positions of rank r's piece of an array of `size`
// elements cut between runs of `unit` (ranks past the last piece get the empty piece at
// `size`): piece r of partition_bounds(size / unit, ranks), scaled by unit.
inline std::vector<std::size_t> piece_bounds(std::size_t size, std::size_t unit, int ranks) {
  const std::vector<std::size_t> units = partition_bounds(size / unit, static_cast<std::size_t>(ranks));
  std::vector<std::size_t> bounds(static_cast<std::size_t>(ranks) + 1, size);
  for (std::size_t r = 0; r < units.size() && r < bounds.size(); ++r) bounds[r] = units[r] * unit;
  return bounds;
}

// The piece of `rank` among `ranks` for `size` elements cut between runs of `unit` elements.
inline Piece piece_of(std::size_t size, std::size_t unit, int ranks, int rank) {
  const std::vector<std::size_t> bounds = piece_bounds(size, unit, ranks);
  const auto r = static_cast<std::size_t>(rank);
  return {bounds[r], bounds[r + 1]};
}

// How many ranks own a non-empty piece: min(p, size / unit).
inline std::size_t owners(std::size_t size, std::size_t unit, int ranks) {
  return std::min<std::size_t>(static_cast<std::size_t>(ranks), size / unit);
}

// An MPI datatype of sizeof(T) bytes, for moving T as it is (T is trivially copyable and the
// ranks run the same binary, so its bytes mean the same everywhere). Freed on destruction.
template <class T>
class ByteType {
 public:
  ByteType() {
    static_assert(std::is_trivially_copyable_v<T>, "only trivially copyable types travel as bytes");
    check(MPI_Type_contiguous(static_cast<int>(sizeof(T)), MPI_BYTE, &type_),
          "MPI_Type_contiguous");
    check(MPI_Type_commit(&type_), "MPI_Type_commit");
  }
  ByteType(const ByteType&) = delete;
  ByteType& operator=(const ByteType&) = delete;
  ~ByteType() { MPI_Type_free(&type_); }
  MPI_Datatype get() const { return type_; }

 private:
  MPI_Datatype type_ = MPI_DATATYPE_NULL;
};

// An element count as MPI's int, or std::invalid_argument naming `what`.
inline int mpi_count(std::size_t count, const char* what) {
  if (count > static_cast<std::size_t>(INT_MAX)) {
    throw std::invalid_argument(std::string(what) + ": " + std::to_string(count) +
                                " elements in one message exceed MPI's int count");
  }
  return static_cast<int>(count);
}

// A view of a whole DistArray on this rank: trivially copyable; valid while the array lives.
template <class T>
class DistSpan {
 public:
  MPI_Comm comm() const { return comm_; }
  std::size_t size() const { return size_; }    // global number of elements
  std::size_t unit() const { return unit_; }    // the partition cuts between runs of this many
  std::size_t begin() const { return begin_; }  // global index of local()[0]
  std::size_t end() const { return begin_ + local_.size(); }
  RawSpan<T> local() const { return local_; }   // this rank's piece

 private:
  template <class>
  friend class DistArray;
  MPI_Comm comm_ = MPI_COMM_NULL;
  std::size_t size_ = 0;
  std::size_t unit_ = 1;
  std::size_t begin_ = 0;
  RawSpan<T> local_;
};

// `size` elements of T block-distributed over `comm`, zero-initialised. The caller keeps `comm`
// alive while the array lives.
template <class T>
class DistArray {
 public:
  // Collective over `comm`. Throws std::invalid_argument on every rank if the ranks pass
  // different sizes or units, if unit is 0 or does not divide size; std::logic_error if MPI is
  // not initialised. Cost: one MPI_Allreduce of 4 integers, and allocating (touching) this
  // rank's piece.
  DistArray(MPI_Comm comm, std::size_t size, std::size_t unit = 1)
      : comm_(comm), size_(size), unit_(unit), local_(agreed_piece(comm, size, unit).size()) {
    begin_ = piece_of(size, unit, ranks_of(comm), rank_of(comm)).begin;
  }

  DistSpan<T> span() const {
    DistSpan<T> view;
    view.comm_ = comm_;
    view.size_ = size_;
    view.unit_ = unit_;
    view.begin_ = begin_;
    view.local_ = local_.span();
    return view;
  }

  MPI_Comm comm() const { return comm_; }
  std::size_t size() const { return size_; }
  std::size_t unit() const { return unit_; }
  std::size_t begin() const { return begin_; }
  std::size_t end() const { return begin_ + local_.size(); }
  RawSpan<T> local() const { return local_.span(); }

  // a[i] = f(i) for every global index i of this rank's piece; local (no communication).
  template <class F>
  void generate(F f) {
    T* data = local_.span().data();
    for (std::size_t i = 0; i < local_.size(); ++i) data[i] = f(begin_ + i);
  }

 private:
  static Piece agreed_piece(MPI_Comm comm, std::size_t size, std::size_t unit) {
    int initialised = 0;
    MPI_Initialized(&initialised);
    if (!initialised) throw std::logic_error("DistArray: MPI is not initialised (call MPI_Init)");
    // max of x and max of ~x (= ~min of x) in one call.
    const std::uint64_t mine[4] = {size, ~std::uint64_t{size}, unit, ~std::uint64_t{unit}};
    std::uint64_t agreed[4];
    check(MPI_Allreduce(mine, agreed, 4, MPI_UINT64_T, MPI_MAX, comm), "MPI_Allreduce");
    if (agreed[0] != ~agreed[1]) {
      throw std::invalid_argument("DistArray: the ranks disagree on the size (from " +
                                  std::to_string(~agreed[1]) + " to " +
                                  std::to_string(agreed[0]) + ")");
    }
    if (agreed[2] != ~agreed[3]) {
      throw std::invalid_argument("DistArray: the ranks disagree on the unit (from " +
                                  std::to_string(~agreed[3]) + " to " +
                                  std::to_string(agreed[2]) + ")");
    }
    if (unit == 0 || size % unit != 0) {
      throw std::invalid_argument("DistArray: a unit of " + std::to_string(unit) +
                                  " elements does not divide the size " + std::to_string(size));
    }
    return piece_of(size, unit, ranks_of(comm), rank_of(comm));
  }

  MPI_Comm comm_;
  std::size_t size_;
  std::size_t unit_;
  std::size_t begin_ = 0;
  RawArray<T> local_;
};

namespace dist_detail {

// Throws std::invalid_argument unless the views are on the same communicator (local: the
// comparison gives the same answer on every rank).
inline void check_same_comm(MPI_Comm a, MPI_Comm b, const char* caller) {
  int result = MPI_UNEQUAL;
  check(MPI_Comm_compare(a, b, &result), "MPI_Comm_compare");
  if (result != MPI_IDENT) {
    throw std::invalid_argument(std::string(caller) + ": the arrays are on different communicators");
  }
}

// Every rank's `mine`, in rank order (MPI_Allgather of sizeof(T) bytes each).
template <class T>
std::vector<T> allgather(MPI_Comm comm, const T& mine) {
  static_assert(std::is_trivially_copyable_v<T>);
  std::vector<T> all(static_cast<std::size_t>(ranks_of(comm)));
  check(MPI_Allgather(&mine, static_cast<int>(sizeof(T)), MPI_BYTE, all.data(),
                      static_cast<int>(sizeof(T)), MPI_BYTE, comm),
        "MPI_Allgather");
  return all;
}

// The node of this rank in `comm`: the rank in `comm` of the lowest rank that shares its
// memory (MPI_Comm_split_type, MPI_COMM_TYPE_SHARED), so equal on exactly the ranks of one
// node. Collective the first time for a communicator; then cached on it as an MPI attribute
// (freed with the communicator), so later calls are local.
inline int node_of(MPI_Comm comm) {
  static int keyval = [] {
    int key = MPI_KEYVAL_INVALID;
    const auto free_value = [](MPI_Comm, int, void* value, void*) -> int {
      delete static_cast<int*>(value);
      return MPI_SUCCESS;
    };
    check(MPI_Comm_create_keyval(MPI_COMM_NULL_COPY_FN, free_value, &key, nullptr),
          "MPI_Comm_create_keyval");
    return key;
  }();
  void* value = nullptr;
  int found = 0;
  check(MPI_Comm_get_attr(comm, keyval, &value, &found), "MPI_Comm_get_attr");
  if (found != 0) return *static_cast<int*>(value);
  MPI_Comm node_comm = MPI_COMM_NULL;
  const int rank = rank_of(comm);
  check(MPI_Comm_split_type(comm, MPI_COMM_TYPE_SHARED, rank, MPI_INFO_NULL, &node_comm),
        "MPI_Comm_split_type");
  int leader = rank;
  const int rc = MPI_Allreduce(&rank, &leader, 1, MPI_INT, MPI_MIN, node_comm);
  MPI_Comm_free(&node_comm);
  check(rc, "MPI_Allreduce");
  check(MPI_Comm_set_attr(comm, keyval, new int(leader)), "MPI_Comm_set_attr");
  return leader;
}

inline std::atomic<std::uint64_t> bytes_written_to_other_ranks{0};

inline void count_bytes_written_to_other_ranks(std::uint64_t bytes) {
  if (bytes != 0) bytes_written_to_other_ranks.fetch_add(bytes, std::memory_order_relaxed);
}

}  // namespace dist_detail

// Bytes this process has written straight into other ranks' pieces through shared memory (a
// pack whose output lands on a rank of the same node), since it started: the counterpart of
// the payload handed to MPI, for the experiments' accounting of what each rank sends.
inline std::uint64_t bytes_written_to_other_ranks() {
  return dist_detail::bytes_written_to_other_ranks.load(std::memory_order_relaxed);
}

}  // namespace procpar::mpi

#endif  // PROCPAR_MPI_DIST_ARRAY_H_
