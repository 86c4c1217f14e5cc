// The seed's dense matrix-vector product (process-based-parallelism.md, "Dense Matrix Vector
// Multiplication"):
//
//   "The clear winner is serial numpy. There is just no way to beat optimized C BLAS for dense
//    numerical linear algebra."
//
// y = A x (A row-major, in shared memory) by the library's row-partitioned matvec on the process
// and thread pools, against OpenBLAS cblas_dgemv (what numpy.dot calls) with one thread and with
// p threads, OpenMP threads running the same kernel on the same blocks of rows, and the serial
// kernel.
// Shapes: square, tall (many short rows) and wide (few long rows). The CPython reference
// (python/matvec_blas.py) measures numpy itself and the seed's multiprocessing matvec.
//
// Benchmarks: matvec/{serial,openblas_serial}/n/rows/cols,
// matvec/{process,thread,openmp,openblas}/n/rows/cols/p (n = rows * cols, for the tidy tables).
// Counters: bytes_per_second (A, x and y once), flops.
#include <cblas.h>
#include <omp.h>

#include <cmath>
#include <cstdint>
#include <memory>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "benchmark/benchmark.h"
#include "experiments/bulk_support.h"
#include "experiments/experiment_main.h"
#include "experiments/profile.h"
#include "primitives/matvec.h"
#include "primitives/process_pool.h"
#include "primitives/shared_array.h"
#include "primitives/thread_pool.h"

