#!/usr/bin/python3
"""End-to-end check of the exporter with the independent interpreter.

    /usr/bin/python3 tools/check_export.py            # gen_refs models + tiny fixture
    /usr/bin/python3 tools/check_export.py --all      # + every supported arch (slow)
    /usr/bin/python3 tools/check_export.py --refs build/refs [--refs tests/fixtures/tiny_effnet.manifest.json]

Model mode: build + calibrate each model, export it to an .ecw (temp dir),
run the .ecw with tools/ecw_interp.py and compare with
folded_fp16_model(model) in PyTorch: relative L2 of the logits and of EVERY
tap in the file (module-path taps are hooked in the PyTorch model). Expected
~1e-6 (fp32 summation order only). Also prints the fp16-vs-fp32 logit gap.

Refs mode: run the .ecw files of a manifest (gen_refs / gen_fixture) with the
interpreter and compare with the stored logits16 / activations (no torch
model needed). Exit status 1 if anything exceeds --tol.
"""
import argparse
import json
import os
import sys
import tempfile
import time

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ecw  # noqa: E402
import ecw_interp  # noqa: E402
import export_torchvision as ex  # noqa: E402
import gen_refs as gr  # noqa: E402


def rel(a, b):
    a = np.asarray(a, np.float64).ravel()
    b = np.asarray(b, np.float64).ravel()
    return float(np.linalg.norm(a - b) / max(np.linalg.norm(b), 1e-30))


def torch_taps(f16, names, xt):
    """Run the folded model, hooking every module path in names (cloned:
    later in-place residual adds must not alter the captured values)."""
    cap = {}
    hooks = []
    for n in names:
        try:
            mod = f16.get_submodule(n)
        except AttributeError:
            continue
        hooks.append(mod.register_forward_hook(
            lambda m, i, o, n=n: cap.__setitem__(n, o.detach()[0].permute(1, 2, 0).clone().numpy())))
    try:
        with torch.no_grad():
            lg = f16(xt)[0].double().numpy()
    finally:
        for h in hooks:
            h.remove()
    return lg, cap


def check_model(name, model, hw, sizes, tmpdir, arch=None, export=None):
    path = os.path.join(tmpdir, name + ".ecw")
    if export:
        export(model, path)
    else:
        ex.export_model(model, path, name, hw, arch=arch)
    m = ecw.read(path)
    f16 = ex.folded_fp16_model(model)
    rows = []
    for i, (h, w) in enumerate(sizes):
        x = gr.isic_image(gr.ISIC_FILES[i % 5], (h, w))
        if x is None:
            x = gr.random_image((h, w), i)
        xt = ecw_interp.preprocess(m, x)
        r = ecw_interp.run(m, x, keep_values=False)
        lg, cap = torch_taps(f16, [t["name"] for t in m["taps"]], xt)
        with torch.no_grad():
            l32 = model(xt)[0].double().numpy()
        worst, worst_name, n = 0.0, "", 0
        for t, v in cap.items():
            e = rel(r["taps"][t], v)
            n += 1
            if e > worst:
                worst, worst_name = e, t
        rows.append(dict(model=name, hw="%dx%d" % (h, w), ops=len(m["ops"]), taps=len(m["taps"]),
                         checked=n, logits=rel(r["logits"], lg), tap=worst, tap_name=worst_name,
                         f16_vs_f32=rel(lg, l32), top1=int(np.argmax(lg)) == int(np.argmax(r["logits"])),
                         bytes=os.path.getsize(path)))
    return rows


def print_rows(rows, header=True):
    if header:
        print("%-22s %-8s %4s %5s %8s %10s %10s %-26s %10s %5s %10s" % (
        "model", "input", "ops", "taps", "checked", "logits", "worst tap", "(name)", "f16/f32", "top1",
            "ecw bytes"))
    for r in rows:
        print("%-22s %-8s %4d %5d %8d %10.2e %10.2e %-26s %10.2e %5s %10d" % (
            r["model"], r["hw"], r["ops"], r["taps"], r["checked"], r["logits"], r["tap"],
            r["tap_name"], r["f16_vs_f32"], "same" if r["top1"] else "DIFF", r["bytes"]))


