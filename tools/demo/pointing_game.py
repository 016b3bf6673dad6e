"""Pointing game for the demo model's Grad-CAM (PyTorch reference).

    /usr/bin/python3 tools/demo/pointing_game.py [--model /tmp/demo/demo_lesions.pt]
        [--n 300] [--fixtures tests/fixtures/lesions --n-fixtures 8]

Grad-CAM by autograd: the gradient of the PREDICTED class's logit with
respect to the output of the last `features` block (features[-1], the final
1x1 conv + BN + SiLU), channel weights = spatial mean of that gradient,
CAM = ReLU(sum_c w_c A_c), bilinearly upsampled to the image size. A hit is
an image whose CAM maximum lies inside the lesion mask. Held-out scenes are
the first N lesion scenes from seed 1000000 on (training uses seeds < 1e6),
exactly those tools/demo/make_heldout.py writes.
"""
import argparse
import json
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import make_heldout  # noqa: E402
import train_demo  # noqa: E402


def load_model(path):
    ck = torch.load(path, map_location="cpu")
    model = train_demo.build_model(len(ck["labels"]), ck.get("final_stride", 16))
    model.load_state_dict(ck["state_dict"])
    model.eval()
    return model, ck


def gradcam(model, x, layer=None, class_idx=None):
    """Batched Grad-CAM. x: normalised [N,3,H,W]. Returns (cam [N,H,W]
    upsampled, cam_lowres [N,h,w], logits [N,K], class_idx [N])."""
    layer = model.features[-1] if layer is None else layer
    store = {}

    def hook(_m, _i, out):
        out.retain_grad()
        store["a"] = out

    h = layer.register_forward_hook(hook)
    try:
        model.eval()
        x = x.clone().requires_grad_(False)
        with torch.enable_grad():
            logits = model(x)
            if class_idx is None:
                class_idx = logits.argmax(1)
            # samples are independent in eval mode, so the gradient of the
            # sum is each sample's own gradient
            sel = logits.gather(1, class_idx.view(-1, 1)).sum()
            model.zero_grad()
            sel.backward()
        a, g = store["a"].detach(), store["a"].grad.detach()
    finally:
        h.remove()
    w = g.mean(dim=(2, 3), keepdim=True)
    cam_lo = F.relu((w * a).sum(1))
    cam = F.interpolate(cam_lo[:, None], size=x.shape[2:], mode="bilinear",
                        align_corners=False)[:, 0]
    return cam, cam_lo, logits.detach(), class_idx


