#!/usr/bin/python3
"""Golden references for the C engine, from PyTorch.

    /usr/bin/python3 tools/gen_refs.py [OUT_DIR]      (default build/refs)

Writes OUT_DIR/manifest.json, one .ecw per model and raw little-endian
float32 files (C order; images/activations NHWC [h,w,c] without the batch
dimension, CAMs [h,w], vectors [n]). See `manifest_doc()` below / the
"doc" key of the manifest for the schema.

Models are built with tools/export_torchvision.make() (random weights,
calibrated BN; deterministic for a seed). References:
  logits16/probs16  folded_fp16_model (the exact parameters of the .ecw)
  logits32/probs32  the original fp32 model (BN not folded)
  act.<tap>         tap activations of folded_fp16_model
  Grad-CAM          autograd on folded_fp16_model: target = logit (or
                    softmax probability) of class = argmax(logits16);
                    weights_k = mean_hw dY/dA_k, raw = sum_k w_k A_k, cam = relu(raw)
An entry with "weights": "f32" is exported with fp32 weights
(export_model(wdtype="f32")); its "16" references then come from
folded_model(model, fp16=False), which holds exactly those parameters.
"""
import argparse
import copy
import json
import os
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ecw  # noqa: E402
import ecw_interp  # noqa: E402
import export_torchvision as ex  # noqa: E402

ISIC7 = ["MEL", "NV", "BCC", "AKIEC", "BKL", "DF", "VASC"]

# .ecw weight dtype of the models that are not f16
WEIGHT_DTYPE = {"efficientnet_b0_f32": "f32"}

# name, arch, classes, model input hw (None: arch crop), cases, isic hw (None: none), labels
MODELS = [
    ("efficientnet_b0", "efficientnet_b0", 1000, None, [(224, 224), (241, 199)], (224, 224), "imagenet"),
    ("efficientnet_v2_s", "efficientnet_v2_s", 1000, None, [(224, 224), (241, 199)], None, "imagenet"),
    ("mobilenet_v2", "mobilenet_v2", 1000, None, [(224, 224), (241, 199)], None, "imagenet"),
    ("mobilenet_v3_small", "mobilenet_v3_small", 1000, None, [(224, 224), (241, 199)], None, "imagenet"),
    ("efficientnet_v2_s_c7", "efficientnet_v2_s", 7, (300, 300), [(300, 300)], (300, 300), "isic7"),
    # the same B0 (same seed: the same calibrated model) with fp32 weights
    # (WEIGHT_DTYPE): one odd-size case, no photos (cheap)
    ("efficientnet_b0_f32", "efficientnet_b0", 1000, None, [(241, 199)], None, "imagenet"),
]
# --set extra: the other variants, at odd and non-square sizes only (the engine
# has never seen them in the core set): b1 / b4 (TF-style width/depth
# multipliers), b7 (the deepest V1), v2_m / v2_l, mobilenet_v3_large.
EXTRA_MODELS = [
    ("efficientnet_b1", "efficientnet_b1", 1000, (255, 233), [(255, 233)], None, "imagenet"),
    ("efficientnet_b4", "efficientnet_b4", 1000, (193, 257), [(193, 257)], None, "imagenet"),
    ("efficientnet_b7", "efficientnet_b7", 1000, (161, 203), [(161, 203)], None, "imagenet"),
    ("efficientnet_v2_m", "efficientnet_v2_m", 1000, (199, 263), [(199, 263)], None, "imagenet"),
    ("efficientnet_v2_l", "efficientnet_v2_l", 1000, (177, 151), [(177, 151)], None, "imagenet"),
    ("mobilenet_v3_large", "mobilenet_v3_large", 1000, (201, 177), [(201, 177)], None, "imagenet"),
]
ISIC_FILES = ["ISIC_000000%d.jpg" % i for i in range(5)]
try:
    import PIL
    PIL_VERSION = PIL.__version__
except Exception:  # pragma: no cover
    PIL_VERSION = "?"



