"""Export the trained demo model to weights/demo_lesions.ecw and write the
sample image examples/lesion.png; optionally cross-check with ecw_interp.

    /usr/bin/python3 tools/demo/export_demo.py [--model /tmp/demo/demo_lesions.pt]
        [--ecw weights/demo_lesions.ecw] [--example examples/lesion.png]
        [--tools-dir DIR] [--check 20]

Uses export_model() from tools/export_torchvision.py (searched in this
repo's tools/, then --tools-dir / $EFFCAM_EXPORTER_DIR). Preprocessing in the
file: stretch to 96x96 (bilinear; no centre crop, which could cut a lesion
near the border), ImageNet mean/std. Labels are stored in the file; the
default Grad-CAM tap is the last features block (the exporter's default).

With tools/ecw_interp.py available, --check N runs N held-out images through
the .ecw and through the PyTorch model and reports prediction agreement,
the largest logit difference and whether the Grad-CAM maxima coincide.
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
import make_heldout  # noqa: E402
import pointing_game  # noqa: E402
import synth_lesions  # noqa: E402
import train_demo  # noqa: E402


def find_tools(extra):
    for d in [os.path.join(REPO, "tools"), extra, os.environ.get("EFFCAM_EXPORTER_DIR"),
              "/work/wt/exporter/tools"]:
        if d and os.path.exists(os.path.join(d, "export_torchvision.py")):
            return d
    raise SystemExit("export_torchvision.py not found (give --tools-dir)")


def pick_example(model, n_scan=60, size=224):
    """A clear held-out irregular lesion: fully inside the image, medium
    size, confidently and correctly classified, CAM max inside the mask."""
    best = None
    for seed, im, mask, label in make_heldout.heldout_seeds(n_scan, size=train_demo.INPUT):
        if label != 2:
            continue
        ys, xs = np.nonzero(mask)
        S = mask.shape[0]
        if ys.min() < 0.12 * S or xs.min() < 0.12 * S or ys.max() > 0.88 * S or xs.max() > 0.88 * S:
            continue
        frac = mask.mean()
        if not 0.05 < frac < 0.12:
            continue
        cam, _, logits, cls = pointing_game.gradcam(model, train_demo.to_tensor(im[None]))
        p = torch.softmax(logits[0], 0)[2].item()
        yy, xx = np.unravel_index(int(cam[0].argmax()), mask.shape)
        if int(cls[0]) != 2 or not mask[yy, xx]:
            continue
        if best is None or p > best[1]:
            best = (seed, p)
    seed = best[0]
    im, mask, label = synth_lesions.make_image(seed, size)
    return seed, im, mask, label, best[1]


def interp_gradcam(ecw_interp, m, im):
    """Grad-CAM on the interpreted .ecw graph (input made to require grad so
    autograd records the graph; weights are constants there)."""
    xt = ecw_interp.preprocess(m, im).requires_grad_(True)
    with torch.enable_grad():
        logits, vals, pre = ecw_interp.forward(m, xt)
        tap = [t for t in m["taps"] if t["name"] == m["default_tap"]][0]
        A = ecw_interp.tap_tensor(m, tap, vals, pre)
        c = int(logits[0].argmax())
        g, = torch.autograd.grad(logits[0, c], A)
    w = g[0].mean(dim=(1, 2))
    cam = torch.relu((w.view(-1, 1, 1) * A[0]).sum(0)).detach().numpy()
    return dict(cls=c, cam=cam)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", default=train_demo.DEFAULT_OUT)
    ap.add_argument("--ecw", default=os.path.join(REPO, "weights", "demo_lesions.ecw"))
    ap.add_argument("--example", default=os.path.join(REPO, "examples", "lesion.png"))
    ap.add_argument("--example-size", type=int, default=224)
    ap.add_argument("--tools-dir", default=None)
    ap.add_argument("--check", type=int, default=20)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    tools = find_tools(args.tools_dir)
    sys.path.insert(0, tools)
    import export_torchvision  # noqa: E402

    model, ck = pointing_game.load_model(args.model)
    export_torchvision.export_model(
        model, args.ecw, "demo_lesions", (train_demo.INPUT, train_demo.INPUT),
        labels=list(ck["labels"]), resize=("stretch", "bilinear", 1, 1))
    print("wrote %s (%d bytes) with %s/export_torchvision.py"
          % (args.ecw, os.path.getsize(args.ecw), tools))

    if args.example:
        seed, im, mask, label, p = pick_example(model, size=args.example_size)
        os.makedirs(os.path.dirname(os.path.abspath(args.example)), exist_ok=True)
        Image.fromarray(im).save(args.example, optimize=True)
        print("wrote %s (%d bytes): held-out seed %d, %dx%d, label %r, torch p=%.3f at the model size"
              % (args.example, os.path.getsize(args.example), seed, im.shape[1], im.shape[0],
                 ck["labels"][label], p))

    if args.check and os.path.exists(os.path.join(tools, "ecw_interp.py")):
        import ecw_interp  # noqa: E402
        m = ecw_interp.load(args.ecw)
        agree, cam_agree, maxdiff, n = 0, 0, 0.0, 0
        for seed, im, mask, label in make_heldout.heldout_seeds(args.check, include_no_lesion=True, size=train_demo.INPUT):
            x = train_demo.to_tensor(im[None])
            cam, cam_lo, logits, cls = pointing_game.gradcam(model, x)
            r = ecw_interp.run(m, im.astype(np.float32), keep_values=False)
            g = interp_gradcam(ecw_interp, m, im.astype(np.float32))
            agree += int(np.argmax(r["logits"]) == int(cls[0]))
            cam_agree += int(np.argmax(g["cam"]) == int(cam_lo[0].argmax()))
            maxdiff = max(maxdiff, float(np.abs(r["logits"] - logits[0].double().numpy()).max()))
            n += 1
        print("ecw_interp vs PyTorch on %d held-out images: predictions agree %d/%d, "
              "max |logit diff| %.4g, low-res CAM argmax agree %d/%d"
              % (n, agree, n, maxdiff, cam_agree, n))
    elif args.check:
        print("ecw_interp.py not found next to the exporter: cross-check skipped")


if __name__ == "__main__":
    main()
