#!/bin/bash
# effcam vs ONNX Runtime vs PyTorch on this machine, in one run, interleaved.
#
#   bench/run_all.sh [--quick] [--rounds N] [--runs N] [--warmup N]
#                    [--no-torch] [--no-ort] [--out FILE]
#
# 1. builds effcam-bench and the effcam CLI (Release) in $BUILD (default build/)
# 2. builds the calibrated models (bench/peers/export_models.py: the same
#    models as tools/gen_refs.py) as .ecw + .onnx into $BUILD/bench/models/
#    (not committed; reused when present)
# 3. installs onnxruntime-node into bench/peers/node_modules if missing
#    (ONNXRUNTIME_NODE_INSTALL=skip, offline CPU binaries)
# 4. for each round, for each point (model @ size, threads): effcam, ORT,
#    PyTorch, each in a fresh process (ORDER rotates per round)
# 5. once per model: per-op profile, Grad-CAM at top/mid/early, cold start
#    of the CLI; FMA peak at 1 and 2 threads
# 6. bench/report.py prints one Markdown report and writes bench/RESULTS.md
# Defaults: 3 rounds x 20 runs (about 15-20 min on 2 shared vCPUs);
# --quick: 1 round x 5 runs.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(dirname "$HERE")"
BUILD="${BUILD:-$REPO/build}"
PY=/usr/bin/python3
ROUNDS=3 RUNS=20 WARMUP=3 COLD_RUNS=5 PROFILE_RUNS=10 TORCH=1 ORT=1
OUT="$HERE/RESULTS.md"
NOTE="${BENCH_NOTE:-}"
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) ROUNDS=1 RUNS=5 WARMUP=1 COLD_RUNS=2 PROFILE_RUNS=3 ;;
    --rounds) ROUNDS="$2"; shift ;;
    --runs) RUNS="$2"; shift ;;
    --warmup) WARMUP="$2"; shift ;;
    --no-torch) TORCH=0 ;;
    --no-ort) ORT=0 ;;
    --out) OUT="$2"; shift ;;
    --note) NOTE="$2"; shift ;;
    -h|--help) sed -n '2,22p' "$0"; exit 0 ;;
    *) echo "run_all.sh: unknown option $1" >&2; exit 2 ;;
  esac
  shift
done

MODELS="$BUILD/bench/models"
RES="$BUILD/bench/results-$(date +%Y%m%d-%H%M%S).jsonl"
mkdir -p "$MODELS"
T0=$(date +%s)
log() { echo "[$(( $(date +%s) - T0 ))s] $*" >&2; }

# ---- 1. build ---------------------------------------------------------
log "building effcam-bench and effcam (Release) in $BUILD"
cmake -S "$REPO" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$BUILD" -j2 --target effcam_bench effcam_cli >/dev/null
BENCH="$BUILD/bench/effcam-bench"
CLI="$BUILD/effcam"

# ---- 2. models ----------------------------------------------------------
log "models (.ecw + .onnx) in $MODELS"
"$PY" "$HERE/peers/export_models.py" "$MODELS" >&2

# ---- 3. ONNX Runtime ------------------------------------------------------
if [ "$ORT" = 1 ] && [ ! -d "$HERE/peers/node_modules/onnxruntime-node" ]; then
  log "installing onnxruntime-node (ONNXRUNTIME_NODE_INSTALL=skip)"
  (cd "$HERE/peers" && ONNXRUNTIME_NODE_INSTALL=skip npm install --no-audit --no-fund >&2)
fi
# PyTorch gets OpenBLAS's OpenMP build for this process only (PEERS.md)
OMP_BLAS=/usr/lib/x86_64-linux-gnu/openblas-openmp
if [ "$TORCH" = 1 ] && [ ! -e "$OMP_BLAS/libblas.so.3" ]; then
  echo "run_all.sh: $OMP_BLAS missing: apt-get install libopenblas0-openmp (or --no-torch)" >&2
  exit 1
fi

# ---- machine ------------------------------------------------------------
IMG=/work/shared/data/isic/ISIC_0000000.jpg
[ -f "$IMG" ] || IMG="$REPO/../shared/data/isic/ISIC_0000000.jpg"
emit() { # tag json
  printf '{"tag": %s, "result": %s}\n' "$1" "$2" >> "$RES"
}
emit '{"kind": "machine"}' "$("$PY" - <<PYEOF
import json, os, platform, subprocess
def sh(c):
    try: return subprocess.run(c, shell=True, capture_output=True, text=True).stdout.strip()
    except Exception: return ""
