#!/usr/bin/python3
"""Rebuild the small committed test fixture (tests run it without torch):

    /usr/bin/python3 tools/gen_fixture.py [OUT_DIR]   (default tests/fixtures)

writes OUT_DIR/tiny_effnet.ecw, OUT_DIR/tiny_effnet.manifest.json (same
schema as tools/gen_refs.py's manifest.json; file names relative to the
manifest's directory) and OUT_DIR/tiny_effnet.<case>.<key>.f32.

The model is an EfficientNet built from torchvision's classes with custom
stages (the way a user builds a small model):
  features.0  stem conv 3x3 s2, 3->8, SiLU
  features.1  FusedMBConv e1 k3 s1 8->8        (single conv, residual add)
  features.2  FusedMBConv e2 k3 s2 8->16, x2   (expand+project; 2nd: add)
  features.3  MBConv e2 k3 s2 16->24 + SE, x2  (2nd: add)
  features.4  MBConv e3 k5 s2 24->32 + SE
  features.5  top conv 1x1 32->64, SiLU         (default Grad-CAM tap)
  classifier  Dropout, Linear 64->5
Deterministic: seed 0, one thread, the ISIC photos for calibration/input.
"""
import argparse
import json
import os
import sys
import time
from functools import partial

import numpy as np
import torch
import torch.nn as nn
from torchvision.models.efficientnet import EfficientNet, FusedMBConvConfig, MBConvConfig

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ecw  # noqa: E402
import export_torchvision as ex  # noqa: E402
import gen_refs as gr  # noqa: E402

NAME = "tiny_effnet"
LABELS = ["class_a", "class_b", "class_c", "class_d", "class_e"]
SIZES = [(64, 64), (37, 53)]
TAPS = ["features.1", "features.3", "features.5"]
CAM_TAPS = ["features.3", "features.5"]


def build_tiny(seed=0, num_classes=5):
    torch.manual_seed(seed)
    setting = [
        FusedMBConvConfig(1, 3, 1, 8, 8, 1),
        FusedMBConvConfig(2, 3, 2, 8, 16, 2),
        MBConvConfig(2, 3, 2, 16, 24, 2),
        MBConvConfig(3, 5, 2, 24, 32, 1),
    ]
    m = EfficientNet(setting, dropout=0.2, stochastic_depth_prob=0.1, num_classes=num_classes,
                     norm_layer=partial(nn.BatchNorm2d, eps=1e-3), last_channel=64)
    return m.eval()


def make_tiny(seed=0, image_dir=None):
    m = build_tiny(seed)
    ex.calibrate(m, ex.calibration_images(8, 64, seed, image_dir), seed,
                 head_images=ex.whole_photos(64, image_dir))
    return m


def export_tiny(model, path):
    # eval transform of a small custom model: stretch, bilinear
    return ex.export_model(model, path, NAME, (64, 64), labels=LABELS,
                           resize=("stretch", "bilinear", 1, 1))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("out", nargs="?", default=os.path.join(ex.REPO, "tests", "fixtures"))
    ap.add_argument("--isic-dir", default=None)
    a = ap.parse_args(argv)
    torch.set_num_threads(1)
    t0 = time.time()
    os.makedirs(a.out, exist_ok=True)
    model = make_tiny(0, a.isic_dir)
    rel = ex.self_check_fold(model)
    ecw_path = os.path.join(a.out, NAME + ".ecw")
    w = export_tiny(model, ecw_path)
    mdict = ecw.read(ecw_path)
    f16 = ex.folded_fp16_model(model)
    entry = {"name": NAME, "arch": "custom EfficientNet (tools/gen_fixture.py)", "ecw": NAME + ".ecw",
             "classes": len(LABELS), "hw": [64, 64], "default_tap": mdict["default_tap"],
             "taps": TAPS, "cam_taps": CAM_TAPS, "labels": "tiny", "fold_self_check_rel": rel,
             "ecw_bytes": os.path.getsize(ecw_path), "cases": []}
    for i, (h, wd) in enumerate(SIZES):
        f = gr.ISIC_FILES[i]
        x = gr.isic_image(f, (h, wd), a.isic_dir)
        src = f + " stretched (PIL bilinear)"
        if x is None:
            print("!!! WARNING: ISIC photos not found, fixture input is random !!!", file=sys.stderr)
            x, src = gr.random_image((h, wd), 100 + i), "uniform random seed %d" % (100 + i)
        r = gr.torch_refs(model, f16, mdict, x, TAPS, cam_taps=CAM_TAPS, targets=("logit",))
        entry["cases"].append(gr.write_case(a.out, NAME, "%dx%d" % (h, wd), "ref", x, r, src))
    man = {"generator": "tools/gen_fixture.py", "torch": torch.__version__, "seed": 0,
           "doc": gr.manifest_doc(), "models": [entry]}
    with open(os.path.join(a.out, NAME + ".manifest.json"), "w") as fh:
        json.dump(man, fh, indent=1)
    files = [p for p in os.listdir(a.out) if p.startswith(NAME + ".")]
    tot = sum(os.path.getsize(os.path.join(a.out, p)) for p in files)
    print("%s: %d ops, %d tensors, %d taps, %d bytes; fixture %d files, %d bytes total; "
          "fold rel %.2g; %.1fs" % (ecw_path, len(w.ops), len(w.tensors), len(w.taps),
                                    entry["ecw_bytes"], len(files), tot, rel, time.time() - t0))


if __name__ == "__main__":
    main()
