#!/usr/bin/python3
"""Build the benchmark models once and write each in both formats.

    /usr/bin/python3 bench/peers/export_models.py OUT_DIR [--only NAME...]

For every model point of the benchmark this builds the SAME calibrated
torchvision model as tools/gen_refs.py (tools/export_torchvision.make(arch,
classes, seed=0): random init + BN calibration), then writes
  OUT_DIR/NAME.ecw        tools/export_torchvision.export_model (as gen_refs)
  OUT_DIR/NAME.onnx       torch.onnx.export of folded_fp16_model(model): BN
                          folded, weights rounded to fp16 and held as fp32,
                          i.e. exactly the numbers the .ecw holds
  OUT_DIR/NAME.pt         the same folded module's state, for torch_bench.py
  OUT_DIR/NAME.check.json a NCHW-normalised probe's logits (torch), so the
                          peers can check they run the same function
  OUT_DIR/NAME.probe.f32  that probe, NHWC [h,w,3] raw little-endian float32
                          (already normalised: effcam's EFFCAM_INPUT_NORMALIZED)
  OUT_DIR/NAME.probe_logits.f32  the folded module's logits on it [classes]
Nothing here is committed (build/bench/ is a build folder).
"""
import argparse
import json
import os
import sys
import time

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(REPO, "tools"))
import export_torchvision as ex  # noqa: E402

# name, arch, classes, input hw, labels (None -> imagenet)
POINTS = [
    ("efficientnet_b0", "efficientnet_b0", 1000, (224, 224)),
    ("efficientnet_v2_s_c7", "efficientnet_v2_s", 7, (300, 300)),
    ("efficientnet_v2_s", "efficientnet_v2_s", 1000, (384, 384)),
]
ISIC7 = ["MEL", "NV", "BCC", "AKIEC", "BKL", "DF", "VASC"]  # as tools/gen_refs.py
OPSET = 13


def probe(hw):
    return torch.from_numpy(np.random.RandomState(1).uniform(-2, 2, (1, 3) + tuple(hw)).astype(np.float32))


def write_probe(out, name, module, hw):
    x = probe(hw)
    with torch.no_grad():
        y = module(x)[0].numpy().astype("<f4")
    x[0].permute(1, 2, 0).contiguous().numpy().astype("<f4").tofile(os.path.join(out, name + ".probe.f32"))
    y.tofile(os.path.join(out, name + ".probe_logits.f32"))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("out")
    ap.add_argument("--only", nargs="*", default=None)
    ap.add_argument("--force", action="store_true", help="rebuild even if the files exist")
    a = ap.parse_args(argv)
    ex.set_threads()
    os.makedirs(a.out, exist_ok=True)
    for name, arch, ncls, hw in POINTS:
        if a.only and name not in a.only:
            continue
        files = [os.path.join(a.out, name + s) for s in (".ecw", ".onnx", ".pt", ".check.json")]
        if not a.force and all(os.path.exists(f) for f in files):
            if not os.path.exists(os.path.join(a.out, name + ".probe_logits.f32")):
                write_probe(a.out, name, torch.load(files[2]).eval(), hw)
            print("%s: up to date" % name, flush=True)
            continue
        t0 = time.time()
        model = ex.make(arch, ncls, seed=0)
        labels = ex.imagenet_labels(arch) if ncls == 1000 else ISIC7
        ex.export_model(model, files[0], name, hw, labels=labels, arch=arch)
        f16 = ex.folded_fp16_model(model).eval()
        x = probe(hw)
        with torch.no_grad():
            ref = f16(x)[0].double().numpy()
            torch.onnx.export(f16, x, files[1], input_names=["input"], output_names=["logits"],
                              opset_version=OPSET, do_constant_folding=True)
        torch.save(f16, files[2])
        write_probe(a.out, name, f16, hw)
        with open(files[3], "w") as f:
            json.dump({"name": name, "arch": arch, "classes": ncls, "hw": list(hw), "opset": OPSET,
                       "probe": "NCHW float32 uniform(-2,2) RandomState(1), already normalised",
                       "logits_first8": [float(v) for v in ref[:8]], "argmax": int(ref.argmax()),
                       "torch": torch.__version__}, f, indent=1)
        print("%s: %s %d classes @%dx%d: ecw %d B, onnx %d B, %.1fs" % (
            name, arch, ncls, hw[0], hw[1], os.path.getsize(files[0]), os.path.getsize(files[1]),
            time.time() - t0), flush=True)


if __name__ == "__main__":
    main()
