"""The cc_library of the primitives' layer packages."""

load("@rules_cc//cc:defs.bzl", "cc_library")
load("//bazel:copts.bzl", "PROJECT_COPTS")

def primitives_library(name, copts = [], **kwargs):
    """A cc_library whose headers are included as "primitives/<file>.h" from any layer.

    The folders under primitives/ show the layers (pool front end, transports, shared memory,
    algorithms), but which layer a header lives in is the library's business, not its users':
    the include path stays short and does not change when a header moves between layers.
    """
    cc_library(
        name = name,
        copts = PROJECT_COPTS + copts,
        strip_include_prefix = "/" + native.package_name(),
        include_prefix = "primitives",
        **kwargs
    )
