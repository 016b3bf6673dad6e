"""Procedural "synthetic lesion" images for effcam's Grad-CAM demo model.

Every image is a function of (seed, size) only: ``make_image(seed, size)``
returns ``(image uint8 [size, size, 3], mask bool [size, size], label int)``.
The geometry is drawn in units of the image size, so the same seed rendered
at 112 and at 224 pixels shows the same scene.

Scene: a textured skin-toned background (several skin tones, smooth
low-frequency blotches, a lighting gradient, pores, freckles), distractors
(hair strokes, small dark dots, sometimes air bubbles or a ruler at one edge)
and, unless the label is 0, exactly ONE lesion with its binary mask:

  0  no lesion          background and distractors only (mask all False)
  1  round, even        near-circular ellipse, one even brown tone,
                        sharp regular border
  2  irregular          asymmetric lobed outline with a ragged border and
                        several colours (brown, black, blue-grey, red)

The lesion's centre, size and rotation are random and independent of the
label (centres anywhere in the image, lesions may be cut by the border), so
neither position nor size is a shortcut for the class.

numpy + PIL only; no file I/O here (see make_heldout.py).
"""
import math

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

LABELS = ["no lesion", "round even-coloured lesion",
          "irregular multi-coloured lesion"]
CLASS_PROBS = (0.2, 0.4, 0.4)

# Base skin tones (RGB), light to dark.
SKIN_TONES = np.array([
    (244, 208, 186), (236, 192, 164), (224, 172, 138), (210, 154, 120),
    (190, 132, 98), (164, 110, 80), (136, 90, 64), (110, 72, 52),
], dtype=np.float32)


def _smooth_noise(rng, size, grid, amp=1.0):
    """Zero-mean smooth noise: a random grid x grid field, bicubic upsampled."""
    g = rng.standard_normal((grid, grid)).astype(np.float32)
    im = Image.fromarray(g, mode="F").resize((size, size), Image.BICUBIC)
    return np.asarray(im, dtype=np.float32) * amp


def _background(rng, S):
    tone = SKIN_TONES[rng.integers(len(SKIN_TONES))].copy()
    tone *= rng.uniform(0.93, 1.07, 3).astype(np.float32)   # per-person tint
    img = np.empty((S, S, 3), np.float32)
    img[:] = tone
    # smooth blotches (brightness and slight redness), two octaves
    lum = _smooth_noise(rng, S, 4, 0.05) + _smooth_noise(rng, S, 9, 0.025)
    red = _smooth_noise(rng, S, 6, 0.035)
    img *= (1.0 + lum)[..., None]
    img[..., 0] *= 1.0 + red
    img[..., 1] *= 1.0 - 0.5 * red
    # lighting gradient
    yy, xx = np.mgrid[0:S, 0:S].astype(np.float32) / S
    a = rng.uniform(0, 2 * math.pi)
    grad = (np.cos(a) * (xx - 0.5) + np.sin(a) * (yy - 0.5)) * rng.uniform(0, 0.18)
    img *= (1.0 + grad)[..., None]
    # fine skin texture: pores (tiny darker specks) + pixel grain
    grain = rng.standard_normal((S, S)).astype(np.float32) * rng.uniform(1.5, 4.0)
    img += grain[..., None]
    n_pores = int(rng.uniform(0.004, 0.012) * S * S)
    py, px = rng.integers(0, S, n_pores), rng.integers(0, S, n_pores)
    img[py, px] *= rng.uniform(0.82, 0.94, (n_pores, 1)).astype(np.float32)
    return img, tone


def _soft_disc(S, cx, cy, r, soft):
    yy, xx = np.mgrid[0:S, 0:S].astype(np.float32)
    d = np.sqrt((xx - cx) ** 2 + (yy - cy) ** 2)
    return np.clip((r - d) / max(soft, 1e-3) + 0.5, 0.0, 1.0)


def _blend(img, alpha, color):
    a = alpha[..., None]
    img *= 1.0 - a
    img += a * np.asarray(color, np.float32)


def _freckles(rng, img, tone, S):
    for _ in range(rng.integers(0, 14)):
        cx, cy = rng.uniform(0, S, 2)
        r = rng.uniform(0.006, 0.016) * S
        col = tone * rng.uniform(0.72, 0.88) * np.array([1.0, 0.92, 0.85])
        _blend(img, _soft_disc(S, cx, cy, r, 0.6 + 0.01 * S) * rng.uniform(0.3, 0.6), col)


def _dark_dots(rng, img, S):
    """Small dark dots (comedones, dirt, tiny nevi): much smaller than lesions."""
    for _ in range(rng.integers(0, 6)):
        cx, cy = rng.uniform(0, S, 2)
        r = rng.uniform(0.008, 0.022) * S
        col = rng.uniform(25, 80) * np.array([1.0, 0.85, 0.75])
        _blend(img, _soft_disc(S, cx, cy, r, 0.5 + 0.004 * S) * rng.uniform(0.6, 0.95), col)


