#!/usr/bin/python3
"""Generates the image-path test fixtures and Pillow / torchvision references.

usage: image_fixtures.py OUTDIR [ISIC_DIR]

Writes OUTDIR/gen/*.jpg|png (every kind the decoder handles), OUTDIR/ref/*.rgb
(raw RGB8 references) and OUTDIR/manifest.txt, one line per check:

  image ref policy filter out_w out_h flags dct_ratio bg_r bg_g bg_b tol

policy: 0 stretch, 1 crop (224/256), 2 letterbox; filter: effcam_filter
values; flags: EFFCAM_IMG_* bits; tol: mean |diff| per channel allowed.
Orientation references use PIL.ImageOps.exif_transpose (independent of the
C code). Resize references use Pillow's resize (same filter) and, for the
crop policy, torchvision's Resize + CenterCrop.
"""
import io
import os
import sys

import numpy as np
from PIL import Image, ImageOps

try:
    import torchvision.transforms as T
except Exception:  # torchvision optional: crop refs then computed by hand
    T = None

OUT = sys.argv[1]
ISIC = sys.argv[2] if len(sys.argv) > 2 else ""
os.makedirs(os.path.join(OUT, "gen"), exist_ok=True)
os.makedirs(os.path.join(OUT, "ref"), exist_ok=True)
lines = []

FILTERS = {0: Image.BILINEAR, 1: Image.BICUBIC, 2: Image.LANCZOS, 3: Image.NEAREST, 4: Image.BOX}
TV = {0: "BILINEAR", 1: "BICUBIC", 2: "LANCZOS", 3: "NEAREST", 4: "BOX"}