def manifest_doc():
    return {
        "files": "raw little-endian float32, C order, no header. Images and activations NHWC "
                 "without batch: shape [h,w,c]; cams [h,w]; vectors [n].",
        "input": "RGB 0..255 in the model's pixel space (the .ecw's pre_mul/pre_add are applied "
                 "by the engine); already at the case's h x w (no resize needed).",
        "logits16": "folded_fp16_model: the .ecw's exact fp16 weights, fp32 math (expect ~1e-5 rel); "
                    "for a model with \"weights\": \"f32\", folded_model(fp16=False): its exact fp32 weights",
        "logits32": "original fp32 PyTorch model, BN unfolded (differs from logits16 by fp16 rounding; "
                    "by fp32 rounding of the fold only for an f32-weights model)",
        "weights": "per model: the .ecw's weight dtype, f16 or f32",
        "class": "argmax(logits16); class32 = argmax(logits32)",
        "activations": "{tap: file} outputs of torchvision module paths (tap names in the .ecw)",
        "cams": "keys raw_<target>_<tap>, cam_<target>_<tap> ([h,w]), weights_<target>_<tap> ([c]); "
                "target logit = logits16[class], prob = softmax(logits16)[class]; "
                "weights = spatial mean of d target / d A; raw = sum_k weights_k A_k; cam = relu(raw); "
                "no upsampling, no normalisation",
        "kind": "'ref' (full references) or 'isic' (photo stretched with PIL bilinear to hw; "
                "acceptance: same top-1 as class32, max |probs - probs32| <= 5e-3)",
        "isic *_hp": "isic cases also hold input_hp / logits16_hp / probs16_hp / logits32_hp / "
                     "probs32_hp / class32_hp: the same photo stretched with plain half-pixel "
                     "bilinear WITHOUT antialiasing (what effcam_predict_rgb8 does) from PIL's "
                     "decode (jpeg_decoded.sum_u8 = sum of the decoded RGB bytes, to check the "
                     "C decoder gives the same pixels). PIL's bilinear antialiases when "
                     "downscaling, so input and input_hp differ by ~1 grey level on average.",
    }


def save(outdir, fname, arr):
    a = np.ascontiguousarray(np.asarray(arr, dtype=np.float64).astype("<f4"))
    a.tofile(os.path.join(outdir, fname))
    return {"file": fname, "shape": list(a.shape)}


def isic_image(fname, hw, isic_dir=None):
    """The photo stretched to hw (PIL bilinear), float32 [h,w,3] 0..255."""
    from PIL import Image
    d = isic_dir or os.environ.get("EFFCAM_ISIC_DIR", ex.DEFAULT_ISIC)
    p = os.path.join(d, fname)
    if not os.path.exists(p):
        return None
    im = Image.open(p).convert("RGB").resize((hw[1], hw[0]), Image.BILINEAR)
    return np.asarray(im, dtype=np.float32)


def decoded_photo(fname, isic_dir=None):
    """PIL's RGB decode of the photo (float32 [h,w,3]) and the sum of its bytes."""
    from PIL import Image
    d = isic_dir or os.environ.get("EFFCAM_ISIC_DIR", ex.DEFAULT_ISIC)
    a = np.asarray(Image.open(os.path.join(d, fname)).convert("RGB"))
    return a.astype(np.float32), int(a.astype(np.int64).sum())


def halfpixel_bilinear(img, hw):
    """Plain bilinear stretch with half-pixel centres, no antialiasing:
    src = (dst + 0.5) * in / out - 0.5, clamped at the edges."""
    t = torch.from_numpy(np.ascontiguousarray(img, dtype=np.float32)).permute(2, 0, 1)[None]
    y = torch.nn.functional.interpolate(t.double(), size=tuple(hw), mode="bilinear", align_corners=False)
    return y[0].permute(1, 2, 0).numpy().astype(np.float32)


def random_image(hw, seed):
    return np.random.RandomState(seed).uniform(0, 255, (hw[0], hw[1], 3)).astype(np.float32)


# Architectures whose Grad-CAM references are also computed in float64 (with
# PyTorch's own float32-vs-float64 error recorded): ReLU6 / ReLU networks,
# whose early-layer gradients flip at activation kinks under rounding. The
# SiLU EfficientNets are smooth; float64 there would only cost time.
FLOAT64_CAMS = ("mobilenet_v2", "mobilenet_v3_small")


