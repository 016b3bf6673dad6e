#!/usr/bin/python3
"""Writes tests/fixtures/cam/: deterministic inputs and the expected outputs
of every CAM method, post-processing recipe, resize and Score-CAM mask,
computed by tools/cam_reference.py (numpy float64 + torch F.interpolate).

  /usr/bin/python3 tools/gen_cam_fixtures.py [--shared ../shared/data]

Output: cam.f32 (all arrays, raw little-endian float32, concatenated) and
index.txt (plain text, one record per line):
  array <key> <offset_floats> <count>
  case <name> <h> <w> <k>                      inputs <name>.A [hw*k] NHWC,
                                               <name>.G [hw*k], <name>.scores [k]
  method <case> <method>                       <case>.<method>.raw [hw],
                                               <case>.<method>.w [k]
  post <case> <method> <recipe> <H> <W> <rows> <case>.<method>.<recipe>.<H>x<W>
                                               rows: '-' = every row, else
                                               comma-separated row indices kept
  resize <name> <sh> <sw> <dh> <dw> <ac> <rows>  <name>.src, <name>.dst
  mask <case> <ch> <H> <W>                     <case>.mask<ch>.<H>x<W>
  keras <key> <h> <w> <k> <file>               Eigen-CAM of a shared-data
                                               activation (<file> under
                                               shared/data/keras): <key>.raw
"""
import argparse
import json
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cam_reference as ref  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class Writer:
    def __init__(self):
        self.blob = []
        self.off = 0
        self.lines = []

    def array(self, key, a):
        a = np.asarray(a, dtype=np.float32).ravel()
        self.lines.append("array %s %d %d" % (key, self.off, a.size))
        self.blob.append(a)
        self.off += a.size

    def line(self, s):
        self.lines.append(s)


CASES = [  # name, h, w, k, seed
    ("s1", 7, 5, 3, 11),
    ("s2", 11, 9, 40, 12),    # k < hw: k x k Gram
    ("s3", 7, 5, 40, 13),     # hw < k: hw x hw Gram
    ("s4", 1, 1, 1, 14),
    ("s5", 1, 1, 40, 15),
    ("s6", 7, 5, 1, 16),
    ("s7", 13, 11, 3, 17),
    ("s8", 9, 7, 12, 18),     # no planted component: a small eigen gap
]
POSTS = [  # case, methods, H, W, rows
    ("s1", ref.METHODS, 23, 17, None),
    ("s3", ref.METHODS, 16, 12, None),
    ("s7", ref.METHODS, 5, 4, None),            # downsampling post
    ("s2", ["gradcam", "eigencam"], 29, 37, None),
    ("s1", ["gradcam"], 224, 160, list(range(0, 4)) + list(range(110, 113)) + list(range(219, 224))),
    ("s6", ["gradcam", "layercam"], 9, 9, None),
]
RESIZES = [  # name, sh, sw, dh, dw, align_corners, rows
    ("r1", 7, 5, 224, 160, 0, list(range(0, 4)) + list(range(110, 113)) + list(range(219, 224))),
    ("r2", 7, 5, 23, 17, 0, None),
    ("r3", 13, 11, 30, 19, 0, None),
    ("r4", 13, 11, 5, 4, 0, None),
    ("r5", 13, 11, 13, 11, 0, None),
    ("r6", 1, 1, 9, 7, 0, None),
    ("r7", 13, 11, 7, 22, 0, None),
    ("r8", 4, 4, 1, 1, 0, None),
    ("r9", 10, 10, 3, 7, 0, None),
    ("r10", 3, 2, 300, 300, 0, [0, 1, 149, 298, 299]),
    ("a1", 7, 5, 23, 17, 1, None),
    ("a2", 13, 11, 5, 4, 1, None),
    ("a3", 1, 1, 3, 3, 1, None),
    ("a4", 7, 5, 1, 1, 1, None),
    ("a5", 4, 6, 1, 9, 1, None),
]
MASKS = [("s1", 0, 23, 17), ("s1", 1, 23, 17), ("s1", 2, 23, 17), ("s2", 5, 37, 29), ("s8", 3, 10, 6), ("s3", 39, 1, 1)]


def make_case(h, w, k, seed, planted=True):
    rng = np.random.default_rng(seed)
    hw = h * w
    a = rng.normal(0.5, 1.0, size=(hw, k)).astype(np.float32)
    # a dominant spatial pattern, as in real feature maps
    pat = (3.0 * np.outer(rng.normal(size=hw), rng.normal(size=k))).astype(np.float32)
    if planted:
        a += pat
    g = (rng.normal(0.0, 0.05, size=(hw, k))).astype(np.float32)
    g[rng.random(size=(hw, k)) < 0.15] = 0.0  # exact zeros (Grad-CAM++ guard)
    scores = rng.normal(0.0, 3.0, size=k).astype(np.float32)
    return a, g, scores


def sample_rows(x, rows):
    return x if rows is None else x[rows, :]


def rows_str(rows):
    return "-" if rows is None else ",".join(str(r) for r in rows)


