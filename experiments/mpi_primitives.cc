// The seed's partitioned primitives across processes that share nothing: "each worker reduces
// its own part, and only the p partial results are combined" (reduce, dot), the two-pass scan
// (local scan, an exclusive scan of the piece totals, the offset added locally) and pack
// (counts scanned into offsets), here on DistArray (mpi/) with MPI collectives, at the sizes of
// the pool experiments (reduce_tree_vs_partitioned, dot_flop_mop, scan_two_pass, pack), so that
// the analysis compares k ranks with a process pool of k workers (issue 13's goal: within 10%).
//
// Run by the runner under mpirun at 1, 2 and 4 ranks (MPI_EXPERIMENTS in experiments/BUILD).
// Rank 0 runs Google Benchmark; before each benchmark run it broadcasts which primitive, which
// n and how many iterations, and every rank makes exactly those calls (the primitives are
// collective). Every rank owns and computes one piece, rank 0 included.
//
// Rows: variants `reduce` (sum of doubles), `dot` (doubles), `scan` (inclusive prefix sum of
// doubles), `pack` (doubles kept by a byte flag, 50 % of them: the pack experiment's keep_pct
// 50), `pack_messages` (the same pack with every element that changes rank sent through MPI,
// none written straight into a piece on the same node: what messages would cost), backend `mpi`, arguments n and p (ranks). Counters:
//   bytes_per_second          the input read once (as the pool experiments count it)
//   bytes_sent_rank0          payload bytes rank 0 sent other ranks, per call
//   bytes_sent_other_max      the same for the busiest other rank (0 at one rank)
//   oversubscribed            1 when ranks outnumber the cores (their timings include
//                             time-sharing)
// A rank's payload for other ranks is counted through MPI's profiling interface (PMPI): the
// collectives the primitives call are wrapped below, each adding what the calling rank
// contributes for the others (an all-gather's block once per other rank, an all-to-all's blocks
// for others, a reduction's or scan's operand once). Elements a pack writes straight into the
// piece of a rank on the same node (mpi/pack.h) count too, as mpi::bytes_written_to_other_ranks
// reports them. That rank 0's count stays as small as every other rank's shows that no bulk data
// passes through it.
#include <mpi.h>

#include <algorithm>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "benchmark/benchmark.h"
#include "experiments/mpi_experiment.h"
#include "experiments/profile.h"
#include "mpi/dist_array.h"
#include "mpi/dot.h"
#include "mpi/pack.h"
#include "mpi/reduce.h"
#include "mpi/scan.h"
#include "primitives/scan.h"

namespace {

// Payload bytes this rank handed MPI for other ranks since the last reset.
std::int64_t bytes_sent = 0;
// mpi::bytes_written_to_other_ranks() at the last reset.
std::uint64_t written_at_reset = 0;

void reset_bytes_sent() {
  bytes_sent = 0;
  written_at_reset = procpar::mpi::bytes_written_to_other_ranks();
}

std::int64_t type_bytes(MPI_Datatype type, std::int64_t count) {
  int size = 0;
  PMPI_Type_size(type, &size);
  return count * size;
}

int comm_ranks(MPI_Comm comm) {
  int ranks = 0;
  PMPI_Comm_size(comm, &ranks);
  return ranks;
}

int comm_rank(MPI_Comm comm) {
  int rank = 0;
  PMPI_Comm_rank(comm, &rank);
  return rank;
}

}  // namespace

// The profiling interface: these replace the library's entry points, count, and call the real
// collective (PMPI_*).
extern "C" {

int MPI_Allgather(const void* sendbuf, int sendcount, MPI_Datatype sendtype, void* recvbuf,
                  int recvcount, MPI_Datatype recvtype, MPI_Comm comm) {
  bytes_sent += type_bytes(sendtype, sendcount) * (comm_ranks(comm) - 1);
  return PMPI_Allgather(sendbuf, sendcount, sendtype, recvbuf, recvcount, recvtype, comm);
}

int MPI_Allgatherv(const void* sendbuf, int sendcount, MPI_Datatype sendtype, void* recvbuf,
                   const int recvcounts[], const int displs[], MPI_Datatype recvtype,
                   MPI_Comm comm) {
  bytes_sent += type_bytes(sendtype, sendcount) * (comm_ranks(comm) - 1);
  return PMPI_Allgatherv(sendbuf, sendcount, sendtype, recvbuf, recvcounts, displs, recvtype,
                         comm);
}

int MPI_Alltoallv(const void* sendbuf, const int sendcounts[], const int sdispls[],
                  MPI_Datatype sendtype, void* recvbuf, const int recvcounts[],
                  const int rdispls[], MPI_Datatype recvtype, MPI_Comm comm) {
  const int me = comm_rank(comm);
  for (int r = 0; r < comm_ranks(comm); ++r) {
    if (r != me) bytes_sent += type_bytes(sendtype, sendcounts[r]);
  }
  return PMPI_Alltoallv(sendbuf, sendcounts, sdispls, sendtype, recvbuf, recvcounts, rdispls,
                        recvtype, comm);
}

int MPI_Allreduce(const void* sendbuf, void* recvbuf, int count, MPI_Datatype datatype, MPI_Op op,
                  MPI_Comm comm) {
  if (comm_ranks(comm) > 1) bytes_sent += type_bytes(datatype, count);
  return PMPI_Allreduce(sendbuf, recvbuf, count, datatype, op, comm);
}

int MPI_Exscan(const void* sendbuf, void* recvbuf, int count, MPI_Datatype datatype, MPI_Op op,
               MPI_Comm comm) {
  if (comm_ranks(comm) > 1) bytes_sent += type_bytes(datatype, count);
  return PMPI_Exscan(sendbuf, recvbuf, count, datatype, op, comm);
}

int MPI_Bcast(void* buffer, int count, MPI_Datatype datatype, int root, MPI_Comm comm) {
  if (comm_rank(comm) == root) bytes_sent += type_bytes(datatype, count) * (comm_ranks(comm) - 1);
  return PMPI_Bcast(buffer, count, datatype, root, comm);
}

}  // extern "C"