def torch_refs(model, f16, mdict, x, taps, cam_taps=None, targets=("logit", "prob"), float64=False, f64=None):
    """References for one NHWC 0..255 input. Returns dict name -> np array
    plus 'class' / 'class32'. f64: f16 in float64 (made here if not given;
    callers pass one copy per model)."""
    cam_taps = taps if cam_taps is None else cam_taps
    if f64 is None:
        f64 = copy.deepcopy(f16).double()
    xt = ecw_interp.preprocess(mdict, x, torch.float32)
    out = {}
    with torch.no_grad():
        l32 = model(xt)[0].double()
    out["logits32"] = l32.numpy()
    out["probs32"] = torch.softmax(l32, 0).numpy()
    cap = {}
    hooks = []
    for t in taps:
        mod = f16.get_submodule(t)
        hooks.append(mod.register_forward_hook(lambda m, i, o, t=t: cap.__setitem__(t, o)))
    try:
        with torch.enable_grad():
            l16 = f16(xt)[0]
            c = int(l16.argmax())
            for t in taps:
                out["act." + t] = cap[t][0].detach().permute(1, 2, 0).numpy()
            tgt = {"logit": l16[c], "prob": torch.softmax(l16, 0)[c]}
            for name in targets:
                if not cam_taps:
                    break
                A = [cap[t] for t in cam_taps]
                grads = torch.autograd.grad(tgt[name], A, retain_graph=True)
                for t, a, g in zip(cam_taps, A, grads):
                    w = g[0].double().mean(dim=(1, 2))
                    raw = (w.view(-1, 1, 1) * a[0].detach().double()).sum(0)
                    out["weights_%s_%s" % (name, t)] = w.numpy()
                    out["raw_%s_%s" % (name, t)] = raw.numpy()
                    out["cam_%s_%s" % (name, t)] = torch.relu(raw).numpy()
    finally:
        for h in hooks:
            h.remove()
    if cam_taps and float64:
        # The same maps from PyTorch in float64 (same fp16-rounded weights,
        # same class), and how far PyTorch's own float32 run is from them:
        # networks with many ReLU6 kinks (MobileNetV2) make early-layer
        # gradients sensitive to rounding, and the tests scale their
        # tolerance by this measured conditioning.
        cap64 = {}
        hooks = [f64.get_submodule(t).register_forward_hook(lambda m, i, o, t=t: cap64.__setitem__(t, o))
                 for t in cam_taps]
        try:
            with torch.enable_grad():
                l64 = f64(xt.double())[0]
                tgt64 = {"logit": l64[c], "prob": torch.softmax(l64, 0)[c]}
                for name in targets:
                    A = [cap64[t] for t in cam_taps]
                    grads = torch.autograd.grad(tgt64[name], A, retain_graph=True)
                    for t, a, g in zip(cam_taps, A, grads):
                        w = g[0].mean(dim=(1, 2))
                        raw64 = (w.view(-1, 1, 1) * a[0].detach()).sum(0)
                        raw32 = torch.from_numpy(out["raw_%s_%s" % (name, t)])
                        out["raw64_%s_%s" % (name, t)] = raw64.numpy()
                        out["cond_%s_%s" % (name, t)] = float((raw32 - raw64).norm() / raw64.norm())

                        def norm(r):
                            r = torch.relu(r)
                            return (r - r.min()) / (r.max() - r.min()) if r.max() > r.min() else r * 0
                        out["condn_%s_%s" % (name, t)] = float((norm(raw32) - norm(raw64)).abs().max())
        finally:
            for h in hooks:
                h.remove()
    # The logits in float64 (same fp16-rounded weights): deep networks on
    # noise inputs amplify float32 summation order; the tests bound our
    # error by PyTorch's own float32-vs-float64 distance where it exceeds 1e-4.
    with torch.no_grad():
        l64 = f64(xt.double())[0]
    out["logits64"] = l64.numpy()
    out["logits_cond"] = float((l16.detach().double() - l64).norm() / l64.norm())
    l16 = l16.detach().double()
    out["logits16"] = l16.numpy()
    out["probs16"] = torch.softmax(l16, 0).numpy()
    out["class"] = c
    out["class32"] = int(l32.argmax())
    return out