def _bubbles(rng, img, S):
    for _ in range(rng.integers(1, 4)):
        cx, cy = rng.uniform(0, S, 2)
        r = rng.uniform(0.02, 0.06) * S
        w = max(0.9, 0.008 * S)
        ring = _soft_disc(S, cx, cy, r, w) - _soft_disc(S, cx, cy, r - 1.5 * w, w)
        _blend(img, np.clip(ring, 0, 1) * 0.55, (250, 250, 250))
        hl = _soft_disc(S, cx - 0.35 * r, cy - 0.35 * r, 0.22 * r, w)
        _blend(img, hl * 0.7, (255, 255, 255))


def _overlay_strokes(rng, img, S, hair, ruler):
    """Hair strokes and a ruler, drawn with PIL at 2x and downsampled."""
    if not hair and not ruler:
        return None
    k = 2
    layer = Image.new("L", (S * k, S * k), 0)
    ruler_layer = Image.new("L", (S * k, S * k), 0)
    dr = ImageDraw.Draw(ruler_layer)
    color_layer = Image.new("RGB", (S * k, S * k), (0, 0, 0))
    dl, dc = ImageDraw.Draw(layer), ImageDraw.Draw(color_layer)
    for _ in range(hair):
        x, y = rng.uniform(-0.1, 1.1, 2) * S * k
        ang = rng.uniform(0, 2 * math.pi)
        length = rng.uniform(0.2, 0.7) * S * k
        curv = rng.uniform(-0.06, 0.06)
        n = 16
        pts = []
        for _ in range(n + 1):
            pts.append((x, y))
            x += math.cos(ang) * length / n
            y += math.sin(ang) * length / n
            ang += curv + rng.normal(0, 0.03)
        width = max(1, int(round(rng.uniform(0.006, 0.014) * S * k)))
        shade = int(rng.uniform(15, 70))
        col = (shade, int(shade * 0.8), int(shade * 0.65))
        op = int(rng.uniform(150, 235))
        dl.line(pts, fill=op, width=width)
        dc.line(pts, fill=col, width=width)
    if ruler:
        side = rng.integers(4)
        depth = rng.uniform(0.07, 0.11) * S * k
        L = S * k
        # a light strip along one edge with dark ticks
        if side in (0, 1):   # top / bottom
            y0 = 0 if side == 0 else L - depth
            dl.rectangle([0, y0, L, y0 + depth], fill=235)
            dr.rectangle([0, y0, L, y0 + depth], fill=255)
            dc.rectangle([0, y0, L, y0 + depth], fill=(238, 236, 225))
            step = rng.uniform(0.03, 0.05) * L
            t, i = rng.uniform(0, step), 0
            while t < L:
                h = depth * (0.6 if i % 5 == 0 else 0.35)
                ya, yb = (y0, y0 + h) if side == 0 else (y0 + depth - h, y0 + depth)
                dc.line([(t, ya), (t, yb)], fill=(30, 30, 30), width=k)
                t, i = t + step, i + 1
        else:                # left / right
            x0 = 0 if side == 2 else L - depth
            dl.rectangle([x0, 0, x0 + depth, L], fill=235)
            dr.rectangle([x0, 0, x0 + depth, L], fill=255)
            dc.rectangle([x0, 0, x0 + depth, L], fill=(238, 236, 225))
            step = rng.uniform(0.03, 0.05) * L
            t, i = rng.uniform(0, step), 0
            while t < L:
                h = depth * (0.6 if i % 5 == 0 else 0.35)
                xa, xb = (x0, x0 + h) if side == 2 else (x0 + depth - h, x0 + depth)
                dc.line([(xa, t), (xb, t)], fill=(30, 30, 30), width=k)
                t, i = t + step, i + 1
    alpha = np.asarray(layer.resize((S, S), Image.BOX), np.float32) / 255.0
    col = np.asarray(color_layer.resize((S, S), Image.BOX), np.float32)
    # colour was drawn on black: un-premultiply by the coverage
    cov = np.asarray(layer.point(lambda v: 255 if v else 0).resize((S, S), Image.BOX),
                     np.float32)[..., None] / 255.0
    col = np.where(cov > 0, col / np.maximum(cov, 1e-3), 0)
    img *= 1.0 - alpha[..., None]
    img += alpha[..., None] * col
    return np.asarray(ruler_layer.resize((S, S), Image.BOX), np.float32) / 255.0


