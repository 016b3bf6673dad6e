#!/bin/sh
# Builds the .ecw fuzz target (clang libFuzzer + ASan + UBSan) and runs it for
# SECONDS (default 180) on a copy of the committed seed corpus.
#   tests/fuzz/run_ecw.sh [SECONDS] [OUTDIR]
set -eu
SECS=${1:-180}
OUT=${2:-/tmp/effcam-fuzz}
SRC=$(cd "$(dirname "$0")/../.." && pwd)
mkdir -p "$OUT/corpus_ecw"
CFLAGS="-std=c11 -O1 -g -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer -D_GNU_SOURCE"
INC="-I$SRC/include -I$SRC/lib -I/usr/include/x86_64-linux-gnu/openblas-pthread"
clang $CFLAGS $INC "$SRC/tests/fuzz/fuzz_ecw.c" $SRC/lib/*.c $SRC/lib/ops/*.c $SRC/lib/cam/*.c \
  -lopenblas -lz -lm -lpthread -o "$OUT/fuzz_ecw"
cp -n "$SRC/tests/fuzz/corpus/ecw/"* "$OUT/corpus_ecw/" 2>/dev/null || true
(cd "$OUT" && OPENBLAS_NUM_THREADS=1 ./fuzz_ecw -max_total_time="$SECS" -rss_limit_mb=2048 -max_len=400000 \
   -print_final_stats=1 corpus_ecw > fuzz_ecw.log 2>&1) || { echo "fuzz_ecw FAILED, see $OUT/fuzz_ecw.log"; tail -40 "$OUT/fuzz_ecw.log"; exit 1; }
grep -E "stat::number_of_executed_units|stat::peak_rss_mb|Done|cov:" "$OUT/fuzz_ecw.log" | tail -4