namespace procpar::experiments {
namespace {

enum class Primitive : std::int64_t { kStop = 0, kReduce, kDot, kScan, kPack, kPackMessages };

// What rank 0 tells the others before each benchmark run.
struct Command {
  Primitive primitive;
  std::int64_t n;
  std::int64_t iterations;
};

constexpr std::int64_t kWarmUp = 2;  // untimed calls before each run

// Exact in doubles at every size here (sums stay far below 2^53), so a result is checked for
// equality whatever the grouping of the ranks' partial sums.
double x_of(std::size_t i) { return static_cast<double>(i % 7); }
double y_of(std::size_t i) { return static_cast<double>(i % 5); }
// Half of the elements kept, scattered (a multiplicative hash of the index).
std::uint8_t flag_of(std::size_t i) {
  return static_cast<std::uint8_t>(((i * 2654435761u) >> 7) % 100 < 50 ? 1 : 0);
}

// One size's distributed inputs, made collectively the first time a command names the size, and
// the answers, computed serially on rank 0 before timing.
struct Inputs {
  explicit Inputs(std::size_t n)
      : x(MPI_COMM_WORLD, n), y(MPI_COMM_WORLD, n), out(MPI_COMM_WORLD, n),
        flags(MPI_COMM_WORLD, n) {
    x.generate(x_of);
    y.generate(y_of);
    flags.generate(flag_of);
    if (mpi::rank_of(MPI_COMM_WORLD) != 0) return;
    for (std::size_t i = 0; i < n; ++i) {
      sum += x_of(i);
      dot += x_of(i) * y_of(i);
      kept += flag_of(i);
    }
  }
  mpi::DistArray<double> x, y, out;
  mpi::DistArray<std::uint8_t> flags;
  double sum = 0, dot = 0;
  std::size_t kept = 0;
};

Inputs& inputs_for(std::int64_t n) {
  static std::map<std::int64_t, std::unique_ptr<Inputs>> made;
  auto& inputs = made[n];
  if (!inputs) inputs = std::make_unique<Inputs>(static_cast<std::size_t>(n));
  return *inputs;
}

// One call of the primitive; returns its result as a double (kept elements for pack).
double call(Primitive primitive, Inputs& in) {
  switch (primitive) {
    case Primitive::kReduce:
      return mpi::reduce<std::plus<>>(in.x.span(), 0.0);
    case Primitive::kDot:
      return mpi::dot(in.x.span(), in.y.span());
    case Primitive::kScan:
      return mpi::scan<InclusiveScan<std::plus<>>>(in.x.span(), in.out.span(), 0.0);
    case Primitive::kPack:
      return static_cast<double>(mpi::pack(in.x.span(), in.flags.span(), in.out.span()));
    case Primitive::kPackMessages:
      return static_cast<double>(mpi::pack(in.x.span(), in.flags.span(), in.out.span(),
                                           mpi::PackTransfer::kMessages));
    case Primitive::kStop:
      break;
  }
  return 0;
}

double expected(Primitive primitive, const Inputs& in) {
  switch (primitive) {
    case Primitive::kReduce:
    case Primitive::kScan:
      return in.sum;
    case Primitive::kDot:
      return in.dot;
    case Primitive::kPack:
    case Primitive::kPackMessages:
      return static_cast<double>(in.kept);
    case Primitive::kStop:
      break;
  }
  return 0;
}

// Bytes of input each call reads once, as the pool experiments count them.
std::int64_t bytes_read(Primitive primitive, std::int64_t n, std::size_t kept) {
  switch (primitive) {
    case Primitive::kReduce:
      return 8 * n;
    case Primitive::kDot:
    case Primitive::kScan:
      return 16 * n;  // scan: read and write
    case Primitive::kPack:
    case Primitive::kPackMessages:
      return 9 * n + 8 * static_cast<std::int64_t>(kept);
    case Primitive::kStop:
      break;
  }
  return 0;
}

// Every rank's bytes_sent, on rank 0.
std::vector<std::int64_t> gather_bytes_sent() {
  std::vector<std::int64_t> all(static_cast<std::size_t>(mpi::ranks_of(MPI_COMM_WORLD)));
  const auto total = bytes_sent + static_cast<std::int64_t>(mpi::bytes_written_to_other_ranks() -
                                                            written_at_reset);
  PMPI_Gather(&total, 1, MPI_INT64_T, all.data(), 1, MPI_INT64_T, 0, MPI_COMM_WORLD);
  return all;
}

void BM_Primitive(benchmark::State& state, Primitive primitive) {
  const std::int64_t n = state.range(0);
  Command command{primitive, n, static_cast<std::int64_t>(state.max_iterations)};
  broadcast_command(command);
  Inputs& in = inputs_for(n);
  double result = 0;
  for (std::int64_t i = 0; i < kWarmUp; ++i) result = call(primitive, in);
  reset_bytes_sent();
  for (auto _ : state) {
    result = call(primitive, in);
    benchmark::DoNotOptimize(result);
  }
  const std::vector<std::int64_t> sent = gather_bytes_sent();
  if (result != expected(primitive, in)) {
    const std::string error = "wrong result: " + std::to_string(result) + " instead of " +
                              std::to_string(expected(primitive, in));
    state.SkipWithError(error.c_str());
    return;
  }
  const double calls = static_cast<double>(state.iterations());
  std::int64_t other_max = 0;
  for (std::size_t r = 1; r < sent.size(); ++r) other_max = std::max(other_max, sent[r]);
  state.counters["bytes_sent_rank0"] = static_cast<double>(sent[0]) / calls;
  state.counters["bytes_sent_other_max"] = static_cast<double>(other_max) / calls;
  state.counters["oversubscribed"] = sent.size() > static_cast<std::size_t>(machine_cores());
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) *
                          bytes_read(primitive, n, in.kept));
}

