#!/usr/bin/env bash
# Installs every dependency of the project from Debian's packages, and nothing else.
# Idempotent and fast when everything is there: one dpkg-query, no apt call.
#
#   scripts/setup.sh          what building, testing and running experiments need
#   scripts/setup.sh paper    that, plus LaTeX for the report
set -euo pipefail

packages=(
  # Build: Bazel 4 (Debian) and the local rule repositories it builds offline with.
  bazel-bootstrap bazel-bootstrap-source g++ make
  # Libraries: tests, benchmarks, and the peers we measure against.
  libgtest-dev libgmock-dev libbenchmark-dev libbenchmark-tools libopenblas-dev libtbb-dev
  # Analysis and the CPython reference scripts (Debian's /usr/bin/python3, not PyPI).
  python3 python3-numpy python3-pandas python3-scipy python3-matplotlib
  # Public-domain English text for the word-count job.
  bible-kjv
  # MPI (mpi/, //third_party:mpi): Open MPI 4.1, its headers and mpirun.
  libopenmpi-dev openmpi-bin
)
if [[ "${1:-}" == paper ]]; then
  packages+=(texlive-latex-base texlive-latex-recommended texlive-fonts-recommended
             texlive-latex-extra lmodern latexmk poppler-utils)
fi

missing=()
for p in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${db:Status-Abbrev}' "$p" 2>/dev/null || true)
  [[ "$status" == ii* ]] || missing+=("$p")
done
if [[ ${#missing[@]} -eq 0 ]]; then
  exit 0
fi

echo "setup: installing ${missing[*]}" >&2
if [[ $(id -u) -ne 0 ]]; then
  echo "setup: installing packages needs root (apt-get); run as root or install: ${missing[*]}" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
# debconf's "delaying package configuration, since apt-utils is not installed", which every
# minimal Debian prints and which changes nothing; apt's own errors still show.
export DEBCONF_NOWARNINGS=yes
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "setup: done" >&2
