"""Compiler flags shared by every C++ target of the project."""

# -march=native: the numbers we publish are for the machine that built the binary, and the
# peers (OpenBLAS, oneTBB) dispatch to its vector units too, so ours should as well.
PROJECT_COPTS = [
    "-std=c++20",
    "-Wall",
    "-Wextra",
    "-Werror=return-type",
    "-march=native",
]

# For targets whose own sources use OpenMP pragmas: copts do not propagate to dependents, so
# depending on //third_party:openmp links libgomp but leaves the pragmas ignored (gcc only warns
# about unknown pragmas under -Wall, and num_threads() parameters turn up unused).
OPENMP_COPTS = ["-fopenmp"]
