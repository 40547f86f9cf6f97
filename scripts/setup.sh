#!/usr/bin/env bash
# Installs what building cusbi needs on a fresh Debian 12 machine: CMake, Ninja, g++, Eigen,
# nlohmann-json, GoogleTest/GoogleMock, Google Benchmark, cairo with pkg-config (pairplot's
# SVG/PNG output), and clang with its runtimes (libFuzzer and the sanitizers: libclang-rt-dev,
# which --no-install-recommends would leave out; LLVM's OpenMP: libomp-dev) for CI's
# sanitizer + fuzzing build. Idempotent: packages already installed are skipped, and apt is not touched at
# all when nothing is missing.
# The CUDA toolkit is optional and never installed here: the build enables CUDA when nvcc is found.
set -euo pipefail

packages=(cmake ninja-build g++ libeigen3-dev nlohmann-json3-dev libgtest-dev googletest
          libgmock-dev libbenchmark-dev pkg-config libcairo2-dev clang libclang-rt-dev libomp-dev)

missing=()
for package in "${packages[@]}"; do
  # dpkg-query prints "install ok installed" only for packages that are fully installed.
  if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "ok installed"; then
    missing+=("$package")
  fi
done

if ((${#missing[@]} == 0)); then
  echo "setup: all build dependencies present"
else
  sudo=()
  if ((EUID != 0)); then
    command -v sudo >/dev/null || { echo "setup: run as root or install sudo" >&2; exit 1; }
    sudo=(sudo)
  fi
  echo "setup: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  "${sudo[@]}" apt-get update -qq
  "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  echo "setup: done"
fi

# Report the backend the build will choose, so a missing nvcc is not a surprise later.
if command -v nvcc >/dev/null; then
  echo "setup: nvcc found, the default build includes the CUDA backend"
else
  echo "setup: nvcc not on PATH, the default build is CPU-only (CUDA backend skipped)"
fi