def write_case(outdir, prefix, case_id, kind, x, refs, source):
    case = {"id": case_id, "kind": kind, "source": source, "hw": list(x.shape[:2]),
            "class": refs["class"], "class32": refs["class32"]}
    case["input"] = save(outdir, "%s.%s.input.f32" % (prefix, case_id), x)
    for k in ("logits16", "probs16", "logits32", "probs32", "logits64"):
        case[k] = save(outdir, "%s.%s.%s.f32" % (prefix, case_id, k), refs[k])
    case["logits_cond"] = refs["logits_cond"]
    acts = {k[4:]: v for k, v in refs.items() if k.startswith("act.")}
    if acts:
        case["activations"] = {t: save(outdir, "%s.%s.act.%s.f32" % (prefix, case_id, t), v)
                               for t, v in acts.items()}
    cams = {k: v for k, v in refs.items() if k.split("_")[0] in ("raw", "raw64", "cam", "weights")}
    if cams:
        case["cams"] = {k: save(outdir, "%s.%s.%s.f32" % (prefix, case_id, k), v)
                        for k, v in sorted(cams.items())}
    cond = {k[5:]: v for k, v in refs.items() if k.startswith("cond_")}
    if cond:
        case["cam_conditioning"] = cond  # rel L2 of PyTorch float32 vs float64 raw maps
        case["cam_conditioning_norm"] = {k[6:]: v for k, v in refs.items() if k.startswith("condn_")}
    return case


