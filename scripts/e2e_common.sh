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
