#!/usr/bin/python3
"""Export torchvision EfficientNet / MobileNet classifiers to .ecw.

Module + CLI. Pure torch/torchvision (Debian's /usr/bin/python3), no network:
weights are random (weights=None), then `calibrate()` gives them realistic
batch-norm statistics so activations and logits depend on the input.

    build_model(arch, num_classes=1000, seed=0)
    calibrate(model, images=None, seed=0)
    export_model(model, out_path, name, input_hw, labels=None, ..., wdtype="f16")
    folded_model(model, fp16=True)      # = folded_fp16_model(model)
    folded_fp16_model(model)

The .ecw holds, per conv+BN(+act), one op whose weights are the BN-folded
weights (folded in float64, rounded once to fp16, or with wdtype="f32" /
--f32-weights to fp32) and a fp32 bias. Exactly the same numbers are put
into `folded_fp16_model(model)` (fp16) / `folded_model(model, fp16=False)`
(fp32), the PyTorch reference for the engine.

CLI:
    tools/export_torchvision.py efficientnet_b0 -o build/b0.ecw
    tools/export_torchvision.py efficientnet_v2_s --num-classes 7 -o m.ecw
    tools/export_torchvision.py efficientnet_b0 --f32-weights -o b0.f32.ecw
"""
import argparse
import copy
import glob
import os
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torchvision
from torchvision.models import efficientnet as tv_eff
from torchvision.models import mobilenetv2 as tv_mv2
from torchvision.models import mobilenetv3 as tv_mv3
from torchvision.ops import misc as tv_misc
from torchvision.ops import StochasticDepth

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ecw  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_ISIC = os.path.normpath(os.path.join(REPO, "..", "shared", "data", "isic"))
if not os.path.isdir(DEFAULT_ISIC):
    DEFAULT_ISIC = "/work/shared/data/isic"

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)

ARCHS = ["efficientnet_b%d" % i for i in range(8)] + [
    "efficientnet_v2_s", "efficientnet_v2_m", "efficientnet_v2_l",
    "mobilenet_v2", "mobilenet_v3_small", "mobilenet_v3_large"]


def set_threads():
    n = int(os.environ.get("EFFCAM_TORCH_THREADS", "2"))
    torch.set_num_threads(max(1, min(2, n)))


# --------------------------------------------------------------------------
# models
# --------------------------------------------------------------------------
def build_model(arch, num_classes=1000, seed=0):
    """A torchvision classifier with random weights (weights=None), eval mode."""
    if arch not in ARCHS:
        raise ValueError("unknown arch %r (known: %s)" % (arch, ", ".join(ARCHS)))
    torch.manual_seed(seed)
    m = getattr(torchvision.models, arch)(weights=None, num_classes=num_classes)
    return m.eval()


def eval_transform(arch):
    """(crop, resize, filter) of torchvision's weights transforms for arch."""
    try:
        t = torchvision.models.get_model_weights(arch).DEFAULT.transforms()
    except Exception:
        return None
    crop = int(t.crop_size[0])
    resize = int(t.resize_size[0])
    interp = str(t.interpolation).split(".")[-1].lower()
    filt = {"bilinear": "bilinear", "bicubic": "bicubic", "nearest": "nearest",
            "lanczos": "lanczos"}[interp]
    return crop, resize, filt


def imagenet_labels(arch):
    try:
        return list(torchvision.models.get_model_weights(arch).DEFAULT.meta["categories"])
    except Exception:
        return None


# --------------------------------------------------------------------------
# calibration images
# --------------------------------------------------------------------------
def _synthetic_images(n, size, rng):
    """Textured fallback images, uint8 HxWx3."""
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float64) / size
    out = []
    for _ in range(n):
        img = np.zeros((size, size, 3))
        for c in range(3):
            for _ in range(4):
                fx, fy = rng.uniform(1, 12, 2)
                ph = rng.uniform(0, 2 * np.pi)
                img[..., c] += rng.uniform(20, 60) * np.sin(2 * np.pi * (fx * xx + fy * yy) + ph)
            img[..., c] += rng.uniform(60, 190)
        img += rng.normal(0, 12, img.shape)
        out.append(np.clip(img, 0, 255).astype(np.uint8))
    return out


