#!/usr/bin/python3
"""Numpy/torch reference of the Grad-CAM family, written from the method
definitions (papers + pytorch-grad-cam's documented behaviour), independently
of lib/cam/*.c. Run with /usr/bin/python3 (numpy + torch 1.13).

Layout here is pytorch-grad-cam's: activations / gradients as [k, h, w]
(channels first) in float64; the C code works on NHWC [h*w, k]. Every
function returns float64 arrays.

Conventions reproduced (the C side documents the same ones in lib/cam/cam.h):
  Grad-CAM++  alpha = G^2 / (2 G^2 + sum_hw(A) G^3 + 1e-6), alpha = 0 where
              G == 0, w = sum_hw alpha * relu(G)
  XGrad-CAM   w = sum_hw(G A) / (sum_hw(A) + 1e-7)
  Eigen-CAM   centred X = A - mean over positions, projection on VT[0] of
              the SVD; SIGN RULE: VT[0] . mean_activation > 0 (if exactly 0:
              the largest-|.| component of VT[0] positive)
  Score-CAM   w = softmax(scores); masks: nn.UpsamplingBilinear2d (i.e.
              align_corners=True) then (m - min) / (max - min + 1e-8)
  post        pytorch-grad-cam: relu, (x-min)/(1e-7 + max-min), resize
              (cv2 INTER_LINEAR == bilinear half-pixel), min-max again
              users' recipe: relu, / max (0 if max <= 0), bilinear resize
"""
import numpy as np
import torch
import torch.nn.functional as F


def to_chw(a_hwk, h, w):
    """[h*w, k] (NHWC flattened) -> [k, h, w] float64."""
    a = np.asarray(a_hwk, dtype=np.float64).reshape(h, w, -1)
    return np.transpose(a, (2, 0, 1)).copy()


def weighted(acts, weights):
    return np.tensordot(weights, acts, axes=([0], [0]))  # [h, w]


def gradcam(acts, grads):
    w = grads.mean(axis=(1, 2))
    return weighted(acts, w), w


def gradcampp(acts, grads):
    g2 = grads ** 2
    g3 = g2 * grads
    s = acts.sum(axis=(1, 2))[:, None, None]
    alpha = g2 / (2.0 * g2 + s * g3 + 1e-6)
    alpha = np.where(grads != 0, alpha, 0.0)
    w = (np.maximum(grads, 0.0) * alpha).sum(axis=(1, 2))
    return weighted(acts, w), w


def xgradcam(acts, grads):
    s = acts.sum(axis=(1, 2))
    w = (grads * acts).sum(axis=(1, 2)) / (s + 1e-7)
    return weighted(acts, w), w


def hirescam(acts, grads):
    return (grads * acts).sum(axis=0), np.zeros(acts.shape[0])


def layercam(acts, grads):
    return (np.maximum(grads, 0.0) * acts).sum(axis=0), np.zeros(acts.shape[0])


def eigencam(acts, return_gap=False):
    k, h, w = acts.shape
    x = acts.reshape(k, h * w).T  # [hw, k]
    mean = x.mean(axis=0)
    xc = x - mean
    if not np.any(xc):
        out = (np.zeros((h, w)), np.zeros(k))
        return out + (0.0,) if return_gap else out
    _, s, vt = np.linalg.svd(xc, full_matrices=False)
    v = vt[0].copy()
    d = float(v @ mean)
    if d < 0 or (d == 0 and v[np.argmax(np.abs(v))] < 0):
        v = -v
    proj = (xc @ v).reshape(h, w)
    gap = (s[1] / s[0]) ** 2 if len(s) > 1 and s[0] > 0 else 0.0
    return (proj, v, gap) if return_gap else (proj, v)


def softmax(s):
    s = np.asarray(s, dtype=np.float64)
    e = np.exp(s - s.max())
    return e / e.sum()


def scorecam(acts, scores):
    w = softmax(scores)
    return weighted(acts, w), w


METHODS = ["gradcam", "gradcampp", "xgradcam", "hirescam", "layercam", "eigencam", "scorecam"]


def run_method(name, acts, grads, scores):
    if name == "eigencam":
        return eigencam(acts)
    if name == "scorecam":
        return scorecam(acts, scores)
    return globals()[name](acts, grads)


def resize(img, dh, dw, align_corners=False):
    """torch F.interpolate bilinear (no antialias) of a [h, w] map, float32
    in and out, as the C code sees it."""
    t = torch.from_numpy(np.ascontiguousarray(img, dtype=np.float32))[None, None]
    r = F.interpolate(t, size=(dh, dw), mode="bilinear", align_corners=align_corners)
    return r[0, 0].numpy().astype(np.float64)


def resize_numpy(img, dh, dw, align_corners=False):
    """Independent float64 implementation, used only to cross-check torch."""
    sh, sw = img.shape

    def axis(n_src, n_dst):
        d = np.arange(n_dst, dtype=np.float64)
        if align_corners:
            s = d * ((n_src - 1) / (n_dst - 1)) if n_dst > 1 else d * 0.0
        else:
            s = np.maximum((d + 0.5) * (n_src / n_dst) - 0.5, 0.0)
        i0 = np.minimum(np.floor(s).astype(int), n_src - 1)
        i1 = np.minimum(i0 + 1, n_src - 1)
        lam = np.clip(s - i0, 0.0, 1.0)
        return i0, i1, lam

    y0, y1, ly = axis(sh, dh)
    x0, x1, lx = axis(sw, dw)
    img = np.asarray(img, dtype=np.float64)
    top = img[y0][:, x0] * (1 - lx) + img[y0][:, x1] * lx
    bot = img[y1][:, x0] * (1 - lx) + img[y1][:, x1] * lx
    return top * (1 - ly)[:, None] + bot * ly[:, None]


def minmax(x):
    x = x - x.min()
    return x / (1e-7 + x.max())


def divmax(x):
    x = np.maximum(x, 0.0)
    m = x.max()
    return x / m if m > 0 else np.zeros_like(x)


def post_pytorch(raw, dh, dw):
    cam = minmax(np.maximum(raw, 0.0))
    cam = resize(cam, dh, dw)
    cam = np.maximum(cam, 0.0)  # aggregate_multi_layers
    return minmax(cam)


def post_divmax(raw, dh, dw):
    return resize(divmax(raw), dh, dw)


def scorecam_mask(chan, dh, dw):
    up = resize(chan, dh, dw, align_corners=True)
    return (up - up.min()) / (up.max() - up.min() + 1e-8)