// The sizes of the pool experiment of each primitive.
std::vector<std::int64_t> sizes_of(Primitive primitive) {
  switch (primitive) {
    case Primitive::kReduce:  // reduce_tree_vs_partitioned
    case Primitive::kScan:    // scan_two_pass
      return is_quick() ? (primitive == Primitive::kReduce ? powers_of_two(10, 22, 12)
                                                          : powers_of_two(12, 22, 10))
                        : powers_of_two(10, 25, 3);
    case Primitive::kDot:  // dot_flop_mop
      return is_quick() ? powers_of_two(16, 20, 4)
                        : std::vector<std::int64_t>{1 << 16, 1 << 20, 1 << 23, 1 << 25};
    case Primitive::kPack:  // pack
    case Primitive::kPackMessages:
      return is_quick() ? powers_of_two(12, 22, 10) : powers_of_two(13, 25, 4);
    case Primitive::kStop:
      break;
  }
  return {};
}

void register_benchmarks() {
  const std::int64_t ranks = mpi::ranks_of(MPI_COMM_WORLD);
  const std::pair<const char*, Primitive> primitives[] = {
      {"reduce/mpi", Primitive::kReduce},
      {"dot/mpi", Primitive::kDot},
      {"scan/mpi", Primitive::kScan},
      {"pack/mpi", Primitive::kPack},
      {"pack_messages/mpi", Primitive::kPackMessages}};
  for (const auto& [name, primitive] : primitives) {
    auto* benchmark = benchmark::RegisterBenchmark(name, BM_Primitive, primitive);
    benchmark->ArgNames({"n", "p"})->UseRealTime();
    for (std::int64_t n : sizes_of(primitive)) benchmark->Args({n, ranks});
  }
}

// Ranks other than 0: make the calls rank 0 makes until it says stop.
void serve() {
  for (;;) {
    Command command{};
    broadcast_command(command);
    if (command.primitive == Primitive::kStop) return;
    Inputs& in = inputs_for(command.n);
    for (std::int64_t i = 0; i < kWarmUp; ++i) call(command.primitive, in);
    reset_bytes_sent();
    for (std::int64_t i = 0; i < command.iterations; ++i) call(command.primitive, in);
    gather_bytes_sent();
  }
}

}  // namespace
}  // namespace procpar::experiments

int main(int argc, char** argv) {
  using namespace procpar::experiments;
  return run_mpi_experiment(argc, argv, "mpi_primitives", register_benchmarks, serve,
                            Command{Primitive::kStop, 0, 0});
}
