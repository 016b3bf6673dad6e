#!/bin/sh
# Builds the image fuzz targets with clang (libFuzzer + ASan + UBSan) and runs
# each for SECONDS (default 180) on a copy of the committed seed corpus.
#   tests/fuzz/run.sh [SECONDS] [OUTDIR]
set -eu
SECS=${1:-180}
OUT=${2:-/tmp/effcam-fuzz}
SRC=$(cd "$(dirname "$0")/../.." && pwd)
mkdir -p "$OUT"
CFLAGS="-std=c11 -O1 -g -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer"
LIBSRC="$SRC/lib/image/*.c $SRC/lib/status.c"
INC="-I$SRC/include -I$SRC/lib -I$SRC/lib/image"
for kind in jpeg png; do
  def=""; [ "$kind" = png ] && def="-DFUZZ_PNG"
  clang $CFLAGS $def $INC "$SRC/tests/fuzz/fuzz_image.c" $LIBSRC -ljpeg -lpng16 -lz -lm -o "$OUT/fuzz_$kind"
  mkdir -p "$OUT/corpus_$kind"
  cp -n "$SRC/tests/fuzz/corpus/$kind/"* "$OUT/corpus_$kind/" 2>/dev/null || true
done
for kind in jpeg png; do
  echo "== fuzz_$kind for ${SECS}s"
  (cd "$OUT" && ./fuzz_$kind -max_total_time="$SECS" -rss_limit_mb=2048 -max_len=200000 \
     -print_final_stats=1 "corpus_$kind" > "fuzz_$kind.log" 2>&1) || { echo "fuzz_$kind FAILED, see $OUT/fuzz_$kind.log"; tail -40 "$OUT/fuzz_$kind.log"; exit 1; }
  grep -E "stat::number_of_executed_units|stat::peak_rss_mb|Done" "$OUT/fuzz_$kind.log" || tail -3 "$OUT/fuzz_$kind.log"
done
