#!/usr/bin/env bash
# Copies the pure-Python nflows package that tools/e2e_nflows_proxy.py needs into
# <build-dir>/pyrefs, so that a build folder carried to a GPU machine (torch, but no sbi, no
# network) can time sbi's network there: scripts/e2e_compare_proxy.sh puts it on PYTHONPATH.
#   bash scripts/stage_pyrefs.sh [build-dir]      (default: build; needs: pip install nflows)
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${1:-build}
[[ $build = /* ]] || build="$repo/$build"
src=$(python3 -c "import nflows, os; print(os.path.dirname(nflows.__file__))" 2>/dev/null) ||
  { echo "nflows is not installed here: pip install nflows (sbi brings it)" >&2; exit 1; }
rm -rf "$build/pyrefs"
mkdir -p "$build/pyrefs"
cp -r "$src" "$build/pyrefs/nflows"
find "$build/pyrefs" -name __pycache__ -type d -prune -exec rm -rf {} +
echo "staged $(du -sh "$build/pyrefs" | cut -f1) of nflows into $build/pyrefs"
