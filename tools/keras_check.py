#!/usr/bin/python3
"""Check tools/keras2ecw.py against the Keras reference outputs.

    python3 tools/keras_check.py [--data ../shared/data/keras] [--f32] [--cams]
                                 [--interp DIR] [--model NAME]

For every model in manifest.json: convert the .keras file in memory (nothing
is written), run the .ecw with the independent PyTorch interpreter
tools/ecw_interp.py (from the exporter worktree, or --interp DIR), and print
the relative L2 error ||ours - keras|| / ||keras|| of probs, logits and every
reference activation (tap), per case. --f32 also converts with f32 weights
(keras2ecw.py --f32-weights) to separate fp16 rounding from conversion
errors. --cams also compares the Grad-CAM raw maps
(gradient through the interpreted graph, including the pre-BN tap).
Exit status 1 if any f16 figure is above --tol (default 1e-4 for
probs; logits/activations are reported, flagged above --tol-act).
"""
import argparse
import json
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import ecw  # noqa: E402
import keras2ecw  # noqa: E402


def rel(a, b):
    a = np.asarray(a, np.float64).ravel()
    b = np.asarray(b, np.float64).ravel()
    if a.shape != b.shape:
        return float("nan")
    d = np.linalg.norm(b)
    return float(np.linalg.norm(a - b) / (d if d > 0 else 1.0))


def load_f32(d, spec):
    a = np.fromfile(os.path.join(d, spec["file"]), dtype="<f4")
    return a.reshape(spec["shape"])


def gradcam_raw(ecw_interp, torch, m, x, tap_name, cls, target):
    """Raw Grad-CAM map sum_k mean(dy/dA_k) A_k at a tap, y = logit or prob
    of class cls. Uses only ecw_interp.forward; the tap's gradient follows
    the tap kind: d/d(pre-BN) = d/d(preact) * scale."""
    t = [t for t in m["taps"] if t["name"] == tap_name]
    if not t:
        raise KeyError("no tap %r" % tap_name)
    t = t[0]
    xt = ecw_interp.preprocess(m, x, torch.float64).requires_grad_(True)
    logits, vals, pre = ecw_interp.forward(m, xt, torch.float64)
    y = logits[0, cls] if target == "logit" else torch.softmax(logits[0], 0)[cls]
    v = t["value"]
    node = vals[v] if t["kind"] == ecw.TAP_OUTPUT else pre[v]
    g, = torch.autograd.grad(y, node)
    A = ecw_interp.tap_tensor(m, t, vals, pre)
    if t["kind"] == ecw.TAP_PRE_BN:
        sc = torch.as_tensor(m["tensors"][t["scale"]]["data"], dtype=torch.float64)
        g = g * sc.view(1, -1, 1, 1)
    wts = g[0].mean(dim=(1, 2))
    return (wts.view(-1, 1, 1) * A[0]).sum(0).detach().numpy()


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    dflt = os.path.join(HERE, "..", "..", "shared", "data", "keras")
    for up in (os.path.join("..", ".."), os.path.join("..", "..", "..")):
        if os.path.isdir(os.path.join(HERE, up, "shared", "data", "keras")):
            dflt = os.path.join(HERE, up, "shared", "data", "keras")
            break
    if os.environ.get("EFFCAM_SHARED_DATA"):
        dflt = os.path.join(os.environ["EFFCAM_SHARED_DATA"], "keras")
    ap.add_argument("--data", default=dflt)
    ap.add_argument("--interp", default=os.environ.get("ECW_INTERP_DIR", os.path.join(HERE, "..", "..", "exporter", "tools")),
                    help="directory holding ecw_interp.py")
    ap.add_argument("--f32", action="store_true", help="also check an f32-weights conversion")
    ap.add_argument("--cams", action="store_true", help="also compare Grad-CAM raw maps")
    ap.add_argument("--model", action="append", default=[])
    ap.add_argument("--tol", type=float, default=1e-4)
    a = ap.parse_args(argv)
    man_path = os.path.join(a.data, "manifest.json")
    if not os.path.exists(man_path):
        print("SKIP: %s not found (the shared Keras test data is needed)" % man_path)
        return 77
    if os.path.exists(os.path.join(a.interp, "ecw_interp.py")):
        sys.path.append(a.interp)
    try:
        import torch
        import ecw_interp
    except ImportError as e:
        print("SKIP: no interpreter (%s); pass --interp DIR holding ecw_interp.py" % e)
        return 77
    torch.set_num_threads(1)
    man = json.load(open(man_path))
    worst = 0.0
    variants = ["f16"] + (["f32"] if a.f32 else [])
    for mod in man["models"]:
        if a.model and mod["name"] not in a.model:
            continue
        path = os.path.join(a.data, mod["keras_file"])
        for var in variants:
            w, info = keras2ecw.convert(path, wdtype=var)
            m = ecw.read(w.tobytes())
            print("== %s [%s weights] ops %d taps %d pre_mul %s pre_add %s softmax %s default %s"
                  % (mod["name"], var, len(m["ops"]), len(m["taps"]),
                     np.round(m["pre_mul"], 6).tolist(), np.round(m["pre_add"], 6).tolist(),
                     w.head_softmax, m["default_tap"]))
            for case in mod["cases"]:
                x = load_f32(a.data, case["input"])
                r = ecw_interp.run(m, x, dtype=torch.float64, keep_values=False)
                figs = [("probs", rel(r["probs"], load_f32(a.data, case["probs"]))),
                        ("logits", rel(r["logits"], load_f32(a.data, case["logits"])))]
                for tname, spec in case["activations"].items():
                    ref = load_f32(a.data, spec)
                    got = r["taps"].get(tname)
                    figs.append((tname, rel(got, ref) if got is not None else float("nan")))
                cname = os.path.basename(case["input"]["file"]).split(".")[1]
                am = int(np.argmax(r["probs"]))
                line = "  %-18s argmax %d (keras %d) " % (cname, am, case.get("class", -1))
                line += " ".join("%s %.2e" % f for f in figs)
                print(line)
                if var == "f16":
                    worst = max([worst] + [f[1] if np.isfinite(f[1]) else 1.0 for f in figs])
                if a.cams and "cams" in case:
                    cls = case.get("class")
                    cam_figs = []
                    for key, tap, tgt in (("raw_prob_top_conv", "top_conv", "prob"),
                                          ("raw_logit_top_activation", "top_activation", "logit"),
                                          ("raw_logit_mid", mod.get("mid_layer"), "logit")):
                        if key not in case["cams"] or tap is None:
                            continue
                        raw = gradcam_raw(ecw_interp, torch, m, x, tap, cls, tgt)
                        cam_figs.append((key, rel(raw, load_f32(a.data, case["cams"][key]))))
                    print("  %-18s cams: %s" % ("", " ".join("%s %.2e" % f for f in cam_figs)))
    print("worst f16 figure %.3e (target %.0e): %s" % (worst, a.tol, "OK" if worst <= a.tol else "ABOVE"))
    return 0 if worst <= a.tol else 1


if __name__ == "__main__":
    sys.exit(main())