def check_refs(manifest_path):
    d = os.path.dirname(os.path.abspath(manifest_path))
    man = json.load(open(manifest_path))
    rows = []
    for e in man["models"]:
        m = ecw.read(os.path.join(d, e["ecw"]))
        for c in e["cases"]:
            x = np.fromfile(os.path.join(d, c["input"]["file"]), "<f4").reshape(c["input"]["shape"])
            r = ecw_interp.run(m, x, keep_values=False)
            l16 = np.fromfile(os.path.join(d, c["logits16"]["file"]), "<f4")
            worst = 0.0
            for t, f in c.get("activations", {}).items():
                a = np.fromfile(os.path.join(d, f["file"]), "<f4").reshape(f["shape"])
                worst = max(worst, rel(r["taps"][t], a))
            p32 = np.fromfile(os.path.join(d, c["probs32"]["file"]), "<f4")
            rows.append((e["name"], c["id"], rel(r["logits"], l16), worst,
                         float(np.abs(r["probs"] - p32).max()),
                         int(np.argmax(r["probs"])) == c["class32"]))
    print("%-22s %-20s %10s %10s %12s %5s" % ("model", "case", "logits16", "worst act", "|dprob32|max", "top1"))
    for r in rows:
        print("%-22s %-20s %10.2e %10.2e %12.2e %5s" % (r[0], r[1], r[2], r[3], r[4], "same" if r[5] else "DIFF"))
    return rows


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--all", action="store_true", help="also every arch in export_torchvision.ARCHS")
    ap.add_argument("--only", nargs="*", default=None)
    ap.add_argument("--refs", action="append", default=None, help="manifest.json (or its dir) to verify")
    ap.add_argument("--tol", type=float, default=5e-5)
    ap.add_argument("--keep", default=None, help="keep the exported .ecw files here")
    a = ap.parse_args(argv)
    ex.set_threads()
    bad = False
    if a.refs:
        for p in a.refs:
            if os.path.isdir(p):
                p = os.path.join(p, "manifest.json")
            rows = check_refs(p)
            bad |= any(r[2] > a.tol or r[3] > a.tol for r in rows)
        sys.exit(1 if bad else 0)
    tmp = a.keep or tempfile.mkdtemp(prefix="effcam_check_")
    os.makedirs(tmp, exist_ok=True)
    import gen_fixture as gf
    jobs = [("tiny_effnet", None, 5, (64, 64), [(64, 64), (37, 53)])]
    jobs += [(n, arch, c, hw, s) for n, arch, c, hw, s, _i, _l in gr.MODELS if n not in gr.WEIGHT_DTYPE]
    if a.all:
        done = {j[1] for j in jobs}
        jobs += [(arch, arch, 1000, None, [(160, 160), (97, 131)]) for arch in ex.ARCHS if arch not in done]
    rows = []
    T0 = time.time()
    for name, arch, ncls, hw, sizes in jobs:
        if a.only and name not in a.only:
            continue
        t0 = time.time()
        if arch is None:
            model = gf.make_tiny(0)
            rs = check_model(name, model, hw, sizes, tmp, export=gf.export_tiny)
        else:
            model = ex.make(arch, ncls)
            crop = ex.eval_transform(arch)[0]
            rs = check_model(name, model, hw or (crop, crop), sizes, tmp, arch=arch)
        rows += rs
        print_rows(rs, header=len(rows) == len(rs))
        print("  %s: %.1fs" % (name, time.time() - t0), flush=True)
    print()
    print_rows(rows)
    bad = any(r["logits"] > a.tol or r["tap"] > a.tol for r in rows)
    print("total %.1fs; %s (tol %.0e)" % (time.time() - T0, "FAIL" if bad else "all within tolerance", a.tol))
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
