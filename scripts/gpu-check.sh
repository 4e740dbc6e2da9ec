#!/usr/bin/env bash
# The CUDA path of the neural coders and the ensemble, checked in one step (issue #15):
#   1. round trips of lstm, transformer and the ensemble on the GPU (a small input; a failed
#      round trip is a failed cell and stops the script with status 1);
#   2. their figures on the Bible (bits per byte, encode/decode KB/s, mix beside them as the
#      CPU reference), one cell at a time, written under results/gpu/: the JSON records in
#      results/gpu/runs and a Markdown table in results/gpu/GPU.md headed by the device.
# Budget: about 5 minutes on one GPU with the default --head (the first 500,000 bytes of the
# Bible; --head 0 takes all 4 MB, several times longer).
#
#   scripts/gpu-check.sh                          # on a machine with a CUDA GPU
#   scripts/gpu-check.sh --head 0                 # the whole Bible
#   scripts/gpu-check.sh --device cpu --dry-run   # the same steps, tiny, on CPU (a test runs it)
#
# Without a CUDA GPU (and without --device cpu) it stops at once: one line, status 2.
set -euo pipefail

device=cuda
head=500000
out=results/gpu
dry=0
while [ $# -gt 0 ]; do
  case "$1" in
    --device) device=$2; shift 2 ;;
    --head) head=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --dry-run) dry=1; shift ;;
    -h|--help) sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "gpu-check: error: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done
case "$device" in cpu|cuda) ;; *) echo "gpu-check: error: --device cpu or cuda" >&2; exit 2 ;; esac

cd "$(dirname "$0")/.."
py=${PYTHON:-.venv/bin/python}
[ -x "$py" ] || py=python3
run() { "$py" -m mdlbench.cli "$@"; }

where=$("$py" - "$device" <<'EOF'
import sys
import torch
if sys.argv[1] == "cuda":
    if not torch.cuda.is_available():
        sys.exit(3)
    print(f"{torch.cuda.get_device_name(0)}, torch {torch.__version__}, CUDA {torch.version.cuda}")
else:
    import platform
    print(f"CPU ({platform.processor() or platform.machine()}), torch {torch.__version__}")
EOF
) || { echo "gpu-check: no CUDA GPU here (torch sees none): the CUDA figures stay unmeasured;" \
            "--device cpu --dry-run runs the same steps on the CPU" >&2; exit 2; }

coders=(-c lstm -c transformer -c ensemble -c mix)
small=bible:head=20000
data=bible
[ "$head" != 0 ] && data=bible:head=$head
if [ "$dry" = 1 ]; then  # the same steps, small enough for a test on a CPU
  coders=(-c "lstm:hidden=16,embed=8" -c "transformer:layers=1,dim=16,heads=2,context=8"
          -c "ensemble:of=mix[mem=16]+lstm[hidden=16;embed=8]" -c "mix:mem=16")
  small=bible:head=2000
  data=bible:head=4000
fi

mkdir -p "$out"
echo "gpu-check: $where"
echo "gpu-check: 1/2 round trips on $device ($small)"
run run "$small" "${coders[@]}" --device "$device" -j 1 --force --quiet --results "$out/roundtrip"
echo "gpu-check: 2/2 figures on $device ($data)"
run run "$data" "${coders[@]}" --device "$device" -j 1 --force --quiet --results "$out/runs"
{
  echo "# GPU check: $where"
  echo
  echo "\`scripts/gpu-check.sh$([ "$dry" = 1 ] && echo " --device $device --dry-run")\`," \
       "$(date -u +%Y-%m-%d): $data, one cell at a time; speeds in MB/s."
  echo
  run compare "$out/runs" --format md
} > "$out/GPU.md.tmp"
mv "$out/GPU.md.tmp" "$out/GPU.md"
echo "gpu-check: wrote $out/GPU.md and the records in $out/runs"