def jet_overlay(im, cam, alpha=0.4):
    """uint8 [H,W,3] image blended with a jet-coloured CAM (cam resized to
    the image with bilinear filtering and scaled to 0..1)."""
    from PIL import Image
    c = np.asarray(cam, np.float32)
    c = c / c.max() if c.max() > 0 else c
    if c.shape != im.shape[:2]:
        c = np.asarray(Image.fromarray(c, mode="F").resize(im.shape[1::-1], Image.BILINEAR))
    jet = np.stack([np.clip(1.5 - np.abs(4 * c - k), 0, 1) for k in (3, 2, 1)], -1)
    out = (1 - alpha) * im.astype(np.float32) + alpha * 255 * jet
    return np.clip(out + 0.5, 0, 255).astype(np.uint8)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", default=train_demo.DEFAULT_OUT)
    ap.add_argument("--n", type=int, default=300, help="held-out lesion images (>= 200)")
    ap.add_argument("--size", type=int, default=train_demo.INPUT)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--fixtures", default=None,
                    help="also write a few held-out images + masks here")
    ap.add_argument("--n-fixtures", type=int, default=8)
    ap.add_argument("--json", default=None, help="write the per-image results here")
    ap.add_argument("--grid", default=None,
                    help="write a PNG grid of the first 32 overlays (misses framed red)")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    model, ck = load_model(args.model)

    seeds, ims, masks, labels = [], [], [], []
    for seed, im, mask, label in make_heldout.heldout_seeds(args.n, size=args.size):
        seeds.append(seed)
        ims.append(im)
        masks.append(mask)
        labels.append(label)
    ims, masks, labels = np.stack(ims), np.stack(masks), np.array(labels)
    x = train_demo.to_tensor(ims)
    hits, preds, zero, cams, dists = [], [], 0, [], []
    for i in range(0, len(x), 50):
        cam, _, logits, cls = gradcam(model, x[i:i + 50])
        for j in range(len(cam)):
            c = cam[j].numpy()
            if args.grid and len(cams) < 32:
                cams.append(c)
            if c.max() <= 0:
                zero += 1
            yy, xx = np.unravel_index(int(np.argmax(c)), c.shape)
            hits.append(bool(masks[i + j][yy, xx]))
            ys, xs = np.nonzero(masks[i + j])
            dists.append(float(np.sqrt((ys - yy) ** 2 + (xs - xx) ** 2).min()))
        preds.extend(cls.tolist())
    hits, preds = np.array(hits), np.array(preds)
    n = len(hits)
    area = masks.reshape(n, -1).mean(1)
    print("held-out lesion images: %d (seeds %d..%d)" % (n, seeds[0], seeds[-1]))
    print("classification accuracy on them: %.4f" % (preds == labels).mean())
    print("POINTING GAME: CAM max inside the lesion mask in %d / %d = %.2f%%"
          % (hits.sum(), n, 100.0 * hits.mean()))
    for k in (1, 2):
        sel = labels == k
        print("  class %d (%s): %d / %d = %.2f%%" % (k, ck["labels"][k], hits[sel].sum(),
                                                     sel.sum(), 100.0 * hits[sel].mean()))
    ok = preds == labels
    print("  correctly classified (%d): %s, misclassified (%d): %s"
          % (ok.sum(), "%.2f%%" % (100 * hits[ok].mean()) if ok.any() else "-",
             (~ok).sum(), "%.2f%%" % (100 * hits[~ok].mean()) if (~ok).any() else "-"))
    dists = np.array(dists)
    print("  secondary (NOT the target metric): CAM max within 2 px of the mask %.2f%%, "
          "within 3 px %.2f%%, median miss distance %.1f px"
          % (100 * (dists <= 2).mean(), 100 * (dists <= 3).mean(),
             np.median(dists[~hits]) if (~hits).any() else 0.0))
    print("  all-zero CAMs: %d; chance level (mean mask area fraction): %.2f%%"
          % (zero, 100 * area.mean()))
    if args.grid:
        from PIL import Image
        S = args.size
        grid = np.zeros((4 * (S + 4), 8 * (S + 4), 3), np.uint8)
        for k, c in enumerate(cams):
            r, q = divmod(k, 8)
            tile = np.zeros((S + 4, S + 4, 3), np.uint8)
            tile[:] = (0, 200, 0) if hits[k] else (230, 0, 0)
            ov = jet_overlay(ims[k], c)
            yy, xx = np.unravel_index(int(np.argmax(c)), c.shape)
            ov[max(0, yy - 1):yy + 2, max(0, xx - 1):xx + 2] = 255
            tile[2:-2, 2:-2] = ov
            grid[r * (S + 4):(r + 1) * (S + 4), q * (S + 4):(q + 1) * (S + 4)] = tile
        Image.fromarray(grid).save(args.grid)
        print("wrote", args.grid)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(dict(n=n, hits=int(hits.sum()), fraction=float(hits.mean()),
                           items=[dict(seed=int(s), label=int(l), pred=int(p), hit=bool(h))
                                  for s, l, p, h in zip(seeds, labels, preds, hits)]), f, indent=1)
    if args.fixtures:
        from PIL import Image
        os.makedirs(args.fixtures, exist_ok=True)
        items = []
        for i in range(args.n_fixtures):
            stem = "lesion_%03d" % i
            Image.fromarray(ims[i]).save(os.path.join(args.fixtures, stem + ".png"), optimize=True)
            Image.fromarray(masks[i].astype(np.uint8) * 255).convert("1").save(
                os.path.join(args.fixtures, stem + "_mask.png"), optimize=True)
            items.append(dict(image=stem + ".png", mask=stem + "_mask.png", label=int(labels[i]),
                              seed=int(seeds[i]), torch_pred=int(preds[i]),
                              torch_hit=bool(hits[i])))
        with open(os.path.join(args.fixtures, "labels.json"), "w") as f:
            json.dump(dict(labels=ck["labels"], size=args.size, items=items), f, indent=1)
        print("wrote %d fixtures to %s" % (len(items), args.fixtures))
    return 0 if hits.mean() >= 0.9 else 1


if __name__ == "__main__":
    sys.exit(main())
