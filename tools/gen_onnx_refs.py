#!/usr/bin/python3
"""ONNX exports of the torchvision architectures + PyTorch references, for
tests/test_onnx.c (the C converter, `effcam convert`).

    /usr/bin/python3 tools/gen_onnx_refs.py [OUT_DIR]     (default build/onnx_refs)

Models: tools/export_torchvision.make() (random weights, calibrated BN,
seed 0), the same as tools/gen_refs.py. Each is exported with
torch.onnx.export (Debian torch 1.13):
  all four architectures at opset 13; efficientnet_b0 at 11 and at 17 with
  training=PRESERVE (BatchNormalization nodes kept, so the C converter folds
  them); mobilenet_v2 at 11 (Clip with Constant min/max); mobilenet_v3_small
  at 17 (HardSwish) and at 13 with external data (python3-onnx
  save_as_external_data, weights in a file next to the model).

References (raw little-endian float32, C order, NHWC without batch), per
export, for a uniform random 0..255 input at 224x224 and at 241x199:
  logits16   the model with the exact parameters the converter writes: for
             the BN-kept export folded_fp16_model(model) (BN folded in
             float64, weights rounded once to fp16, like the converter); for
             the others torch.onnx.export already folded BN (in float32), so
             each Conv2d gets the exported Conv's W (rounded to fp16) and B
             (matched by execution order)
  act.<tap>  its activations at features.2, features.N/2, features.N-1
  raw/weights Grad-CAM (target logit of argmax) at the last features.N
The input is preprocessed like the engine: x * pre_mul + pre_add with the
converter's float32 constants from ImageNet mean/std.
"""
import argparse
import json
import os
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import export_torchvision as ex  # noqa: E402

# (id, arch, opset, variant)
EXPORTS = [
    ("efficientnet_b0_op13", "efficientnet_b0", 13, None),
    ("efficientnet_v2_s_op13", "efficientnet_v2_s", 13, None),
    ("mobilenet_v2_op13", "mobilenet_v2", 13, None),
    ("mobilenet_v3_small_op13", "mobilenet_v3_small", 13, None),
    ("efficientnet_b0_op11", "efficientnet_b0", 11, None),
    ("efficientnet_b0_op17_bn", "efficientnet_b0", 17, "bn"),
    ("mobilenet_v2_op11", "mobilenet_v2", 11, None),
    ("mobilenet_v3_small_op17", "mobilenet_v3_small", 17, None),
    ("mobilenet_v3_small_op13_ext", "mobilenet_v3_small", 13, "external"),
]
SIZES = [(224, 224), (241, 199)]


def save(outdir, fname, arr):
    a = np.ascontiguousarray(np.asarray(arr, dtype=np.float64).astype("<f4"))
    a.tofile(os.path.join(outdir, fname))
    return fname


def preprocess(x):
    """NHWC 0..255 -> NCHW normalised, with the converter's float32 constants."""
    mean = [float(np.float32(v)) for v in ex.IMAGENET_MEAN]
    std = [float(np.float32(v)) for v in ex.IMAGENET_STD]
    mul = np.array([1.0 / (255.0 * s) for s in std], np.float32)
    add = np.array([-m / s for m, s in zip(mean, std)], np.float32)
    y = x.astype(np.float32) * mul + add
    return torch.from_numpy(np.ascontiguousarray(y.transpose(2, 0, 1)[None]))


def refs(f16, x, taps, cam_tap):
    xt = preprocess(x)
    cap = {}
    hooks = [f16.get_submodule(t).register_forward_hook(lambda m, i, o, t=t: cap.__setitem__(t, o)) for t in taps]
    try:
        with torch.enable_grad():
            l16 = f16(xt)[0]
            c = int(l16.argmax())
            a = cap[cam_tap]
            g = torch.autograd.grad(l16[c], a)[0]
            w = g[0].double().mean(dim=(1, 2))
            raw = (w.view(-1, 1, 1) * a[0].detach().double()).sum(0)
    finally:
        for h in hooks:
            h.remove()
    out = {"logits16": l16.detach().double().numpy(), "class": c, "cam_weights": w.numpy(), "cam_raw": raw.numpy()}
    for t in taps:
        out["act." + t] = cap[t][0].detach().permute(1, 2, 0).numpy()
    return out


