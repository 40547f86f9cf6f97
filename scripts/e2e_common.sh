# Sourced by scripts/e2e_compare*.sh: the checks and the set-up every sbi-vs-cusbi comparison
# shares. Defines e2e_require <cusbi-binary>, e2e_devices (fills the array `devices` with cpu,
# and cuda when both torch and the driver see a GPU) and e2e_machine_line.

e2e_require() {  # e2e_require <binary>: the cusbi side is built and sbi is installed
  [[ -x $1 ]] || { echo "no $1: build the $(basename "$1") target" >&2; exit 1; }
  python3 -c "import sbi" 2>/dev/null || { echo "sbi is not installed: pip install sbi" >&2; exit 1; }
}

e2e_devices() {
  devices=(cpu)
  if command -v nvidia-smi >/dev/null && nvidia-smi -L >/dev/null 2>&1 &&
     python3 -c "import torch, sys; sys.exit(not torch.cuda.is_available())" 2>/dev/null; then
    devices+=(cuda)
  fi
}

e2e_machine_line() {  # e2e_machine_line <threads> <repeats>
  echo "machine: $(lscpu | sed -n 's/^Model name: *//p' | head -n 1), $(nproc) cores;" \
       "threads $1; repeats $2 (medians); load average $(cut -d' ' -f1-3 /proc/loadavg)"
}

# e2e_init [build-dir] [repeats]: the compare scripts' arguments and settings: build (absolute),
# repeats (default 3), threads (E2E_THREADS, default 2) and work, a folder removed at exit.
# Needs `repo` set.
e2e_init() {
  build=${1:-build}
  [[ $build = /* ]] || build="$repo/$build"
  repeats=${2:-3}
  threads=${E2E_THREADS:-2}
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
}

# e2e_run_pair <device> <sbi-script> [sbi options..] -- [cusbi options..]: both sides on the
# device with --device, --repeats (and --threads / OMP_NUM_THREADS), into $work/sbi_<device>.json
# and $work/cusbi_<device>.json ($cusbi_bin; its file is removed when it cannot run there).
e2e_run_pair() {
  local device=$1 script=$2
  shift 2
  local sbi_options=()
  while [[ $1 != -- ]]; do sbi_options+=("$1"); shift; done
  shift
  echo "== $device: sbi"
  python3 "$script" --device "$device" --threads "$threads" --repeats "$repeats" \
    "${sbi_options[@]}" >"$work/sbi_$device.json"
  echo "== $device: cusbi"
  if ! OMP_NUM_THREADS=$threads "$cusbi_bin" --device "$device" --repeats "$repeats" "$@" \
      >"$work/cusbi_$device.json"; then
    echo "cusbi could not run on $device (a build without CUDA?): skipped" >&2
    rm -f "$work/cusbi_$device.json"
  fi
}