def calibration_images(n=8, size=160, seed=0, image_dir=None):
    """n preprocessed NCHW images (ImageNet normalised): random crops / flips
    of the ISIC photos, or synthetic textures when the photos are absent."""
    from PIL import Image
    rng = np.random.RandomState(seed)
    d = image_dir or os.environ.get("EFFCAM_ISIC_DIR", DEFAULT_ISIC)
    files = sorted(glob.glob(os.path.join(d, "*.jpg")))
    imgs = []
    if not files:
        print("!!! WARNING: no calibration photos in %s (set EFFCAM_ISIC_DIR); "
              "FALLING BACK TO SYNTHETIC TEXTURED IMAGES !!!" % d, file=sys.stderr)
        imgs = _synthetic_images(n, size, rng)
    else:
        photos = [Image.open(f).convert("RGB") for f in files]
        for i in range(n):
            im = photos[i % len(photos)]
            w, h = im.size
            s = int(min(w, h) * rng.uniform(0.6, 1.0))
            x0 = rng.randint(0, w - s + 1)
            y0 = rng.randint(0, h - s + 1)
            c = im.crop((x0, y0, x0 + s, y0 + s)).resize((size, size), Image.BILINEAR)
            a = np.asarray(c)
            if rng.rand() < 0.5:
                a = a[:, ::-1]
            if rng.rand() < 0.5:
                a = a[::-1]
            imgs.append(np.ascontiguousarray(a))
    # a quarter of uniform-noise images: keeps the random network well
    # conditioned on noise inputs too (tests feed uniform random pixels)
    for i in range(n // 4):
        imgs[len(imgs) - 1 - i] = rng.randint(0, 256, (size, size, 3)).astype(np.uint8)
    x = np.stack(imgs).astype(np.float32) / 255.0
    x = (x - np.array(IMAGENET_MEAN, np.float32)) / np.array(IMAGENET_STD, np.float32)
    return torch.from_numpy(x.transpose(0, 3, 1, 2).copy())


def whole_photos(size, image_dir=None):
    """The calibration photos stretched whole to size x size, normalised
    NCHW (None if absent)."""
    from PIL import Image
    d = image_dir or os.environ.get("EFFCAM_ISIC_DIR", DEFAULT_ISIC)
    files = sorted(glob.glob(os.path.join(d, "*.jpg")))
    if not files:
        return None
    x = np.stack([np.asarray(Image.open(f).convert("RGB").resize((size, size), Image.BILINEAR))
                  for f in files]).astype(np.float32) / 255.0
    x = (x - np.array(IMAGENET_MEAN, np.float32)) / np.array(IMAGENET_STD, np.float32)
    return torch.from_numpy(x.transpose(0, 3, 1, 2).copy())


def calibrate(model, images=None, seed=0, logit_std=2.5, var_floor=0.1, head_images=None,
              center_convs=False):
    """Random BN affine params, then running stats from real inputs, layer by
    layer in execution order (one forward pass: a pre-hook measures each BN's
    input, which already went through the calibrated earlier BNs, and sets its
    running mean/var before it is applied in eval mode). Finally the last
    Linear is rescaled so the logits have a std of `logit_std`."""
    if images is None:
        images = calibration_images(seed=seed)
    g = torch.Generator().manual_seed(seed + 12345)
    bns = [m for m in model.modules() if isinstance(m, nn.BatchNorm2d)]
    with torch.no_grad():
        for bn in bns:
            c = bn.num_features
            bn.weight.copy_(torch.rand(c, generator=g) + 0.5)
            bn.bias.copy_(torch.randn(c, generator=g) * 0.25)
    model.eval()

    def pre_hook(mod, inp):
        x = inp[0].detach()
        mod.running_mean.copy_(x.mean(dim=(0, 2, 3)))
        var = x.var(dim=(0, 2, 3), unbiased=False)
        # floor near-dead channels: a channel that is ~constant on the
        # calibration set would otherwise amplify anything else ~1/sqrt(eps)
        # and make the random network numerically ill-conditioned
        floor = var_floor * float(var.median()) + 1e-6
        mod.running_var.copy_(var.clamp_min(floor).float())

    def conv_hook(mod, inp):
        # make each output channel's mean response to the (calibrated) input
        # zero: sum_i mu_i * sum_hw W[o,i] = 0. Otherwise the next BN has to
        # subtract a large common offset, which amplifies relative rounding
        # errors ~1.2x per layer and makes the random deep net chaotic.
        if mod.groups > 1:
            if center_convs == "all" and mod.groups == mod.in_channels == mod.out_channels:
                w = mod.weight.detach().double()
                mod.weight.copy_((w - w.mean(dim=(2, 3), keepdim=True)).float())
            return
        mu = inp[0].detach().double().mean(dim=(0, 2, 3))
        nrm = float(mu @ mu)
        if nrm <= 0:
            return
        w = mod.weight.detach().double()
        s = w.sum(dim=(2, 3))                    # [cout, cin]
        alpha = (s @ mu) / nrm                   # [cout]
        k = w.shape[2] * w.shape[3]
        w = w - (alpha.view(-1, 1) * mu.view(1, -1) / k).view(w.shape[0], w.shape[1], 1, 1)
        mod.weight.copy_(w.float())

    hs = [bn.register_forward_pre_hook(pre_hook) for bn in bns]
    if center_convs:
        hs += [c.register_forward_pre_hook(conv_hook) for c, _b, _p, _i in _conv_bn_pairs(model)
               if c.groups == 1 or center_convs == "all"]
    try:
        with torch.no_grad():
            model(images)
    finally:
        for h in hs:
            h.remove()
    # head. The pooled features of different photos share a large common
    # component, so a random Linear gives every photo the same top-1. The
    # last Linear is therefore (1) restricted to the principal directions in
    # which the photo features vary (so fp16 rounding noise, spread over all
    # channels, is not amplified), (2) centred on the photos' mean feature,
    # (3) scaled so the photos' logits have std `logit_std`. Photos = the
    # non-noise calibration images (the noise ones are the last n//4, see
    # calibration_images) plus `head_images` (e.g. whole photos).
    n = images.shape[0]
    photos = images[:n - n // 4] if n >= 4 else images
    if head_images is not None:
        photos = torch.cat([photos, head_images])
    lin = [m for m in model.modules() if isinstance(m, nn.Linear)][-1]
    feats = []
    h = lin.register_forward_pre_hook(lambda mod, inp: feats.append(inp[0].detach().double()))
    try:
        with torch.no_grad():
            model(photos)
    finally:
        h.remove()
    f = feats[0]
    mu = f.mean(0)
    d = f - mu
    with torch.no_grad():
        w = lin.weight.detach().double()
        if d.shape[0] >= 3:
            _, sv, vt = torch.linalg.svd(d, full_matrices=False)
            k = int((sv > 1e-6 * sv[0]).sum())
            v = vt[:k]
            w = (w @ v.t()) @ v
        z = d @ w.t()
        s = float(z.std())
        if s > 0:
            w = w * (logit_std / s)
        b = -(mu @ w.t()) + torch.randn(lin.out_features, generator=g).double() * 0.1 * logit_std
        lin.weight.copy_(w.float())
        lin.bias.copy_(b.float())
    return model


# --------------------------------------------------------------------------
# folding (shared by the exporter and the reference model)
# --------------------------------------------------------------------------
def fold_conv_bn(conv, bn):
    """Fold BN into the conv, float64: returns (w [cout,cin/g,kh,kw], b [cout])."""
    w = conv.weight.detach().double()
    cout = w.shape[0]
    b = conv.bias.detach().double() if conv.bias is not None else torch.zeros(cout, dtype=torch.float64)
    if bn is None:
        return w, b
    if not bn.track_running_stats or bn.running_mean is None:
        raise ValueError("BatchNorm without running stats cannot be folded")
    mean = bn.running_mean.detach().double()
    var = bn.running_var.detach().double()
    gamma = bn.weight.detach().double() if bn.weight is not None else torch.ones(cout, dtype=torch.float64)
    beta = bn.bias.detach().double() if bn.bias is not None else torch.zeros(cout, dtype=torch.float64)
    scale = gamma / torch.sqrt(var + bn.eps)
    return w * scale.view(-1, 1, 1, 1), (b - mean) * scale + beta


def _f16(t):
    """float64/32 tensor -> values exactly representable in fp16, as float32."""
    return torch.from_numpy(t.detach().cpu().double().numpy().astype(np.float16).astype(np.float32))


def _f32(t):
    return torch.from_numpy(t.detach().cpu().double().numpy().astype(np.float32))


def _conv_bn_pairs(model):
    """(conv, bn, parent Sequential, bn index) for every Conv2d directly
    followed by a BatchNorm2d inside a Sequential."""
    pairs = []
    for parent in model.modules():
        if isinstance(parent, nn.Sequential):
            kids = list(parent.children())
            for i in range(len(kids) - 1):
                if isinstance(kids[i], nn.Conv2d) and isinstance(kids[i + 1], nn.BatchNorm2d):
                    pairs.append((kids[i], kids[i + 1], parent, i + 1))
    return pairs


def folded_model(model, fp16=True):
    """A copy of `model` with every BN folded into its conv (BN -> Identity);
    with fp16=True the conv/linear weights are the fp16-rounded folded
    weights the .ecw holds and biases fp32 — the engine's exact parameters."""
    m = copy.deepcopy(model).eval()
    rnd = _f16 if fp16 else _f32
    done = set()
    for conv, bn, parent, idx in _conv_bn_pairs(m):
        w, b = fold_conv_bn(conv, bn)
        conv.weight = nn.Parameter(rnd(w))
        conv.bias = nn.Parameter(_f32(b))
        parent[idx] = nn.Identity()
        done.add(id(conv))
    for mod in m.modules():
        if isinstance(mod, (nn.Conv2d, nn.Linear)) and id(mod) not in done:
            mod.weight = nn.Parameter(rnd(mod.weight.detach().double()))
            if mod.bias is not None:
                mod.bias = nn.Parameter(_f32(mod.bias))
        if hasattr(mod, "inplace"):
            mod.inplace = False  # keep hooked tensors intact for autograd
    return m


def folded_fp16_model(model):
    return folded_model(model, fp16=True)


def self_check_fold(model, x=None, tol=5e-5):
    """Folded fp32 model vs the original: relative L2 of the logits."""
    if x is None:
        x = calibration_images(4, 96, seed=1)  # 3 photo crops + 1 noise image
    with torch.no_grad():
        a = model.eval()(x).double()
        b = folded_model(model, fp16=False)(x).double()
    rel = float((a - b).norm() / a.norm().clamp_min(1e-30))
    if not rel <= tol:
        raise AssertionError("folded fp32 model differs from the original: rel L2 %.3g > %.g" % (rel, tol))
    return rel


# --------------------------------------------------------------------------
# export
# --------------------------------------------------------------------------
_ACT = {nn.ReLU: "relu", nn.ReLU6: "relu6", nn.SiLU: "silu", nn.Sigmoid: "sigmoid",
        nn.Hardswish: "hswish", nn.Hardsigmoid: "hsigmoid"}
_SKIP = (nn.Dropout, nn.Identity, StochasticDepth)
_BLOCKS = (tv_eff.MBConv, tv_eff.FusedMBConv, tv_mv3.InvertedResidual)


def _act_name(mod):
    if mod is None or isinstance(mod, nn.Identity):
        return "none"
    for t, n in _ACT.items():
        if type(mod) is t:
            return n
    return None


def _act_of_callable(a):
    """SqueezeExcitation stores modules; accept a module instance."""
    n = _act_name(a)
    if n is None:
        raise TypeError("unsupported activation %s" % type(a).__name__)
    return n


class _Exporter:
    def __init__(self, w):
        self.w = w

    def tap(self, path, value, kind=ecw.TAP_OUTPUT):
        if path and value > 0:  # value 0 is the input image: not a tap
            self.w.tap(path, value, kind)

    def unsupported(self, path, mod):
        raise TypeError("export_model: unsupported module %s at %r (%s.%s)" % (
            type(mod).__name__, path, type(mod).__module__, type(mod).__name__))

    # conv (+bn) (+act) as one op
    def conv(self, x, conv, bn, act, path):
        if not isinstance(conv, nn.Conv2d):
            self.unsupported(path, conv)
        if conv.dilation != (1, 1):
            raise TypeError("export_model: dilated conv at %r is not supported" % path)
        if conv.padding_mode != "zeros" or isinstance(conv.padding, str):
            raise TypeError("export_model: conv padding %r/%s at %r is not supported"
                            % (conv.padding, conv.padding_mode, path))
        w, b = fold_conv_bn(conv, bn)
        w = w.numpy()
        b = b.numpy().astype(np.float32)
        cout, cin_g, kh, kw = w.shape
        ph, pw = conv.padding
        sh, sw = conv.stride
        pad = (ph, pw, ph, pw)
        g = conv.groups
        if g == 1 and kh == 1 and kw == 1 and sh == 1 and sw == 1 and ph == 0 and pw == 0:
            return self.w.pwconv(x, w[:, :, 0, 0], b, act=act, name=path)
        if g == 1:
            return self.w.conv2d(x, w.transpose(0, 2, 3, 1), b, stride=(sh, sw), pad=pad,
                                 act=act, name=path)
        if g == conv.in_channels == cout and cin_g == 1:
            return self.w.dwconv(x, w[:, 0].transpose(1, 2, 0), b, stride=(sh, sw), pad=pad,
                                 act=act, name=path)
        raise TypeError("export_model: grouped conv (groups=%d) at %r is not supported" % (g, path))

    def se(self, x, mod, path):
        w1 = mod.fc1.weight.detach().double().numpy()[:, :, 0, 0]
        b1 = mod.fc1.bias.detach().double().numpy()
        w2 = mod.fc2.weight.detach().double().numpy()[:, :, 0, 0]
        b2 = mod.fc2.bias.detach().double().numpy()
        if not isinstance(mod.avgpool, nn.AdaptiveAvgPool2d):
            self.unsupported(path + ".avgpool", mod.avgpool)
        v = self.w.se(x, w1, b1, w2, b2, act=_act_of_callable(mod.activation),
                      gate=_act_of_callable(mod.scale_activation), name=path)
        self.tap(path, v)
        return v

    def seq(self, x, seq, path):
        """A Sequential: fuse Conv2d [BN] [act]; other children recursively."""
        kids = list(seq.named_children())
        i = 0
        while i < len(kids):
            name, mod = kids[i]
            p = path + "." + name if path else name
            if isinstance(mod, nn.Conv2d):
                bn = act = None
                paths = [p]
                j = i + 1
                if j < len(kids) and isinstance(kids[j][1], nn.BatchNorm2d):
                    bn = kids[j][1]
                    paths.append(path + "." + kids[j][0])
                    j += 1
                if j < len(kids) and _act_name(kids[j][1]) not in (None, "none"):
                    act = kids[j][1]
                    paths.append(path + "." + kids[j][0])
                    j += 1
                v = self.conv(x, mod, bn, _act_name(act), p)
                if bn is not None:
                    # the BN child's output is the op's preact when an act follows
                    self.tap(paths[1], v, ecw.TAP_PREACT if act is not None else ecw.TAP_OUTPUT)
                if act is not None:
                    self.tap(paths[-1], v)
                x = v
                i = j
                continue
            x = self.module(x, mod, p)
            i += 1
        self.tap(path, x)
        return x

    def module(self, x, mod, path):
        if isinstance(mod, _SKIP):
            return x
        if isinstance(mod, tv_misc.SqueezeExcitation):
            return self.se(x, mod, path)
        if isinstance(mod, _BLOCKS) or isinstance(mod, tv_mv2.InvertedResidual):
            inner = mod.conv if isinstance(mod, tv_mv2.InvertedResidual) else mod.block
            inner_name = "conv" if isinstance(mod, tv_mv2.InvertedResidual) else "block"
            for n, _c in mod.named_children():
                if n not in (inner_name, "stochastic_depth"):
                    self.unsupported(path + "." + n, _c)
            v = self.seq(x, inner, path + "." + inner_name)
            if mod.use_res_connect:
                v = self.w.add(v, x, name=path)
            self.tap(path, v)
            return v
        if type(mod) in (nn.Sequential, tv_misc.Conv2dNormActivation):
            return self.seq(x, mod, path)
        if _act_name(mod) not in (None, "none"):
            v = self.w.act(x, _act_name(mod), name=path)
            self.tap(path, v)
            return v
        self.unsupported(path, mod)


def export_model(model, out_path, name, input_hw, labels=None, resize=None,
                 default_tap=None, mean=IMAGENET_MEAN, std=IMAGENET_STD,
                 arch=None, wdtype="f16"):
    """Write `model` (a torchvision EfficientNet/MobileNetV2/V3 instance,
    including EfficientNets built with custom MBConvConfig/FusedMBConvConfig)
    to `out_path`. resize = (policy, filter, crop_num, crop_den); default:
    torchvision's eval transform for `arch` (or `name`) if known, else
    ("crop", "bilinear", 224, 256) like torchvision's ImageClassification.
    wdtype: "f16" (default) or "f32" weight tensors. Returns the EcwWriter."""
    model = model.eval()
    for n, _c in model.named_children():
        if n not in ("features", "avgpool", "classifier"):
            raise TypeError("export_model: unsupported top-level module %r (%s)" % (n, type(_c).__name__))
    if not isinstance(model, (tv_eff.EfficientNet, tv_mv2.MobileNetV2, tv_mv3.MobileNetV3)):
        raise TypeError("export_model: unsupported model class %s" % type(model).__name__)
    if resize is None:
        t = eval_transform(arch or name)
        if t is not None:
            crop, rs, filt = t
            resize = ("crop", filt, crop, rs)
        else:
            resize = ("crop", "bilinear", 224, 256)
    policy, filt, cnum, cden = resize
    mul = [1.0 / (255.0 * s) for s in std]
    add = [-m / s for m, s in zip(mean, std)]
    w = ecw.EcwWriter(name=name, input_hw=input_hw, pre_mul=mul, pre_add=add,
                      channel_order=0, resize_policy=policy, resize_filter=filt,
                      crop=(cnum, cden), source="torchvision", wdtype=wdtype)
    ex = _Exporter(w)
    x = ex.seq(0, model.features, "features")
    nfeat = len(model.features)
    # global average pool (module, or implicit in MobileNetV2.forward)
    ap = getattr(model, "avgpool", None)
    if ap is not None and not (isinstance(ap, nn.AdaptiveAvgPool2d) and ap.output_size in (1, (1, 1))):
        ex.unsupported("avgpool", ap)
    x = w.gap(x, name="avgpool")
    # classifier: Linear [act] ... (Dropout skipped)
    kids = list(model.classifier.named_children())
    i = 0
    last_dense = None
    while i < len(kids):
        n, mod = kids[i]
        p = "classifier." + n
        if isinstance(mod, _SKIP) or isinstance(mod, nn.Flatten):
            i += 1
            continue
        if isinstance(mod, nn.Linear):
            act = "none"
            j = i + 1
            while j < len(kids) and isinstance(kids[j][1], _SKIP):
                j += 1
            if j < len(kids) and _act_name(kids[j][1]) not in (None, "none"):
                act = _act_name(kids[j][1])
                j += 1
            else:
                j = i + 1
            wt = mod.weight.detach().double().numpy()
            b = mod.bias.detach().double().numpy() if mod.bias is not None else None
            x = w.dense(x, wt, b, act=act, name=p)
            last_dense = (x, act)
            i = j
            continue
        ex.unsupported(p, mod)
    if last_dense is None or last_dense[0] != len(w.ops) or last_dense[1] != "none":
        raise TypeError("export_model: the classifier must end in a Linear without activation")
    if labels is not None:
        nc = w.channels[len(w.ops)]
        if len(labels) != nc:
            raise ValueError("%d labels for %d classes" % (len(labels), nc))
        w.set_labels(labels)
    w.set_default_tap(default_tap or "features.%d" % (nfeat - 1))
    if out_path:
        d = os.path.dirname(os.path.abspath(out_path))
        os.makedirs(d, exist_ok=True)
        w.write(out_path)
    return w


def default_taps(model):
    """(early, middle, top) feature taps for references."""
    n = len(model.features)
    return ["features.2", "features.%d" % (n // 2), "features.%d" % (n - 1)]


def make(arch, num_classes=1000, seed=0, calib_n=8, calib_size=None, image_dir=None):
    """build + calibrate + self-check: the model used everywhere."""
    model = build_model(arch, num_classes, seed)
    t = eval_transform(arch)
    size = calib_size or min(t[0] if t else 224, 160)
    calibrate(model, calibration_images(calib_n, size, seed, image_dir), seed,
              head_images=whole_photos(size, image_dir))
    return model


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("arch", choices=ARCHS)
    ap.add_argument("-o", "--out", required=True)
    ap.add_argument("--num-classes", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--name", default=None)
    ap.add_argument("--hw", type=int, nargs=2, default=None, help="model input H W (default: arch crop)")
    ap.add_argument("--isic-dir", default=None, help="calibration photos (default %s)" % DEFAULT_ISIC)
    ap.add_argument("--no-labels", action="store_true")
    ap.add_argument("--save-pt", default=None, help="also save the calibrated state_dict")
    ap.add_argument("--f32-weights", action="store_true",
                    help="store the weights as fp32 (exact; twice the size) instead of fp16")
    a = ap.parse_args(argv)
    set_threads()
    t0 = time.time()
    model = make(a.arch, a.num_classes, a.seed, image_dir=a.isic_dir)
    rel = self_check_fold(model)
    t = eval_transform(a.arch)
    hw = tuple(a.hw) if a.hw else (t[0], t[0])
    labels = None
    if not a.no_labels and a.num_classes == 1000:
        labels = imagenet_labels(a.arch)
    w = export_model(model, a.out, a.name or a.arch, hw, labels=labels, arch=a.arch,
                     wdtype="f32" if a.f32_weights else "f16")
    if a.save_pt:
        torch.save(model.state_dict(), a.save_pt)
    print("%s: %d ops, %d tensors, %d taps, default tap %s, %s weights, fold self-check rel %.2g, %d bytes, %.1fs"
          % (a.out, len(w.ops), len(w.tensors), len(w.taps), w.default_tap, w.wdtype, rel,
             os.path.getsize(a.out), time.time() - t0))


if __name__ == "__main__":
    main()