def main():
    ap = argparse.ArgumentParser()
    shared = [os.path.join(ROOT, "..", "shared", "data"), os.path.join(ROOT, "..", "..", "shared", "data")]
    ap.add_argument("--shared", default=next((d for d in shared if os.path.isdir(d)), shared[0]))
    ap.add_argument("--out", default=os.path.join(ROOT, "tests", "fixtures", "cam"))
    args = ap.parse_args()
    W = Writer()
    maps = {}
    for name, h, w, k, seed in CASES:
        a, g, scores = make_case(h, w, k, seed, name != "s8")
        W.line("case %s %d %d %d" % (name, h, w, k))
        W.array(name + ".A", a)
        W.array(name + ".G", g)
        W.array(name + ".scores", scores)
        acts, grads = ref.to_chw(a, h, w), ref.to_chw(g, h, w)
        # Grad-CAM++ conditioning: the smallest denominator that matters
        s = acts.sum(axis=(1, 2))[:, None, None]
        den = 2 * grads ** 2 + s * grads ** 3 + 1e-6
        rel = np.abs(den[grads > 0]) / (grads[grads > 0] ** 2)
        if rel.size and rel.min() < 1e-2:
            print("warning: %s Grad-CAM++ near-singular (%.3g)" % (name, rel.min()))
        for m in ref.METHODS:
            raw, wts = ref.run_method(m, acts, grads, scores)
            if m == "eigencam" and h * w > 1:
                gap = ref.eigencam(acts, return_gap=True)[2]
                print("%s eigen gap (s2/s1)^2 = %.3f" % (name, gap))
                assert gap < 0.9, "eigen gap too small for a stable fixture"
            W.line("method %s %s" % (name, m))
            W.array("%s.%s.raw" % (name, m), raw)
            W.array("%s.%s.w" % (name, m), wts)
            maps[(name, m)] = (raw, h, w)
    for name, methods, H, Wd, rows in POSTS:
        for m in methods:
            raw = maps[(name, m)][0].astype(np.float32).astype(np.float64)
            for recipe, fn in (("pytorch", ref.post_pytorch), ("divmax", ref.post_divmax)):
                out = sample_rows(fn(raw, H, Wd), rows)
                W.line("post %s %s %s %d %d %s" % (name, m, recipe, H, Wd, rows_str(rows)))
                W.array("%s.%s.%s.%dx%d" % (name, m, recipe, H, Wd), out)
    rng = np.random.default_rng(99)
    for name, sh, sw, dh, dw, ac, rows in RESIZES:
        src = rng.normal(size=(sh, sw)).astype(np.float32)
        dst = ref.resize(src, dh, dw, align_corners=bool(ac))
        chk = ref.resize_numpy(src, dh, dw, align_corners=bool(ac))
        err = np.abs(dst - chk).max()
        assert err < 1e-5, (name, err)
        W.line("resize %s %d %d %d %d %d %s" % (name, sh, sw, dh, dw, ac, rows_str(rows)))
        W.array(name + ".src", src)
        W.array(name + ".dst", sample_rows(dst, rows))
    for name, ch, H, Wd in MASKS:
        _, h, w, k, seed = [c for c in CASES if c[0] == name][0]
        a = make_case(h, w, k, seed, name != "s8")[0]
        W.line("mask %s %d %d %d" % (name, ch, H, Wd))
        W.array("%s.mask%d.%dx%d" % (name, ch, H, Wd), ref.scorecam_mask(a[:, ch].reshape(h, w), H, Wd))
    # Eigen-CAM on real activations of the shared Keras models (optional).
    kdir = os.path.join(args.shared, "keras")
    man = os.path.join(kdir, "manifest.json")
    if os.path.exists(man):
        m = json.load(open(man))
        for mod in m["models"]:
            for ci, case in enumerate(mod["cases"]):
                pre = case["input"]["file"].rsplit(".input.f32", 1)[0]
                if "raw_prob_top_conv" in case["cams"]:
                    W.line("kerascam %s" % pre)
                for layer, info in case["activations"].items():
                    shp = info["shape"]
                    h, w, k = shp[-3], shp[-2], shp[-1]
                    a = np.fromfile(os.path.join(kdir, info["file"]), dtype="<f4").reshape(h * w, k)
                    proj, _, gap = ref.eigencam(ref.to_chw(a, h, w), return_gap=True)
                    if gap > 0.9:
                        print("skip keras %s %s: eigen gap %.3f" % (mod["name"], layer, gap))
                        continue
                    key = "k.%s.%d.%s" % (mod["name"], ci, layer)
                    W.line("keras %s %d %d %d %s" % (key, h, w, k, info["file"]))
                    W.array(key + ".raw", proj)
    else:
        print("note: no shared data at %s: keras Eigen-CAM records omitted" % kdir)
    os.makedirs(args.out, exist_ok=True)
    blob = np.concatenate(W.blob).astype("<f4")
    blob.tofile(os.path.join(args.out, "cam.f32"))
    with open(os.path.join(args.out, "index.txt"), "w") as f:
        f.write("# generated by tools/gen_cam_fixtures.py; see its docstring\n")
        f.write("\n".join(W.lines) + "\n")
    print("wrote %d floats (%d bytes), %d records" % (blob.size, blob.size * 4, len(W.lines)))


if __name__ == "__main__":
    main()
