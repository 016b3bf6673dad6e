#!/usr/bin/python3
"""Reference interpreter of an .ecw file with PyTorch functional ops.

Independent of every converter: it only reads the file (tools/ecw.read) and
executes the op list, so it checks exporters end to end before the C engine
exists.

    import ecw_interp
    r = ecw_interp.run("model.ecw", x)   # x: NHWC RGB 0..255, [H,W,3] or [1,H,W,3]
    r["logits"]   # numpy [classes]
    r["probs"]    # numpy [classes] (softmax of the logits)
    r["values"]   # list of numpy NHWC [h,w,c]; values[0] = preprocessed input,
                  # values[i+1] = output of op i
    r["preacts"]  # same, before each op's fused activation
    r["taps"]     # {tap name: numpy NHWC [h,w,c]} for every tap in the file

Options: dtype=torch.float64 for a high-precision run, keep_values=False to
drop values/preacts (taps are still returned), normalized=True if x is
already preprocessed. `forward(model_dict, x_nchw_tensor)` is the
differentiable core (returns logits, values, preacts as torch tensors) for
callers that want autograd (Grad-CAM) on the interpreted graph.

CLI: tools/ecw_interp.py model.ecw [--hw H W] [--image file.jpg]
"""
import argparse
import math
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ecw  # noqa: E402


def _act(x, a):
    if a == "none":
        return x
    if a == "relu":
        return F.relu(x)
    if a == "relu6":
        return F.relu6(x)
    if a == "silu":
        return x * torch.sigmoid(x)
    if a == "sigmoid":
        return torch.sigmoid(x)
    if a == "hswish":
        return x * F.relu6(x + 3.0) / 6.0
    if a == "hsigmoid":
        return F.relu6(x + 3.0) / 6.0
    raise ValueError("unknown activation %r" % a)


