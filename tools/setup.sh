#!/usr/bin/env bash
# Installs everything effcam needs on Debian, idempotently. Run as root (or
# with sudo available). Safe to run again: it only installs what is missing.
set -euo pipefail
PKGS="build-essential cmake pkg-config libopenblas-dev libjpeg62-turbo-dev libpng-dev zlib1g-dev libcmocka-dev"
if [ "${EFFCAM_WITH_TORCH:-0}" = 1 ]; then
  PKGS="$PKGS python3-torch python3-torchvision python3-numpy python3-h5py python3-pil python3-matplotlib python3-onnx"
fi
missing=""
for p in $PKGS; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
  echo "setup: installing:$missing"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
else
  echo "setup: all packages present"
fi