def main(argv=None):
    ap = argparse.ArgumentParser(description="write golden references (see module doc)")
    ap.add_argument("out", nargs="?", default=os.path.join(ex.REPO, "build", "refs"))
    ap.add_argument("--isic-dir", default=None)
    ap.add_argument("--only", nargs="*", default=None, help="model names to generate")
    ap.add_argument("--set", choices=["core", "extra"], default="core",
                    help="core: the four architectures the tests pin; extra: the other variants")
    a = ap.parse_args(argv)
    models = MODELS if a.set == "core" else EXTRA_MODELS
    ex.set_threads()
    os.makedirs(a.out, exist_ok=True)
    T0 = time.time()
    made = {}  # (arch, classes) -> calibrated model (deterministic: shared by variants)
    man = {"generator": "tools/gen_refs.py", "torch": torch.__version__,
           "numpy": np.__version__, "seed": 0, "doc": manifest_doc(), "models": []}
    import torchvision
    man["torchvision"] = torchvision.__version__
    have_isic = isic_image(ISIC_FILES[0], (8, 8), a.isic_dir) is not None
    if not have_isic:
        print("!!! WARNING: ISIC photos not found: reference inputs fall back to random "
              "images and the isic cases are skipped !!!", file=sys.stderr)
    mpath = os.path.join(a.out, "manifest.json")
    if a.only and os.path.exists(mpath):
        keep = [e for e in json.load(open(mpath))["models"] if e["name"] not in a.only]
        man["models"] = keep
    for name, arch, ncls, hw, sizes, isic_hw, labels in models:
        if a.only and name not in a.only:
            continue
        t0 = time.time()
        wdtype = WEIGHT_DTYPE.get(name, "f16")
        if (arch, ncls) not in made:
            made[(arch, ncls)] = ex.make(arch, ncls, seed=0, image_dir=a.isic_dir)
        model = made[(arch, ncls)]
        t_make = time.time() - t0
        fold_rel = ex.self_check_fold(model)
        crop = ex.eval_transform(arch)[0]
        mhw = hw or (crop, crop)
        lab = ex.imagenet_labels(arch) if labels == "imagenet" else ISIC7
        ecw_name = name + ".ecw"
        w = ex.export_model(model, os.path.join(a.out, ecw_name), name, mhw, labels=lab, arch=arch, wdtype=wdtype)
        mdict = ecw.read(os.path.join(a.out, ecw_name))
        # the model with the .ecw's exact parameters
        f16 = ex.folded_model(model, fp16=wdtype == "f16")
        f64 = copy.deepcopy(f16).double()  # float64 references: one copy per model
        taps = ex.default_taps(model)
        entry = {"name": name, "arch": arch, "ecw": ecw_name, "weights": wdtype, "classes": ncls, "hw": list(mhw),
                 "default_tap": mdict["default_tap"], "taps": taps,
                 "labels": labels, "fold_self_check_rel": fold_rel,
                 "ecw_bytes": os.path.getsize(os.path.join(a.out, ecw_name)), "cases": []}
        t1 = time.time()
        for i, (h, wd) in enumerate(sizes):
            cid = "%dx%d" % (h, wd)
            src = ISIC_FILES[1 + i % 4]
            x = isic_image(src, (h, wd), a.isic_dir) if have_isic else None
            if x is None:
                x, src = random_image((h, wd), 100 + i), "uniform random seed %d" % (100 + i)
            else:
                src = src + " stretched (PIL bilinear)"
            r = torch_refs(model, f16, mdict, x, taps, float64=arch in FLOAT64_CAMS, f64=f64)
            entry["cases"].append(write_case(a.out, name, cid, "ref", x, r, src))
        # one noise input at the model size: logits only
        x = random_image(mhw, 7)
        r = torch_refs(model, f16, mdict, x, [], cam_taps=[], f64=f64)
        entry["cases"].append(write_case(a.out, name, "random_%dx%d" % tuple(mhw), "ref", x, r,
                                         "uniform random 0..255 seed 7"))
        if isic_hw and have_isic:
            for f in ISIC_FILES:
                x = isic_image(f, isic_hw, a.isic_dir)
                r = torch_refs(model, f16, mdict, x, [], cam_taps=[], f64=f64)
                c = write_case(a.out, name, "isic_" + f[:-4], "isic", x, r,
                               f + " stretched to %dx%d (PIL bilinear)" % tuple(isic_hw))
                c["image"] = f
                # the same photo stretched with plain half-pixel bilinear
                # (no antialiasing, like effcam_predict_rgb8) from PIL's decode
                full, dsum = decoded_photo(f, a.isic_dir)
                c["jpeg_decoded"] = {"h": full.shape[0], "w": full.shape[1], "sum_u8": dsum,
                                     "decoder": "PIL %s" % PIL_VERSION}
                xh = halfpixel_bilinear(full, isic_hw)
                rh = torch_refs(model, f16, mdict, xh, [], cam_taps=[], f64=f64)
                c["input_hp"] = save(a.out, "%s.%s.input_hp.f32" % (name, c["id"]), xh)
                for k in ("logits16", "probs16", "logits32", "probs32"):
                    c[k + "_hp"] = save(a.out, "%s.%s.%s_hp.f32" % (name, c["id"], k), rh[k])
                c["class32_hp"] = rh["class32"]
                c["tolerance"] = {"top1": "class32", "max_abs_dprob": 5e-3}
                c["f16_vs_f32_max_abs_dprob"] = float(np.abs(r["probs16"] - r["probs32"]).max())
                entry["cases"].append(c)
        t2 = time.time()
        man["models"].append(entry)
        man["models"].sort(key=lambda e: [m[0] for m in models].index(e["name"]))
        print("%-22s make %5.1fs  export %4.1fs  refs %5.1fs  %3d ops %4d taps  %9d bytes  fold rel %.2g"
              % (name, t_make, t1 - t0 - t_make, t2 - t1, len(w.ops), len(w.taps),
                 entry["ecw_bytes"], fold_rel), flush=True)
    with open(os.path.join(a.out, "manifest.json"), "w") as f:
        json.dump(man, f, indent=1)
    tot = sum(os.path.getsize(os.path.join(a.out, p)) for p in os.listdir(a.out))
    print("wrote %s/manifest.json: %d models, %d bytes total, %.1fs"
          % (a.out, len(man["models"]), tot, time.time() - T0))


if __name__ == "__main__":
    main()
