"""mpi_cc_test: a GoogleTest binary run under mpirun at several rank counts."""

load("@rules_cc//cc:defs.bzl", "cc_binary")
load("//bazel:copts.bzl", "PROJECT_COPTS")

def mpi_cc_test(
        name,
        srcs,
        deps = [],
        ranks = [1, 2, 3, 4],
        size = "small",
        tags = [],
        main = "//mpi:mpi_test_main"):
    """Tests NAME_np1 ... NAME_np4 (one per entry of `ranks`) and a test_suite NAME of them.

    Every rank runs every test; mpi/mpi_test_main.cc initialises MPI. `main = None`: the test's
    own sources define main(). The job is killed after
    50 s (mpi/run_under_mpirun.sh), so a rank left waiting in a collective fails the test
    rather than hanging it.
    """
    binary = name + "_binary"
    cc_binary(
        name = binary,
        testonly = True,
        srcs = srcs,
        copts = PROJECT_COPTS,
        deps = deps + ([main] if main else []),
    )
    tests = []
    for k in ranks:
        test = "%s_np%d" % (name, k)
        native.sh_test(
            name = test,
            size = size,
            srcs = ["//mpi:run_under_mpirun.sh"],
            args = [str(k), "$(location :%s)" % binary],
            data = [":" + binary],
            tags = tags,
        )
        tests.append(":" + test)
    native.test_suite(name = name, tests = tests, tags = tags)
