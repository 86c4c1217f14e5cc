// A job in which one rank fails in the middle of a collective reduction, for
// rank_death_test.sh:  rank_death_main VICTIM_RANK die|stall TOKEN
// The other ranks enter mpi::reduce's MPI_Allgather and wait for the victim, which either dies
// (SIGKILL: Open MPI's default is to abort the whole job) or stalls, alive, forever (only the
// test harness's time limit ends that job). TOKEN is only there so that the test can find any
// process of this job left behind.
#include <mpi.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>

#include "mpi/dist_array.h"
#include "mpi/reduce.h"

int main(int argc, char** argv) {
  MPI_Init(&argc, &argv);
  if (argc != 4 || (std::strcmp(argv[2], "die") != 0 && std::strcmp(argv[2], "stall") != 0)) {
    std::fprintf(stderr, "usage: rank_death_main VICTIM_RANK die|stall TOKEN\n");
    MPI_Abort(MPI_COMM_WORLD, 2);
  }
  const int victim = std::atoi(argv[1]);
  procpar::mpi::DistArray<double> a(MPI_COMM_WORLD, std::size_t{1} << 22);
  a.generate([](std::size_t i) { return static_cast<double>(i % 7); });
  if (procpar::mpi::rank_of(MPI_COMM_WORLD) == victim) {
    if (std::strcmp(argv[2], "die") == 0) std::raise(SIGKILL);
    for (;;) pause();
  }
  const double sum = procpar::mpi::reduce<std::plus<>>(a.span(), 0.0);
  std::printf("survived the victim's death: sum %g\n", sum);
  MPI_Finalize();
  return 0;
}
