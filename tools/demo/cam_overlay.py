"""Predict + Grad-CAM overlay for an .ecw file, in Python (reference).

    /usr/bin/python3 tools/demo/cam_overlay.py weights/demo_lesions.ecw \
        examples/lesion.png -o /tmp/lesion_cam.png

Runs the .ecw itself through tools/ecw_interp.py (PyTorch functional ops,
no .pt file needed): stretch to the model's input size (bilinear), the
file's preprocessing, top classes, Grad-CAM of the predicted class's logit
at the file's default tap (channel weights = spatial mean of the gradient,
ReLU, divided by the max), bilinear upsampling to the ORIGINAL image size
and a jet overlay with alpha 0.4. A stand-in for the C command line until
it has a Grad-CAM command, and a reference to compare it with.
"""
import argparse
import os
import sys

import numpy as np
import torch
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
from export_demo import find_tools, interp_gradcam  # noqa: E402
from pointing_game import jet_overlay  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("ecw")
    ap.add_argument("image")
    ap.add_argument("-o", "--out", default="lesion_cam.png")
    ap.add_argument("--tools-dir", default=None)
    args = ap.parse_args()
    torch.set_num_threads(1)
    sys.path.insert(0, find_tools(args.tools_dir))
    import ecw_interp  # noqa: E402
    m = ecw_interp.load(args.ecw)
    im = np.asarray(Image.open(args.image).convert("RGB"))
    h, w = m["input_hw"]
    x = np.asarray(Image.fromarray(im).resize((w, h), Image.BILINEAR), np.float32)
    r = ecw_interp.run(m, x, keep_values=False)
    for c in np.argsort(-r["probs"]):
        lab = m["labels"][c] if m["labels"] else ""
        print("%d  %.4f  %s" % (c, r["probs"][c], lab))
    g = interp_gradcam(ecw_interp, m, x)
    Image.fromarray(jet_overlay(im, g["cam"])).save(args.out)
    yy, xx = np.unravel_index(int(np.argmax(g["cam"])), g["cam"].shape)
    print("Grad-CAM of class %d at tap %s (%dx%d), max at cell (%d, %d); overlay -> %s"
          % (g["cls"], m["default_tap"], g["cam"].shape[1], g["cam"].shape[0], xx, yy, args.out))


if __name__ == "__main__":
    main()
