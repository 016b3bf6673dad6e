"""Write held-out synthetic-lesion scenes (images + masks + labels.json).

    /usr/bin/python3 tools/demo/make_heldout.py OUT_DIR [--n 200] [--size 96]
        [--seed0 1000000] [--include-no-lesion] [--ppm]

Scenes come from tools/demo/synth_lesions.py with seeds seed0, seed0+1, ...
(the training script never uses seeds >= 1000000). By default only scenes
that contain a lesion are written (the pointing game needs a mask), so
`--n 200` yields 200 lesion images. Files per scene i:

  lesion_XXX.png        RGB image, size x size (also .ppm with --ppm)
  lesion_XXX_mask.pgm   binary P5 PGM, 255 = lesion, 0 = background

and labels.json: {"labels": [...], "size": S, "items": [{"image", "mask",
"label", "seed", "mask_pixels"}]}. Needs numpy + PIL only (no torch), so a
C test can call it at test time to produce its inputs.
"""
import argparse
import json
import os
import sys

import numpy as np
from PIL import Image

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import synth_lesions  # noqa: E402

HELDOUT_SEED0 = 1_000_000


def write_pgm(path, mask):
    h, w = mask.shape
    with open(path, "wb") as f:
        f.write(b"P5\n%d %d\n255\n" % (w, h))
        f.write((mask.astype(np.uint8) * 255).tobytes())


def heldout_seeds(n, seed0=HELDOUT_SEED0, include_no_lesion=False, size=96):
    """Yield (seed, image, mask, label) for the first n qualifying scenes."""
    seed, got = seed0, 0
    while got < n:
        im, mask, label = synth_lesions.make_image(seed, size)
        if include_no_lesion or (label != 0 and mask.any()):
            yield seed, im, mask, label
            got += 1
        seed += 1


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("out")
    ap.add_argument("--n", type=int, default=200)
    ap.add_argument("--size", type=int, default=96)
    ap.add_argument("--seed0", type=int, default=HELDOUT_SEED0)
    ap.add_argument("--include-no-lesion", action="store_true")
    ap.add_argument("--ppm", action="store_true", help="also write each image as binary PPM")
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    items = []
    for i, (seed, im, mask, label) in enumerate(
            heldout_seeds(args.n, args.seed0, args.include_no_lesion, args.size)):
        stem = "lesion_%03d" % i
        Image.fromarray(im).save(os.path.join(args.out, stem + ".png"), optimize=True)
        if args.ppm:
            Image.fromarray(im).save(os.path.join(args.out, stem + ".ppm"))
        write_pgm(os.path.join(args.out, stem + "_mask.pgm"), mask)
        items.append(dict(image=stem + ".png", mask=stem + "_mask.pgm", label=int(label),
                          seed=int(seed), mask_pixels=int(mask.sum())))
    with open(os.path.join(args.out, "labels.json"), "w") as f:
        json.dump(dict(labels=synth_lesions.LABELS, size=args.size, seed0=args.seed0,
                       items=items), f, indent=1)
    print("wrote %d scenes to %s" % (len(items), args.out))


if __name__ == "__main__":
    main()
