// The shape every MPI experiment shares (mpi_collectives, mpi_primitives, mpi_pool): the binary
// runs under mpirun, rank 0 runs Google Benchmark, and before each benchmark run it broadcasts a
// command (what to do, and how many iterations: Google Benchmark fixes them before the timed
// loop) so that the other ranks make exactly the matching calls; they serve commands until the
// stop command. Also the ping-pong between ranks 0 and 1 that two of them measure.
#ifndef PROCPAR_EXPERIMENTS_MPI_EXPERIMENT_H_
#define PROCPAR_EXPERIMENTS_MPI_EXPERIMENT_H_

#include <mpi.h>

#include <cstdint>
#include <type_traits>
#include <vector>

#include "experiments/experiment_main.h"

namespace procpar::experiments {

inline int world_rank() {
  int rank = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  return rank;
}

inline int world_size() {
  int size = 0;
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  return size;
}

// Through PMPI_, so that a profiling layer (mpi_primitives counts the bytes each rank sends)
// sees only the measured traffic, not the harness's commands.
template <class Command>
void broadcast_command(Command& command) {
  static_assert(std::is_trivially_copyable_v<Command>, "a command travels as its bytes");
  PMPI_Bcast(&command, static_cast<int>(sizeof command), MPI_BYTE, 0, MPI_COMM_WORLD);
}

// Rank 0's side of one ping-pong round trip with rank 1.
inline void ping_pong(const void* sent, void* back, int bytes) {
  MPI_Send(sent, bytes, MPI_BYTE, 1, 0, MPI_COMM_WORLD);
  MPI_Recv(back, bytes, MPI_BYTE, 1, 0, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
}

// Rank 1's side: echo `times` messages of `bytes` bytes back to rank 0.
inline void echo(std::int64_t bytes, std::int64_t times) {
  std::vector<char> buffer(static_cast<std::size_t>(bytes));
  for (std::int64_t i = 0; i < times; ++i) {
    MPI_Recv(buffer.data(), static_cast<int>(bytes), MPI_BYTE, 0, 0, MPI_COMM_WORLD,
             MPI_STATUS_IGNORE);
    MPI_Send(buffer.data(), static_cast<int>(bytes), MPI_BYTE, 0, 0, MPI_COMM_WORLD);
  }
}

// The main of an MPI experiment: MPI at `thread_level`; rank 0 runs the benchmarks, then tells
// the others `stop`; the others serve() until then.
template <class Command>
int run_mpi_experiment(int argc, char** argv, const char* name, void (*register_benchmarks)(),
                       void (*serve)(), Command stop, int thread_level = MPI_THREAD_SINGLE) {
  int provided = MPI_THREAD_SINGLE;
  MPI_Init_thread(&argc, &argv, thread_level, &provided);
  int status = 0;
  if (world_rank() == 0) {
    status = run_experiment(argc, argv, name, register_benchmarks);
    broadcast_command(stop);
  } else {
    serve();
  }
  MPI_Finalize();
  return status;
}

}  // namespace procpar::experiments

#endif  // PROCPAR_EXPERIMENTS_MPI_EXPERIMENT_H_
