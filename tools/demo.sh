#!/usr/bin/env bash
# The main job, from a fresh Debian machine: installs what is missing
# (apt-get, idempotent), builds, then predicts and explains the bundled
# demo image with the bundled demo model, writing demo-overlay.png (the
# heatmap over the photo, jet, alpha 0.4) and demo-panel.png.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/setup.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j"${JOBS:-2}" --target effcam_cli
MODEL=${1:-weights/demo_lesions.ecw}
IMAGE=${2:-examples/lesion.png}
echo "== the exact memory, before anything is allocated"
./build/effcam plan "$MODEL" --mode gradcam --in-place
echo "== predict"
./build/effcam predict "$MODEL" "$IMAGE" --top 3 --in-place
echo "== Grad-CAM"
./build/effcam gradcam "$MODEL" "$IMAGE" --in-place --out demo-overlay.png --panel demo-panel.png
echo "wrote demo-overlay.png and demo-panel.png"
