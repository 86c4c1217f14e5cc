// A job in which one rank fails in the middle of an MpiPool map, for rank_death_test.sh:
//   mpi_pool_death_main VICTIM_RANK die|stall TOKEN
// Rank 0 maps a task over the servers (or, at one rank, runs it itself). A server victim fails
// inside a task, on its fifth item; a victim of rank 0 with servers fails while the map is out.
// `die` is SIGKILL (Open MPI's default is to abort the whole job); `stall` waits, alive,
// forever (only the test harness's time limit ends that job). TOKEN is only there so that the
// test can find any process of this job left behind.
#include <mpi.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <thread>
#include <tuple>
#include <vector>

#include "mpi/mpi_pool.h"

namespace {

bool stall = false;  // set from argv on every rank, servers included

void fail() {
  if (!stall) std::raise(SIGKILL);
  for (;;) pause();
}

int rank_of_world() {
  int rank = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  return rank;
}

int slow_item(int victim, int item) {
  if (rank_of_world() == victim && item >= 5) fail();
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  return item;
}

}  // namespace

int main(int argc, char** argv) {
  int provided = MPI_THREAD_SINGLE;
  MPI_Init_thread(&argc, &argv, MPI_THREAD_MULTIPLE, &provided);
  if (argc != 4 || (std::strcmp(argv[2], "die") != 0 && std::strcmp(argv[2], "stall") != 0)) {
    std::fprintf(stderr, "usage: mpi_pool_death_main VICTIM_RANK die|stall TOKEN\n");
    MPI_Abort(MPI_COMM_WORLD, 2);
  }
  const int victim = std::atoi(argv[1]);
  stall = std::strcmp(argv[2], "stall") == 0;
  {
    procpar::MpiPool pool(MPI_COMM_WORLD);
    if (pool.is_driver()) {
      std::vector<std::tuple<int, int>> items;
      for (int i = 0; i < 200; ++i) items.emplace_back(victim, i);
      // At one rank the map has run inline, and the victim, rank 0, has failed in it already.
      auto mapped = pool.starmap_async(slow_item, items, 1);
      if (victim == 0) {
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
        fail();
      }
      std::printf("survived the victim's death: %zu items\n", mapped.get().size());
    }
  }
  MPI_Finalize();
  return 0;
}
