"""What machine.json records of the machine a run measured: CPU, caches, memory, kernel, build,
library versions, environment and git state; and the run's default name (machine and date)."""

import datetime
import glob
import os
import platform
import re
import socket
import subprocess


def _command_output(command, cwd=None):
    try:
        result = subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return result.stdout.strip() if result.returncode == 0 else None


def _read(path):
    try:
        with open(path) as f:
            return f.read().strip()
    except OSError:
        return None


def cpu_model():
    for line in (_read("/proc/cpuinfo") or "").splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def _caches():
    """The caches as sysfs describes them, else as glibc's getconf (CPUID) does: some virtual
    machines have no cache folder in sysfs. Either may repeat what a hypervisor claims."""
    caches = []
    for index in sorted(glob.glob("/sys/devices/system/cpu/cpu0/cache/index*")):
        caches.append({key: _read(os.path.join(index, key))
                       for key in ("level", "type", "size", "shared_cpu_list")})
    if caches:
        return caches
    values = {}
    for line in (_command_output(["getconf", "-a"]) or "").splitlines():
        words = line.split()
        if len(words) == 2 and words[0].startswith("LEVEL") and words[1].isdigit():
            values[words[0]] = int(words[1])
    for level, kind, key in ((1, "Instruction", "LEVEL1_ICACHE"), (1, "Data", "LEVEL1_DCACHE"),
                             (2, "Unified", "LEVEL2_CACHE"), (3, "Unified", "LEVEL3_CACHE"),
                             (4, "Unified", "LEVEL4_CACHE")):
        if values.get(key + "_SIZE"):
            caches.append({"level": level, "type": kind, "size_bytes": values[key + "_SIZE"],
                           "line_bytes": values.get(key + "_LINESIZE"), "source": "getconf"})
    return caches


def _cpu_flags():
    """The vector extensions the compiler's -march=native may have used."""
    for line in (_read("/proc/cpuinfo") or "").splitlines():
        if line.startswith("flags"):
            flags = line.split(":", 1)[1].split()
            return [f for f in flags if f.startswith(("avx", "sse4", "fma", "bmi"))]
    return []


def _memory_bytes():
    for line in (_read("/proc/meminfo") or "").splitlines():
        if line.startswith("MemTotal:"):
            return int(line.split()[1]) * 1024
    return None


def _physical_cores():
    cores = set()
    physical = None
    for line in (_read("/proc/cpuinfo") or "").splitlines():
        if line.startswith("physical id"):
            physical = line.split(":", 1)[1].strip()
        elif line.startswith("core id"):
            cores.add((physical, line.split(":", 1)[1].strip()))
    return len(cores) or None


def _packages(patterns):
    output = _command_output(
        ["dpkg-query", "-W", "-f=${Package}\t${Version}\t${db:Status-Abbrev}\n"] + patterns)
    versions = {}
    for line in (output or "").splitlines():
        name, version, status = (line.split("\t") + ["", ""])[:3]
        if status.startswith("ii"):
            versions[name] = version
    return versions


def _os_name():
    for line in (_read("/etc/os-release") or "").splitlines():
        if line.startswith("PRETTY_NAME="):
            return line.split("=", 1)[1].strip('"')
    return None


def _bazelrc_build_flags(workspace):
    text = _read(os.path.join(workspace, ".bazelrc")) if workspace else None
    flags = []
    for line in (text or "").splitlines():
        words = line.split()
        if words and words[0] == "build":
            flags.extend(words[1:])
    return flags


def git_state(workspace):
    commit = _command_output(["git", "rev-parse", "HEAD"], cwd=workspace) if workspace else None
    dirty = None
    if commit:
        dirty = bool(_command_output(
            ["git", "status", "--porcelain", "--untracked-files=no"], cwd=workspace))
    return {"commit": commit, "dirty": dirty}


def describe(workspace, python, compilation_mode, copts):
    """The machine, the build (Bazel's compilation mode and the project's compiler flags, as
    experiments/BUILD passes them) and the source tree (`workspace`, for .bazelrc and git);
    `python` is the reference scripts' interpreter."""
    return {
        "hostname": socket.gethostname(),
        "cpu": {"model": cpu_model(), "logical_cores": os.cpu_count(),
                "physical_cores": _physical_cores(), "caches": _caches(),
                "vector_flags": _cpu_flags()},
        "memory_bytes": _memory_bytes(),
        "os": _os_name(),
        "kernel": platform.release(),
        "transparent_hugepage": {
            "enabled": _read("/sys/kernel/mm/transparent_hugepage/enabled"),
            "shmem_enabled": _read("/sys/kernel/mm/transparent_hugepage/shmem_enabled")},
        "compiler": (_command_output([os.environ.get("CC", "gcc"), "--version"]) or "").split(
            "\n")[0] or None,
        "build": {"compilation_mode": compilation_mode, "project_copts": list(copts),
                  "bazelrc_build_flags": _bazelrc_build_flags(workspace)},
        "libraries": _packages(["libtbb*", "libopenblas*", "libbenchmark*", "libgomp1",
                                "python3", "python3-numpy", "g++"]),
        "python": _command_output([python, "-c", "import sys; print(sys.version)"]),
        "environment": {k: v for k, v in sorted(os.environ.items())
                        if k.startswith(("OPENBLAS_", "GOTO_", "OMP_", "TBB_"))},
        "git": git_state(workspace),
    }


def default_run_name(now=None):
    """The machine and the date: 'amd-epyc-2c-20261123-2107'."""
    now = now or datetime.datetime.now()
    model = re.sub(r"\((r|tm)\)|\b(cpu|processor)\b|@.*$", "", cpu_model().lower())
    model = re.sub(r"[^a-z0-9]+", "-", model).strip("-") or "cpu"
    return f"{model}-{os.cpu_count()}c-{now:%Y%m%d-%H%M%S}"