def _pads(op, h, w):
    """(top, left, bottom, right) for a conv op at input h x w."""
    kh, kw = op["k"]
    sh, sw = op["s"]
    if op["flags"] & ecw.OPF_PAD_SAME:
        oh = -(-h // sh)
        ow = -(-w // sw)
        ph = max((oh - 1) * sh + kh - h, 0)
        pw = max((ow - 1) * sw + kw - w, 0)
        return ph // 2, pw // 2, ph - ph // 2, pw - pw // 2
    return tuple(op["pad"])


def load(m):
    return m if isinstance(m, dict) else ecw.read(m)


def forward(m, x, dtype=torch.float32, keep=True):
    """x: NCHW tensor (already preprocessed). Returns (logits [1,C],
    values list NCHW, preacts list NCHW). Differentiable."""
    m = load(m)
    T = [torch.as_tensor(t["data"], dtype=dtype) for t in m["tensors"]]
    vals = [x]
    pre = [x]
    for i, op in enumerate(m["ops"]):
        ty = op["type"]
        a = vals[op["in0"]]
        if ty in ("conv2d", "dwconv"):
            pt, pl, pb, pr = _pads(op, a.shape[2], a.shape[3])
            ap = F.pad(a, (pl, pr, pt, pb))
            b = T[op["t"][1]] if op["t"][1] >= 0 else None
            if ty == "conv2d":
                wt = T[op["t"][0]].permute(0, 3, 1, 2)  # [cout,kh,kw,cin] -> OIHW
                y = F.conv2d(ap, wt, b, stride=tuple(op["s"]))
            else:
                c = op["cout"]
                wt = T[op["t"][0]].permute(2, 0, 1).unsqueeze(1)  # [kh,kw,c] -> [c,1,kh,kw]
                y = F.conv2d(ap, wt, b, stride=tuple(op["s"]), groups=c)
        elif ty in ("pwconv", "dense"):
            wt = T[op["t"][0]]
            b = T[op["t"][1]] if op["t"][1] >= 0 else None
            y = F.conv2d(a, wt[:, :, None, None], b)
        elif ty == "se":
            s = a.mean(dim=(2, 3), keepdim=True)
            w1, b1, w2, b2 = (T[k] for k in op["t"])
            s = _act(F.conv2d(s, w1[:, :, None, None], b1), op["act"])
            s = _act(F.conv2d(s, w2[:, :, None, None], b2), op["act2"])
            y = a * s
        elif ty == "add":
            y = a + vals[op["in1"]]
        elif ty == "gap":
            y = a.mean(dim=(2, 3), keepdim=True)
        elif ty == "act":
            y = a
        else:
            raise ValueError("op %d: unknown type %r" % (i, ty))
        if ty == "se":
            pre.append(y)
            out = y  # act/act2 belong to the squeeze path
        elif ty == "act":
            pre.append(y)
            out = _act(y, op["act"])
        else:
            pre.append(y)
            out = _act(y, op["act"])
        vals.append(out)
        if not keep:
            # free what no later op or tap needs is not tracked here; keep refs small
            pass
    return vals[-1].reshape(1, -1), vals, pre


def _nhwc(t):
    return t.detach()[0].permute(1, 2, 0).contiguous().cpu().numpy()


def tap_tensor(m, tap, vals, pre):
    """A tap as an NCHW torch tensor (differentiable)."""
    v = tap["value"]
    if tap["kind"] == ecw.TAP_OUTPUT:
        return vals[v]
    if tap["kind"] == ecw.TAP_PREACT:
        return pre[v]
    if tap["kind"] == ecw.TAP_PRE_BN:
        sc = torch.as_tensor(m["tensors"][tap["scale"]]["data"], dtype=pre[v].dtype)
        sh = torch.as_tensor(m["tensors"][tap["shift"]]["data"], dtype=pre[v].dtype)
        return (pre[v] - sh.view(1, -1, 1, 1)) / sc.view(1, -1, 1, 1)
    raise ValueError("unknown tap kind %r" % tap["kind"])


def preprocess(m, x, dtype=torch.float32):
    """NHWC 0..255 numpy -> NCHW preprocessed tensor (x * pre_mul + pre_add)."""
    x = np.asarray(x, dtype=np.float64)
    if x.ndim == 3:
        x = x[None]
    mul = np.asarray(m["pre_mul"], np.float64)
    add = np.asarray(m["pre_add"], np.float64)
    t = torch.as_tensor(x, dtype=dtype)
    t = t * torch.as_tensor(mul, dtype=dtype) + torch.as_tensor(add, dtype=dtype)
    return t.permute(0, 3, 1, 2).contiguous()


def run(model, x, dtype=torch.float32, keep_values=True, normalized=False):
    """Run an .ecw (path, bytes or ecw.read() dict) on NHWC RGB 0..255 input."""
    m = load(model)
    with torch.no_grad():
        if normalized:
            xt = torch.as_tensor(np.asarray(x), dtype=dtype)
            if xt.ndim == 3:
                xt = xt[None]
            xt = xt.permute(0, 3, 1, 2).contiguous()
        else:
            xt = preprocess(m, x, dtype)
        logits, vals, pre = forward(m, xt, dtype)
        taps = {t["name"]: _nhwc(tap_tensor(m, t, vals, pre)) for t in m["taps"]}
        lg = logits[0].double()
        out = dict(logits=lg.cpu().numpy(), probs=torch.softmax(lg, 0).cpu().numpy(),
                   taps=taps, default_tap=m["default_tap"])
        if keep_values:
            out["values"] = [_nhwc(v) for v in vals]
            out["preacts"] = [_nhwc(v) for v in pre]
    return out


def gradcam(model, x, tap=None, cls=None, target="logit", dtype=torch.float32):
    """Grad-CAM on the interpreted graph: returns dict(cls, weights [c],
    raw [h,w] = sum_k w_k A_k, cam = relu(raw))."""
    m = load(model)
    xt = preprocess(m, x, dtype)
    logits, vals, pre = forward(m, xt, dtype)
    name = tap or m["default_tap"]
    t = [t for t in m["taps"] if t["name"] == name]
    if not t:
        raise KeyError("no tap %r" % name)
    A = tap_tensor(m, t[0], vals, pre)
    c = int(logits[0].argmax()) if cls is None else cls
    y = logits[0, c] if target == "logit" else torch.softmax(logits[0], 0)[c]
    g, = torch.autograd.grad(y, A)
    wts = g[0].mean(dim=(1, 2))
    raw = (wts.view(-1, 1, 1) * A[0]).sum(0)
    return dict(cls=c, weights=wts.detach().numpy(), raw=raw.detach().numpy(),
                cam=torch.relu(raw).detach().numpy())


def main(argv=None):
    ap = argparse.ArgumentParser(description="run an .ecw with PyTorch functional ops")
    ap.add_argument("ecw")
    ap.add_argument("--hw", type=int, nargs=2, default=None)
    ap.add_argument("--image", default=None)
    ap.add_argument("-k", type=int, default=5)
    a = ap.parse_args(argv)
    torch.set_num_threads(1)
    m = ecw.read(a.ecw)
    h, w = a.hw or m["input_hw"]
    if a.image:
        from PIL import Image
        x = np.asarray(Image.open(a.image).convert("RGB").resize((w, h), Image.BILINEAR), np.float32)
    else:
        x = np.random.RandomState(0).uniform(0, 255, (h, w, 3)).astype(np.float32)
    r = run(m, x, keep_values=False)
    top = np.argsort(-r["probs"])[:a.k]
    for c in top:
        lab = m["labels"][c] if m["labels"] else ""
        print("%5d %.5f %8.4f %s" % (c, r["probs"][c], r["logits"][c], lab))
    print("default tap %s: %s" % (m["default_tap"], r["taps"][m["default_tap"]].shape if m["default_tap"] else None))


if __name__ == "__main__":
    main()