def _lesion(rng, img, tone, S, label):
    """Draw one lesion of class `label` (1 or 2). Returns its bool mask."""
    r0 = rng.uniform(0.075, 0.19) * S
    cx, cy = rng.uniform(0.06, 0.94, 2) * S
    rot = rng.uniform(0, 2 * math.pi)
    yy, xx = np.mgrid[0:S, 0:S].astype(np.float32)
    dx, dy = xx - cx, yy - cy
    # rotate into the lesion's frame
    u = dx * math.cos(rot) + dy * math.sin(rot)
    v = -dx * math.sin(rot) + dy * math.cos(rot)
    if label == 1:
        aspect = rng.uniform(1.0, 1.3)
        d = np.sqrt((u / math.sqrt(aspect)) ** 2 + (v * math.sqrt(aspect)) ** 2)
        rad = np.full_like(d, r0)
        soft = 0.6 + 0.004 * S                       # sharp border
    else:
        theta = np.arctan2(v, u)
        d = np.sqrt(u ** 2 + v ** 2)
        rf = np.ones_like(theta)
        for k in range(2, 6):                        # asymmetric lobes
            rf += rng.uniform(0.05, 0.16) / (k ** 0.3) * np.cos(k * theta + rng.uniform(0, 2 * math.pi))
        for k in (9, 13, 17, 23):                    # ragged border
            rf += rng.uniform(0.02, 0.05) * np.cos(k * theta + rng.uniform(0, 2 * math.pi))
        rad = r0 * rf
        # border roughness that also varies with distance (notches, spikes)
        rad = rad + _smooth_noise(rng, S, 14, 0.06 * r0)
        soft = 0.8 + 0.012 * S * rng.uniform(0.3, 1.0)  # partly blurry border
    alpha = np.clip((rad - d) / soft + 0.5, 0.0, 1.0)
    mask = d < rad
    if label == 1:
        # one even brown tone, clearly darker than the skin, tiny texture
        base = tone * rng.uniform(0.35, 0.6) * np.array([1.0, 0.82, 0.7])
        col = np.empty((S, S, 3), np.float32)
        col[:] = base
        col *= (1.0 + _smooth_noise(rng, S, 5, 0.03))[..., None]
        _blend(img, alpha, 0)
        img += alpha[..., None] * col
    else:
        palette = np.array([
            tone * 0.45 * np.array([1.0, 0.78, 0.62]),  # mid brown
            tone * 0.3 * np.array([1.0, 0.75, 0.6]),    # dark brown
            (30, 22, 22),                               # black
            (95, 105, 130),                             # blue-grey
            (170, 60, 55),                              # red
        ], np.float32)
        n_col = rng.integers(3, 6)
        chosen = palette[np.concatenate([[0], rng.choice(np.arange(1, 5), n_col - 1, replace=False)])]
        # colour regions: argmax of several smooth random fields
        fields = np.stack([_smooth_noise(rng, S, max(4, int(S / r0 * 1.2)), 1.0)
                           for _ in range(len(chosen))])
        fields[0] += 0.3
        idx = np.argmax(fields, axis=0)
        col = chosen[idx]
        col = np.asarray(Image.fromarray(np.clip(col, 0, 255).astype(np.uint8))
                         .filter(ImageFilter.GaussianBlur(0.006 * S)), np.float32)
        col *= (1.0 + _smooth_noise(rng, S, 18, 0.08))[..., None]
        _blend(img, alpha, 0)
        img += alpha[..., None] * col
    return mask


def make_image(seed, size=112):
    """Render scene `seed` at `size` x `size`.

    Returns (image uint8 [size,size,3], mask bool [size,size], label int).
    """
    S = int(size)
    rng = np.random.default_rng(int(seed))
    label = int(rng.choice(3, p=CLASS_PROBS))
    # separate, label-independent streams for background and distractors so
    # that the scene around the lesion does not depend on the class
    rng_bg = np.random.default_rng([int(seed), 1])
    rng_ds = np.random.default_rng([int(seed), 2])
    rng_ls = np.random.default_rng([int(seed), 3])
    img, tone = _background(rng_bg, S)
    _freckles(rng_ds, img, tone, S)
    _dark_dots(rng_ds, img, S)
    if label:
        mask = _lesion(rng_ls, img, tone, S, label)
    else:
        mask = np.zeros((S, S), bool)
    if rng_ds.random() < 0.25:
        _bubbles(rng_ds, img, S)
    hair = int(rng_ds.choice([0, 0, 1, 2, 3, 5]))
    ruler = rng_ds.random() < 0.2
    covered = _overlay_strokes(rng_ds, img, S, hair, ruler)
    if covered is not None:          # a ruler lying over the lesion hides it
        mask &= covered < 0.5
    return np.clip(img + 0.5, 0, 255).astype(np.uint8), mask, label


if __name__ == "__main__":
    import sys
    import time
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 16
    size = int(sys.argv[2]) if len(sys.argv) > 2 else 112
    out = sys.argv[3] if len(sys.argv) > 3 else "/tmp/demo/synth_grid.png"
    t = time.time()
    ims = [make_image(s, size) for s in range(n)]
    dt = time.time() - t
    cols = 8
    rows = (n + cols - 1) // cols
    grid = np.zeros((rows * size, cols * size * 2, 3), np.uint8)
    for i, (im, m, lab) in enumerate(ims):
        r, c = divmod(i, cols)
        grid[r * size:(r + 1) * size, c * 2 * size:c * 2 * size + size] = im
        grid[r * size:(r + 1) * size, c * 2 * size + size:(c + 1) * 2 * size] = m[..., None] * 255
    import os
    os.makedirs(os.path.dirname(out), exist_ok=True)
    Image.fromarray(grid).save(out)
    print("labels", [l for _, _, l in ims])
    print("%.2f ms/image" % (1000 * dt / n), "->", out)