def onnx_weights_model(f16, path):
    """f16 with every Conv2d's weight/bias replaced by the exported Conv's
    (torch folded BN in float32 during export), weights rounded to fp16."""
    import copy
    import onnx
    from onnx import numpy_helper
    m = onnx.load(path)
    init = {t.name: numpy_helper.to_array(t) for t in m.graph.initializer}
    for n in m.graph.node:
        if n.op_type == "Identity" and n.input[0] in init:
            init[n.output[0]] = init[n.input[0]]
        if n.op_type == "Constant":
            init[n.output[0]] = numpy_helper.to_array(n.attribute[0].t)
    convs = [n for n in m.graph.node if n.op_type == "Conv"]
    ref = copy.deepcopy(f16)
    order = []
    hooks = [c.register_forward_pre_hook(lambda mod, inp: order.append(mod))
             for c in ref.modules() if isinstance(c, torch.nn.Conv2d)]
    with torch.no_grad():
        ref(torch.zeros(1, 3, 64, 64))
    for h in hooks:
        h.remove()
    if len(order) != len(convs):
        raise SystemExit("%d Conv2d calls, %d ONNX Conv nodes" % (len(order), len(convs)))
    for mod, n in zip(order, convs):
        w = init[n.input[1]].astype(np.float16).astype(np.float32)
        if tuple(w.shape) != tuple(mod.weight.shape):
            raise SystemExit("Conv %s: shape %s vs module %s" % (n.name, w.shape, tuple(mod.weight.shape)))
        mod.weight = torch.nn.Parameter(torch.from_numpy(w))
        b = init[n.input[2]].astype(np.float32) if len(n.input) > 2 else np.zeros(w.shape[0], np.float32)
        mod.bias = torch.nn.Parameter(torch.from_numpy(b))
    return ref.eval()


def export(model, path, opset, variant):
    import onnx
    x = torch.zeros(1, 3, 224, 224)
    kw = {}
    if variant == "bn":
        kw["training"] = torch.onnx.TrainingMode.PRESERVE
    torch.onnx.export(model, x, path, opset_version=opset, input_names=["input"], output_names=["logits"], **kw)
    m = onnx.load(path)
    ops = {}
    for n in m.graph.node:
        ops[n.op_type] = ops.get(n.op_type, 0) + 1
    if variant == "bn" and "BatchNormalization" not in ops:
        raise SystemExit("export with training=PRESERVE kept no BatchNormalization node")
    if variant == "external":
        d = os.path.dirname(path)
        os.remove(path)
        onnx.save_model(m, path, save_as_external_data=True, all_tensors_to_one_file=True,
                        location=os.path.basename(path) + ".data", size_threshold=1024)
        if not os.path.exists(os.path.join(d, os.path.basename(path) + ".data")):
            raise SystemExit("external data file missing")
    return ops


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("out", nargs="?", default=os.path.join(ex.REPO, "build", "onnx_refs"))
    ap.add_argument("--isic-dir", default=None)
    a = ap.parse_args(argv)
    ex.set_threads()
    os.makedirs(a.out, exist_ok=True)
    T0 = time.time()
    import onnx
    import torchvision
    man = {"generator": "tools/gen_onnx_refs.py", "torch": torch.__version__, "torchvision": torchvision.__version__,
           "onnx": onnx.__version__, "seed": 0, "models": []}
    built = {}
    for mid, arch, opset, variant in EXPORTS:
        t0 = time.time()
        if arch not in built:
            model = ex.make(arch, 1000, seed=0, image_dir=a.isic_dir)
            n = len(model.features)
            taps = ["features.2", "features.%d" % (n // 2), "features.%d" % (n - 1)]
            built[arch] = (model, ex.folded_fp16_model(model), taps)
        model, f16, taps = built[arch]
        sub = mid if variant == "external" else ""
        if sub:
            os.makedirs(os.path.join(a.out, sub), exist_ok=True)
        rel = os.path.join(sub, mid + ".onnx") if sub else mid + ".onnx"
        ops = export(model, os.path.join(a.out, rel), opset, variant)
        refm = f16 if variant == "bn" else onnx_weights_model(f16, os.path.join(a.out, rel))
        cases = []
        for i, hw in enumerate(SIZES):
            x = np.random.RandomState(100 + i).uniform(0, 255, (hw[0], hw[1], 3)).astype(np.float32)
            r = refs(refm, x, taps, taps[-1])
            cid = "%dx%d" % hw
            pre = "%s.%s" % (mid, cid)
            cases.append({"id": cid, "hw": list(hw), "class": r["class"], "cam_tap": taps[-1],
                          "input": save(a.out, "%s.input.f32" % pre, x),
                          "logits16": save(a.out, "%s.logits16.f32" % pre, r["logits16"]),
                          "cam_raw": save(a.out, "%s.cam_raw.f32" % pre, r["cam_raw"]),
                          "cam_weights": save(a.out, "%s.cam_weights.f32" % pre, r["cam_weights"]),
                          "activations": {t: save(a.out, "%s.act.%s.f32" % (pre, t), r["act." + t]) for t in taps}})
        man["models"].append({"id": mid, "arch": arch, "opset": opset, "variant": variant, "onnx": rel,
                              "classes": 1000, "default_tap": taps[-1], "taps": taps, "onnx_ops": ops,
                              "reference": "folded_fp16_model" if variant == "bn" else "exported Conv weights, fp16",
                              "cases": cases})
        print("%-30s %5.1fs  %s" % (mid, time.time() - t0, " ".join("%s:%d" % kv for kv in sorted(ops.items()))),
              flush=True)
    with open(os.path.join(a.out, "manifest.json"), "w") as f:
        json.dump(man, f, indent=1)
    print("wrote %s/manifest.json: %d exports, %.1fs" % (a.out, len(man["models"]), time.time() - T0))


if __name__ == "__main__":
    main()
