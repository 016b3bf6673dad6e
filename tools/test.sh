#!/usr/bin/env bash
# The whole test suite, from a fresh Debian machine:
#   installs what is missing (apt-get, idempotent; PyTorch included, for the
#   golden references), builds twice (Release, and ASan+UBSan), generates the
#   PyTorch references (not committed), runs every test in both builds.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
JOBS=${JOBS:-2}
# the shared test data (ISIC photos, Keras models); override for a git worktree
SHARED=${EFFCAM_SHARED_DATA:-"$ROOT/../shared/data"}
EFFCAM_WITH_TORCH=1 bash tools/setup.sh

echo "== build (Release)"
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DEFFCAM_REFS_DIR="$ROOT/build/refs" \
  -DEFFCAM_ONNX_REFS_DIR="$ROOT/build/onnx_refs" -DEFFCAM_SHARED_DATA="$SHARED" >/dev/null
cmake --build build -j"$JOBS"
export EFFCAM_REQUIRE_REFS=1

echo "== PyTorch references"
# regenerated only when a generator changed (a stamp of their hashes)
STAMP=$(cat tools/gen_refs.py tools/export_torchvision.py tools/ecw.py tools/ecw_interp.py | sha256sum | cut -c1-16)
for set in core extra; do
  dir=build/refs; [ "$set" = extra ] && dir=build/refs_extra
  if [ -f $dir/manifest.json ] && [ "$(cat $dir/.stamp 2>/dev/null)" = "$STAMP" ]; then
    echo "up to date ($dir)"
  else
    /usr/bin/python3 tools/gen_refs.py "$ROOT/$dir" --set $set
    echo "$STAMP" > $dir/.stamp
  fi
done

echo "== ONNX exports + PyTorch references (effcam convert)"
STAMP=$(cat tools/gen_onnx_refs.py tools/export_torchvision.py | sha256sum | cut -c1-16)
if [ -f build/onnx_refs/manifest.json ] && [ "$(cat build/onnx_refs/.stamp 2>/dev/null)" = "$STAMP" ]; then
  echo "up to date (build/onnx_refs)"
else
  /usr/bin/python3 tools/gen_onnx_refs.py "$ROOT/build/onnx_refs"
  echo "$STAMP" > build/onnx_refs/.stamp
fi

echo "== Keras models from ../shared/data/keras -> build/keras/*.ecw"
if [ -d "$SHARED/keras" ]; then
  mkdir -p build/keras
  export EFFCAM_KERAS_DIR="$ROOT/build/keras"
  for f in "$SHARED"/keras/*.keras; do
    n=$(basename "$f" .keras)
    /usr/bin/python3 tools/keras2ecw.py "$f" "build/keras/$n.ecw" >/dev/null
    /usr/bin/python3 tools/keras2ecw.py "$f" "build/keras/$n.f32.ecw" --f32-weights >/dev/null
  done
else
  echo "SKIPPED: $SHARED/keras absent: the Keras tests will skip"
fi

echo "== tests (Release)"
ctest --test-dir build --output-on-failure -j1 | tee build/ctest-release.log

echo "== install: pkg-config and find_package consumers"
bash tests/install/check.sh

echo "== build (ASan + UBSan)"
cmake -S . -B build-san -DEFFCAM_SANITIZE=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DEFFCAM_REFS_DIR="$ROOT/build/refs" -DEFFCAM_ONNX_REFS_DIR="$ROOT/build/onnx_refs" -DEFFCAM_SHARED_DATA="$SHARED" -DEFFCAM_BUILD_BENCH=OFF >/dev/null
cmake --build build-san -j"$JOBS"
echo "== tests (ASan + UBSan)"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  ctest --test-dir build-san --output-on-failure -j1 | tee build-san/ctest-san.log

if [ -d tests/py ]; then
  echo "== Python tool tests"
  pass=0; fail=0
  for t in tests/py/test_*.py; do
    if /usr/bin/python3 "$t"; then pass=$((pass+1)); else fail=$((fail+1)); echo "FAILED: $t"; fi
  done
  echo "python: $pass passed, $fail failed"
  [ "$fail" = 0 ]
fi
n_rel=$(sed -n 's/.*tests failed out of \([0-9]*\).*/\1/p' build/ctest-release.log | tail -1)
n_san=$(sed -n 's/.*tests failed out of \([0-9]*\).*/\1/p' build-san/ctest-san.log | tail -1)
echo "ALL TESTS PASSED: Release ctest $n_rel, ASan+UBSan ctest $n_san, install 2, python ${pass:-0}"
echo "effcam: $(( ${n_rel:-0} + ${n_san:-0} + 2 + ${pass:-0} )) passed, 0 failed"