print(json.dumps({
  "cpu": sh("lscpu | sed -n 's/^Model name:[ ]*//p' | head -1"),
  "flags_avx512": "avx512f" in sh("grep -m1 flags /proc/cpuinfo"),
  "nproc": os.cpu_count(), "kernel": platform.release(),
  "hypervisor": sh("lscpu | sed -n 's/^Hypervisor vendor:[ ]*//p'"),
  "mhz": sh("lscpu | sed -n 's/^CPU MHz:[ ]*//p'"),
  "mem": sh("free -m | awk '/Mem:/ {print \$2\" MiB\"}'"),
  "loadavg_start": open("/proc/loadavg").read().split()[:3],
  "gcc": sh("gcc -dumpfullversion"), "cmake": sh("cmake --version | head -1"),
  "openblas": sh("dpkg-query -W -f='\${Version}' libopenblas0-pthread"),
  "node": sh("node --version"),
  "ort": sh("node -p \"require('$HERE/peers/node_modules/onnxruntime-node/package.json').version\""),
  "torch": sh("$PY -c 'import torch; print(torch.__version__)'"),
  "git": sh("git -C $REPO describe --always --dirty"),
  "rounds": $ROUNDS, "runs": $RUNS, "warmup": $WARMUP, "note": "$NOTE",
  "date": sh("date -u +%Y-%m-%dT%H:%M:%SZ"),
}))
PYEOF
)"

# ---- 4. interleaved rounds ---------------------------------------------------
# name  h  w
POINTS="efficientnet_b0:224:224 efficientnet_v2_s_c7:300:300 efficientnet_v2_s:384:384"
run_effcam() { "$BENCH" "$MODELS/$1.ecw" --size "$2x$3" --threads "$4" --runs "$RUNS" --warmup "$WARMUP" --json --check "$MODELS/$1"; }
run_ort() { node "$HERE/peers/ort_bench.js" "$MODELS/$1.onnx" --size "$2" "$3" --threads "$4" --runs "$RUNS" --warmup "$WARMUP" --check "$MODELS/$1"; }
run_torch() {
  LD_LIBRARY_PATH="$OMP_BLAS${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" OMP_NUM_THREADS="$4" \
    "$PY" "$HERE/peers/torch_bench.py" "$MODELS/$1.pt" --size "$2" "$3" --threads "$4" --runs "$RUNS" --warmup "$WARMUP"
}
TOOLS="effcam"
[ "$ORT" = 1 ] && TOOLS="$TOOLS ort"
[ "$TORCH" = 1 ] && TOOLS="$TOOLS torch"
for r in $(seq 1 "$ROUNDS"); do
  # rotate the order of the tools each round so none always runs first
  set -- $TOOLS; n=$#; k=$(( (r - 1) % n )); ORDER=""
  for i in $(seq 0 $((n - 1))); do j=$(( (i + k) % n + 1 )); ORDER="$ORDER ${!j}"; done
  for p in $POINTS; do
    IFS=: read -r name h w <<< "$p"
    for t in 1 2; do
      for tool in $ORDER; do
        log "round $r/$ROUNDS $name @${h}x$w $t thread(s): $tool"
        if out=$(run_$tool "$name" "$h" "$w" "$t" 2>>"$RES.stderr"); then
          emit "{\"kind\": \"latency\", \"round\": $r, \"model\": \"$name\", \"h\": $h, \"w\": $w, \"threads\": $t, \"tool\": \"$tool\"}" "$out"
        else
          log "  $tool failed (see $RES.stderr)"
        fi
      done
    done
  done
done

# ---- 5. per model: profile, Grad-CAM, cold start; FMA peak ------------------
GC_CMD=predict
if "$CLI" gradcam --help >/dev/null 2>&1; then GC_CMD=gradcam; fi
for p in $POINTS; do
  IFS=: read -r name h w <<< "$p"
  for t in 1 2; do
    log "extras $name @${h}x$w $t thread(s): profile, Grad-CAM top/mid/early, cold start ($GC_CMD)"
    if [ "$GC_CMD" = gradcam ]; then
      COLD=("$CLI" gradcam "$MODELS/$name.ecw" "$IMG" --size "${h}x$w" --threads "$t" --out "$BUILD/bench/overlay_$name.png")
    else
      COLD=("$CLI" predict "$MODELS/$name.ecw" "$IMG" --size "${h}x$w" --threads "$t")
    fi
    if out=$("$BENCH" "$MODELS/$name.ecw" --size "${h}x$w" --threads "$t" --runs "$PROFILE_RUNS" --warmup 1 \
          --profile --gradcam top,mid,early --fma-peak --json --cold-runs "$COLD_RUNS" --cold-cmd "${COLD[@]}" 2>>"$RES.stderr"); then
      emit "{\"kind\": \"extras\", \"model\": \"$name\", \"h\": $h, \"w\": $w, \"threads\": $t, \"cold_cmd\": \"$GC_CMD\"}" "$out"
    else
      log "  extras failed (see $RES.stderr)"
    fi
  done
done
log "done: $RES"

# ---- 6. report ----------------------------------------------------------------
"$PY" "$HERE/report.py" "$RES" --out "$OUT"
log "wrote $OUT"