def pattern(w, h, seed=0):
    """Smooth gradients + sharp edges + a little noise: exercises filters."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:h, 0:w].astype(np.float64)
    r = 255 * x / max(w - 1, 1)
    g = 255 * y / max(h - 1, 1)
    b = 128 + 100 * np.sin(x / 7.0) * np.cos(y / 5.0)
    img = np.stack([r, g, b], -1)
    img[(x // 16 + y // 16) % 2 == 0] *= 0.6  # checker edges
    img[: h // 5, : w // 5] = [255, 0, 0]  # an asymmetric marker top-left
    img += rng.normal(0, 4, img.shape)
    return np.clip(img, 0, 255).astype(np.uint8)


def save_ref(name, arr):
    p = os.path.join(OUT, "ref", name + ".rgb")
    np.ascontiguousarray(arr, dtype=np.uint8).tofile(p)
    return p


def add(img_path, ref_arr, refname, policy, filt, ow, oh, flags=0, dct=2, bg=(0, 0, 0), tol=1.0):
    rp = save_ref(refname, ref_arr)
    lines.append(f"{img_path} {rp} {policy} {filt} {ow} {oh} {flags} {dct} {bg[0]} {bg[1]} {bg[2]} {tol}")


def pil_resize_policy(im, policy, filt, ow, oh, bg):
    W, H = im.size
    if policy == 0:
        return np.asarray(im.resize((ow, oh), FILTERS[filt]))
    if policy == 1:
        R = min(ow, oh) * 256 // 224
        if T is not None:
            t = T.Compose([T.Resize(R, interpolation=getattr(T.InterpolationMode, TV[filt])),
                           T.CenterCrop((oh, ow))])
            return np.asarray(t(im))
        if W <= H:
            nw, nh = R, int(R * H / W)
        else:
            nw, nh = int(R * W / H), R
        r = im.resize((nw, nh), FILTERS[filt])
        top, left = int(round((nh - oh) / 2.0)), int(round((nw - ow) / 2.0))
        return np.asarray(r)[top:top + oh, left:left + ow]
    s = min(ow / W, oh / H)
    sx, sy = max(1, min(ow, int(round(W * s)))), max(1, min(oh, int(round(H * s))))
    canvas = Image.new("RGB", (ow, oh), tuple(bg))
    canvas.paste(im.resize((sx, sy), FILTERS[filt]), ((ow - sx) // 2, (oh - sy) // 2))
    return np.asarray(canvas)


gen = lambda n: os.path.join(OUT, "gen", n)

# ---- JPEG kinds ------------------------------------------------------------
base = pattern(203, 157, 1)
im = Image.fromarray(base)
kinds = {
    "j420": dict(quality=90, subsampling=2),
    "j444": dict(quality=95, subsampling=0),
    "j422": dict(quality=90, subsampling=1),
    "jprog": dict(quality=90, progressive=True),
    "jrst": dict(quality=85, restart_marker_blocks=2) if False else dict(quality=85),
}
for k, kw in kinds.items():
    im.save(gen(k + ".jpg"), **kw)
im.convert("L").save(gen("jgray.jpg"), quality=90)
im.convert("CMYK").save(gen("jcmyk.jpg"), quality=95)

# EXIF orientations 1..8: the stored image is the upright one transformed
# by the inverse of the orientation; exif_transpose gives the reference.
up = Image.fromarray(pattern(96, 64, 2))
INV = {1: None, 2: Image.FLIP_LEFT_RIGHT, 3: Image.ROTATE_180, 4: Image.FLIP_TOP_BOTTOM,
       5: Image.TRANSPOSE, 6: Image.ROTATE_90, 7: Image.TRANSVERSE, 8: Image.ROTATE_270}
for o in range(1, 9):
    stored = up if INV[o] is None else up.transpose(INV[o])
    ex = Image.Exif()
    ex[0x0112] = o
    p = gen(f"orient{o}.jpg")
    stored.save(p, quality=95, exif=ex.tobytes())
    ref = np.asarray(ImageOps.exif_transpose(Image.open(p)).convert("RGB"))
    assert ref.shape[:2] == (64, 96), ref.shape
    add(p, ref, f"orient{o}_id", 0, 0, 96, 64, 0, 2, tol=0.0)
    r2 = ImageOps.exif_transpose(Image.open(p)).convert("RGB").resize((40, 30), Image.BILINEAR)
    add(p, np.asarray(r2), f"orient{o}_rs", 0, 0, 40, 30, 0, 2, tol=1.0)

# ---- PNG kinds ---------------------------------------------------------------
rgba = np.dstack([base, (np.arange(203)[None, :] * 255 // 202).repeat(157, 0).astype(np.uint8)])
Image.fromarray(base).save(gen("prgb.png"))
Image.fromarray(rgba, "RGBA").save(gen("prgba.png"))
Image.fromarray(base).convert("L").save(gen("pgray.png"))
Image.fromarray(rgba, "RGBA").convert("LA").save(gen("pgraya.png"))
Image.fromarray(base).convert("P", palette=Image.ADAPTIVE, colors=64).save(gen("ppal.png"))
pal = Image.fromarray(base).convert("P", palette=Image.ADAPTIVE, colors=16)
pal.info["transparency"] = 3
pal.save(gen("ppaltrns.png"), transparency=3)
Image.fromarray(base).convert("1").save(gen("pbit1.png"))
Image.fromarray(base).save(gen("prgb_il.png"), interlace=1) if False else None
# 16-bit and interlaced via raw writing (Pillow cannot write RGB16 / Adam7)
import struct, zlib


def write_png(path, arr, color_type, depth, interlace=False, plte=None, trns=None):
    h, w = arr.shape[:2]
    ch = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}[color_type]
    a = arr.reshape(h, w, ch)

    def rows(sub):
        out = b""
        for row in sub:
            if depth == 16:
                raw = row.astype(">u2").tobytes()
            elif depth == 8:
                raw = row.astype(np.uint8).tobytes()
            else:
                vals = row.reshape(-1).astype(np.uint8)
                per = 8 // depth
                pad = (-len(vals)) % per
                vals = np.concatenate([vals, np.zeros(pad, np.uint8)]).reshape(-1, per)
                raw = bytes(int(sum(int(v) << (8 - depth * (i + 1)) for i, v in enumerate(g))) for g in vals)
            out += b"\x00" + raw
        return out

    if not interlace:
        data = rows(a)
    else:
        data = b""
        for (x0, y0, dx, dy) in [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)]:
            sub = a[y0::dy, x0::dx]
            if sub.shape[0] and sub.shape[1]:
                data += rows(sub)

    def chunk(t, d):
        return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d) & 0xFFFFFFFF)

    s = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, depth, color_type, 0, 0, 1 if interlace else 0))
    if plte is not None:
        s += chunk(b"PLTE", plte)
    if trns is not None:
        s += chunk(b"tRNS", trns)
    s += chunk(b"tEXt", b"Comment\x00effcam fixture") + chunk(b"IDAT", zlib.compress(data, 9)) + chunk(b"IEND", b"")
    open(path, "wb").write(s)


b16 = (base.astype(np.uint32) * 257 + np.random.default_rng(3).integers(0, 257, base.shape)).astype(np.uint16)
write_png(gen("p16rgb.png"), b16, 2, 16)
write_png(gen("p16gray.png"), b16[:, :, 0], 0, 16)
a16 = np.dstack([b16, (np.arange(203)[None, :] * 65535 // 202).repeat(157, 0)]).astype(np.uint16)
write_png(gen("p16rgba.png"), a16, 6, 16)
write_png(gen("prgb_il.png"), base, 2, 8, interlace=True)
write_png(gen("prgba_il.png"), rgba, 6, 8, interlace=True)
write_png(gen("p16rgb_il.png"), b16, 2, 16, interlace=True)
idx = (base[:, :, 0] // 16).astype(np.uint8)
plte = bytes(np.stack([np.arange(16) * 16, 255 - np.arange(16) * 16, np.arange(16) * 8], 1).astype(np.uint8).reshape(-1))
write_png(gen("ppal4_il.png"), idx, 3, 4, interlace=True, plte=plte, trns=bytes([255, 128, 0]))
write_png(gen("pgray2.png"), (base[:, :, 1] // 64).astype(np.uint8), 0, 2)
write_png(gen("tiny_il.png"), base[:3, :2], 2, 8, interlace=True)  # passes with no pixels

# CMYK (Adobe, inverted) against Pillow's own CMYK -> RGB conversion
add(gen("jcmyk.jpg"), np.asarray(Image.open(gen("jcmyk.jpg")).convert("RGB")), "jcmyk_id", 0, 0, 203, 157, 3, 2, tol=1.0)
add(gen("jgray.jpg"), np.asarray(Image.open(gen("jgray.jpg")).convert("RGB")), "jgray_id", 0, 0, 203, 157, 3, 2, tol=0.0)
add(gen("ppal.png"), np.asarray(Image.open(gen("ppal.png")).convert("RGB")), "ppal_id", 0, 0, 203, 157, 3, 2, tol=0.0)

# resize references on the generated kinds (Pillow; RGB conversion composited in C the same way)
for k in ["j420", "j444", "jgray", "jprog", "prgb", "ppal", "pgray"]:
    p = gen(k + (".jpg" if k.startswith("j") else ".png"))
    src = Image.open(p).convert("RGB")
    for filt in (0, 1, 2):
        add(p, pil_resize_policy(src, 0, filt, 64, 48, (0, 0, 0)), f"{k}_s{filt}", 0, filt, 64, 48, 2, 2)
    add(p, pil_resize_policy(src, 2, 2, 80, 80, (0, 0, 0)), f"{k}_lb", 2, 2, 80, 80, 2, 2)
# upscale
add(gen("prgb.png"), pil_resize_policy(Image.open(gen("prgb.png")).convert("RGB"), 0, 1, 330, 290, (0, 0, 0)),
    "prgb_up", 0, 1, 330, 290, 2, 2)

# ---- ISIC photos ---------------------------------------------------------------
if ISIC and os.path.isdir(ISIC):
    photos = sorted(f for f in os.listdir(ISIC) if f.lower().endswith(".jpg"))[:5]
    for i, f in enumerate(photos):
        p = os.path.join(ISIC, f)
        src = Image.open(p).convert("RGB")
        n = os.path.splitext(f)[0]
        # the users' pipeline: 300x300 stretch, LANCZOS, no DCT scaling
        add(p, pil_resize_policy(src, 0, 2, 300, 300, (0, 0, 0)), f"{n}_users", 0, 2, 300, 300, 2, 2)
        if i < 2:
            for filt in (0, 1, 3, 4):
                add(p, pil_resize_policy(src, 0, filt, 300, 300, (0, 0, 0)), f"{n}_s{filt}", 0, filt, 300, 300, 2, 2)
            for filt in (0, 1, 2):
                add(p, pil_resize_policy(src, 1, filt, 224, 224, (0, 0, 0)), f"{n}_c{filt}", 1, filt, 224, 224, 2, 2)
                add(p, pil_resize_policy(src, 2, filt, 300, 300, (114, 114, 114)), f"{n}_l{filt}", 2, filt, 300, 300, 2, 2,
                    (114, 114, 114))
            # DCT scaling: Pillow draft() to the requested size, then the same filter
            d = Image.open(p)
            d.draft("RGB", (300, 300))
            add(p, np.asarray(d.convert("RGB").resize((300, 300), Image.BILINEAR)), f"{n}_dct", 0, 0, 300, 300, 0, 1)
            d = Image.open(p)
            W, H = d.size
            R = 256
            nw, nh = (R, int(R * H / W)) if W <= H else (int(R * W / H), R)
            d.draft("RGB", (nw, nh))
            r = d.convert("RGB").resize((nw, nh), Image.BILINEAR)
            top, left = int(round((nh - 224) / 2.0)), int(round((nw - 224) / 2.0))
            add(p, np.asarray(r)[top:top + 224, left:left + 224], f"{n}_dctc", 1, 0, 224, 224, 0, 1)

# Colormap references: matplotlib's 256-entry tables, 8-bit, for jet, turbo,
# viridis, inferno, gray (in effcam_colormap's order), 5 x 256 x 3 bytes.
try:
    from matplotlib import colormaps as _cms
    _tab = [np.round(np.asarray(_cms[n](np.arange(256)))[:, :3] * 255).astype(np.uint8)
            for n in ("jet", "turbo", "viridis", "inferno", "gray")]
    np.concatenate(_tab).tofile(os.path.join(OUT, "cmaps.rgb"))
except ImportError:
    print("matplotlib missing (apt-get install python3-matplotlib): no colormap references")

with open(os.path.join(OUT, "manifest.txt"), "w") as fh:
    fh.write("\n".join(lines) + "\n")
print(f"{len(lines)} checks written to {OUT}/manifest.txt")