namespace procpar::experiments {
namespace {

// The operands of one shape, written before timing (every page touched), with
// the exact product and the rounding bound of each row for checking every backend's answer.
struct Operands {
  Operands(std::size_t rows, std::size_t cols)
      : rows(rows), cols(cols), a(rows * cols), x(cols), y(rows), exact(rows), bound(rows) {
    std::mt19937_64 rng(rows * 31 + cols);
    std::uniform_real_distribution<double> value(-1, 1);
    for (std::size_t i = 0; i < rows * cols; ++i) a[i] = value(rng);
    for (std::size_t c = 0; c < cols; ++c) x[c] = value(rng);
    for (std::size_t r = 0; r < rows; ++r) {
      long double sum = 0, magnitude = 0;
      for (std::size_t c = 0; c < cols; ++c) {
        const long double term = static_cast<long double>(a[r * cols + c]) * x[c];
        sum += term;
        magnitude += std::fabs(term);
      }
      exact[r] = static_cast<double>(sum);
      bound[r] = 2 * static_cast<double>(cols + 1) * 0x1p-53 * static_cast<double>(magnitude);
      y[r] = 0;
    }
  }
  std::size_t rows, cols;
  RawArray<double> a, x, y;
  std::vector<double> exact, bound;
};

bool check(benchmark::State& state, const Operands& m) {
  for (std::size_t r = 0; r < m.rows; ++r) {
    if (!(std::fabs(m.y[r] - m.exact[r]) <= m.bound[r] + 1e-300)) {
      state.SkipWithError(("row " + std::to_string(r) + ": " + std::to_string(m.y[r]) +
                           " is not " + std::to_string(m.exact[r]))
                              .c_str());
      return false;
    }
  }
  return true;
}

// Times `multiply` (writes m.y) and checks y after the last iteration.
template <class Multiply>
void run(benchmark::State& state, Multiply multiply) {
  Operands& m = inputs_of<Operands>(state.range(1), state.range(2));
  for (std::size_t r = 0; r < m.rows; ++r) m.y[r] = 0;
  // Warm-up, untimed: a pool's workers map the arrays the first time a task touches them.
  for (int call = 0; call < 2; ++call) multiply(m);
  if (!check(state, m)) return;
  for (std::size_t r = 0; r < m.rows; ++r) m.y[r] = 0;
  for (auto _ : state) {
    multiply(m);
    benchmark::ClobberMemory();
  }
  if (!check(state, m)) return;
  const auto calls = static_cast<std::int64_t>(state.iterations());
  const auto elements = static_cast<std::int64_t>(m.rows * m.cols);
  state.SetBytesProcessed(calls * 8 * (elements + static_cast<std::int64_t>(m.rows + m.cols)));
  state.counters["flops"] =
      benchmark::Counter(2.0 * static_cast<double>(calls * elements), benchmark::Counter::kIsRate);
}

void serial(benchmark::State& state) {
  run(state, [](Operands& m) {
    matvec_rows(m.a.data(), m.cols, m.x.data(), m.y.data(), 0, m.rows);
  });
}

template <class PoolType>
void on_pool(benchmark::State& state) {
  PoolType& pool = pool_of<PoolType>(state.range(3));
  run(state, [&pool](Operands& m) {
    matvec(pool, m.a.span(), m.rows, m.cols, m.x.span(), m.y.span());
  });
}

void openmp(benchmark::State& state) {
  const int p = static_cast<int>(state.range(3));
  run(state, [p](Operands& m) {
    const double* a = m.a.data();
    const double* x = m.x.data();
    double* y = m.y.data();
    const std::size_t rows = m.rows, cols = m.cols;
    // One contiguous block of rows per thread through the pools' kernel: the same work split
    // the same way, so this row isolates the runtime (OpenMP threads against pool tasks).
#pragma omp parallel num_threads(p)
    {
      const auto thread = static_cast<std::size_t>(omp_get_thread_num());
      const auto threads = static_cast<std::size_t>(omp_get_num_threads());
      matvec_rows(a, cols, x, y, rows * thread / threads, rows * (thread + 1) / threads);
    }
  });
}

void openblas(benchmark::State& state, int threads) {
  openblas_set_num_threads(threads);
  run(state, [](Operands& m) {
    cblas_dgemv(CblasRowMajor, CblasNoTrans, static_cast<blasint>(m.rows),
                static_cast<blasint>(m.cols), 1.0, m.a.data(), static_cast<blasint>(m.cols),
                m.x.data(), 1, 0.0, m.y.data(), 1);
  });
}

// Square, tall and wide; the large ones (A of 128-512 MiB) are memory bound, the small square
// one fits in the caches.
std::vector<std::pair<std::int64_t, std::int64_t>> shapes() {
  if (is_quick()) return {{256, 256}, {2048, 2048}, {1 << 16, 16}, {16, 1 << 16}};
  return {{1024, 1024}, {8192, 8192}, {1 << 21, 16}, {16, 1 << 21}, {1 << 16, 1024}, {1024, 1 << 16}};
}

void register_benchmarks() {
  for (const auto& [rows, cols] : shapes()) {
    benchmark::RegisterBenchmark("matvec/serial", serial)
        ->ArgNames({"n", "rows", "cols"})->Args({rows * cols, rows, cols})->UseRealTime();
    benchmark::RegisterBenchmark("matvec/openblas_serial", openblas, 1)
        ->ArgNames({"n", "rows", "cols"})->Args({rows * cols, rows, cols})->UseRealTime();
    for (std::int64_t p : worker_counts()) {
      const std::vector<std::int64_t> args = {rows * cols, rows, cols, p};
      benchmark::RegisterBenchmark("matvec/process", on_pool<ProcessPool>)
          ->ArgNames({"n", "rows", "cols", "p"})->Args(args)->UseRealTime();
      benchmark::RegisterBenchmark("matvec/thread", on_pool<ThreadPool>)
          ->ArgNames({"n", "rows", "cols", "p"})->Args(args)->UseRealTime();
      benchmark::RegisterBenchmark("matvec/openmp", openmp)
          ->ArgNames({"n", "rows", "cols", "p"})->Args(args)->UseRealTime();
      benchmark::RegisterBenchmark("matvec/openblas", [](benchmark::State& state) {
        openblas(state, static_cast<int>(state.range(3)));
      })->ArgNames({"n", "rows", "cols", "p"})->Args(args)->UseRealTime();
    }
  }
}

}  // namespace
}  // namespace procpar::experiments

int main(int argc, char** argv) {
  procpar::experiments::keep_freed_memory();
  return procpar::experiments::run_experiment(argc, argv, "matvec_blas",
                                               procpar::experiments::register_benchmarks);
}
