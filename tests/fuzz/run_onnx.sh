#!/bin/sh
# Builds the ONNX converter fuzz target (clang libFuzzer + ASan + UBSan) and
# runs it for SECONDS (default 180) on a copy of the committed seed corpus.
#   tests/fuzz/run_onnx.sh [SECONDS] [OUTDIR]
set -eu
SECS=${1:-180}
OUT=${2:-/tmp/effcam-fuzz}
SRC=$(cd "$(dirname "$0")/../.." && pwd)
mkdir -p "$OUT/corpus_onnx"
CFLAGS="-std=c11 -O1 -g -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer -D_GNU_SOURCE"
INC="-I$SRC/include -I$SRC/lib -I$SRC/tools/convert -I/usr/include/x86_64-linux-gnu/openblas-pthread"
clang $CFLAGS $INC "$SRC/tests/fuzz/fuzz_onnx.c" $SRC/tools/convert/*.c $SRC/lib/*.c $SRC/lib/ops/*.c $SRC/lib/cam/*.c \
  -lopenblas -lz -lm -lpthread -o "$OUT/fuzz_onnx"
cp -n "$SRC/tests/fuzz/corpus/onnx/"* "$OUT/corpus_onnx/" 2>/dev/null || true
(cd "$OUT" && OPENBLAS_NUM_THREADS=1 ./fuzz_onnx -max_total_time="$SECS" -rss_limit_mb=2048 -max_len=65536 \
   -print_final_stats=1 corpus_onnx > fuzz_onnx.log 2>&1) || { echo "fuzz_onnx FAILED, see $OUT/fuzz_onnx.log"; tail -40 "$OUT/fuzz_onnx.log"; exit 1; }
grep -E "stat::number_of_executed_units|stat::peak_rss_mb|Done|cov:" "$OUT/fuzz_onnx.log" | tail -4
