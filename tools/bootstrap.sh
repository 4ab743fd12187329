#!/usr/bin/env bash
# Installs what pageref needs (Debian 12 packages) and builds it into build/.
# Safe to re-run: installs only what is missing, builds incrementally.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(cmake make g++ python3 xz-utils
          clang-19 clang-tidy-19 libclang-19-dev libclang-cpp19-dev llvm-19-dev llvm-19-tools
          clang-tidy-14 nlohmann-json3-dev libgtest-dev
          clangd-19 libgrpc++-dev libgrpc-dev libprotobuf-dev libabsl-dev neovim
          bc flex bison libelf-dev libssl-dev
          linux-source-6.1 linux-source-6.12
          chromium python3-jsonschema libicu72
          dpkg-dev file man-db python3-yaml)
# The Debian package (cpack -G DEB: dpkg-shlibdeps, file), the manual page
# test (man) and the CI template tests (PyYAML).
# The report tests: headless Chromium, the JSON Schema, and the SARIF Multitool
# from npm (a self-contained .NET program: it needs ICU). A Node.js from elsewhere
# (NodeSource) brings its own npm and conflicts with Debian's npm package.
command -v npm >/dev/null || packages+=(npm)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  if [[ $(id -u) -ne 0 ]]; then
    echo "bootstrap: missing Debian packages: ${missing[*]}" >&2
    echo "bootstrap: run as root, or: sudo apt-get install -y ${missing[*]}" >&2
    exit 2
  fi
  echo "bootstrap: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q
  apt-get install -y -q "${missing[@]}"
fi

cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j "$(nproc)"
