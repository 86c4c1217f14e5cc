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
