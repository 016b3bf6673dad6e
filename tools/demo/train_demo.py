"""Train effcam's demo model: a small EfficientNet on synthetic lesions.

    /usr/bin/python3 tools/demo/train_demo.py [--out /tmp/demo/demo_lesions.pt]

The model is torchvision's own ``EfficientNet`` class with a custom list of
``MBConvConfig`` stages (SE in every block, SiLU, batch norm), so the
torchvision exporter converts it like any EfficientNet. Input 96x96 RGB,
ImageNet mean/std normalisation.

Three phases: (1) 4 epochs with a total stride of 16 (6x6 last feature
map, cheap), then (2) the same weights with stage 4's stride set to 1
(total stride 8, 12x12 last map; the stride is not a weight) fine-tuned for
2 epochs, then (3) 2 more epochs at stride 8, a second cosine cycle from a
lower peak learning rate (5e-4). Phase 2 exists for Grad-CAM: on a 6x6 map
the CAM maximum can only fall on 36 points (and is displaced by half a
16-pixel cell by the padding convention), which misses the small lesions;
the 12x12 map raised the pointing game from 55% to 86% (first 200 held-out
scenes), and phase 3 (plain cross-entropy, nothing else changed) to 91.5%.
`--from-phase2 /tmp/demo/demo_lesions_p2.pt` runs phase 3 alone.

Sized for a busy 2-core machine: ~3000 cached images x 8 epochs.

Data: tools/demo/synth_lesions.py, training scenes = seeds 0..N-1, held-out
scenes = seeds HELDOUT_SEED0 + i (never used for training). Everything is
seeded; with the same torch build and thread count the run is repeatable.
The state dict is written outside the repository (never commit .pt files).
"""
import argparse
import os
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F
from torchvision.models.efficientnet import EfficientNet, MBConvConfig

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import synth_lesions  # noqa: E402

INPUT = 96
HELDOUT_SEED0 = 1_000_000
MEAN = (0.485, 0.456, 0.406)
STD = (0.229, 0.224, 0.225)
LABELS = synth_lesions.LABELS
DEFAULT_OUT = "/tmp/demo/demo_lesions.pt"


def build_model(num_classes=len(LABELS), final_stride=8):
    """Small EfficientNet (B0-style MBConv blocks with SE), ~0.18 M
    parameters. final_stride 16: 96x96 input -> 6x6 last feature map;
    final_stride 8 (the shipped model): stage 4 keeps the 12x12 resolution.
    The stride is not a weight: both variants share one state dict."""
    # expand, kernel, stride, in, out, layers        map size at 96x96 input
    stages = [                                     # stem 3x3/2: 48
        MBConvConfig(1, 3, 2, 16, 16, 1),          # 24
        MBConvConfig(4, 3, 1, 16, 24, 1),          # 24
        MBConvConfig(4, 5, 1 if final_stride == 4 else 2, 24, 40, 2),  # 12 / 24
        MBConvConfig(4, 3, 2 if final_stride == 16 else 1, 40, 64, 2),  # 6 / 12 / 24
        MBConvConfig(4, 5, 1, 64, 96, 1),          # 6 / 12 / 24 (no last stride)
    ]
    return EfficientNet(stages, dropout=0.2, stochastic_depth_prob=0.1,
                        num_classes=num_classes, last_channel=160)


def to_tensor(images):
    """uint8 [N,H,W,3] numpy -> normalised float tensor [N,3,H,W]."""
    x = torch.from_numpy(np.ascontiguousarray(images)).permute(0, 3, 1, 2).float() / 255.0
    mean = torch.tensor(MEAN).view(1, 3, 1, 1)
    std = torch.tensor(STD).view(1, 3, 1, 1)
    return (x - mean) / std


def make_set(seeds, size=INPUT):
    ims = np.empty((len(seeds), size, size, 3), np.uint8)
    masks = np.empty((len(seeds), size, size), bool)
    labels = np.empty(len(seeds), np.int64)
    for i, s in enumerate(seeds):
        ims[i], masks[i], labels[i] = synth_lesions.make_image(s, size)
    return ims, masks, labels


@torch.no_grad()
def accuracy(model, x, y, bs=200):
    model.eval()
    pred = torch.cat([model(x[i:i + bs]).argmax(1) for i in range(0, len(x), bs)])
    return (pred == y).float().mean().item(), pred


def run_epochs(model, opt, sched, g, args, x_tr, y_tr, x_va, y_va, epochs, tag, t0):
    steps_per_epoch = len(y_tr) // args.batch
    for ep in range(epochs):
        model.train()
        perm = torch.randperm(len(y_tr), generator=g)
        tl, tc, tn, te = 0.0, 0, 0, time.time()
        for b in range(steps_per_epoch):
            idx = perm[b * args.batch:(b + 1) * args.batch]
            x, y = x_tr[idx], y_tr[idx]
            # augmentation: one random dihedral transform per batch (the
            # classes are invariant to flips and 90-degree rotations)
            k = int(torch.randint(4, (1,), generator=g))
            if k:
                x = torch.rot90(x, k, (2, 3))
            if int(torch.randint(2, (1,), generator=g)):
                x = torch.flip(x, (3,))
            logits = model(x)
            loss = F.cross_entropy(logits, y, label_smoothing=0.05)
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            tl += loss.item() * len(y)
            tc += (logits.argmax(1) == y).sum().item()
            tn += len(y)
        va_acc, _ = accuracy(model, x_va, y_va)
        print("%s epoch %d: loss %.4f train-acc(running) %.4f held-out acc %.4f  (%.0f s, total %.0f s)"
              % (tag, ep + 1, tl / tn, tc / tn, va_acc, time.time() - te, time.time() - t0),
              flush=True)


def save(model, path, args, final_stride, **extra):
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    torch.save(dict(state_dict=model.state_dict(), labels=LABELS, input_hw=(INPUT, INPUT),
                    mean=MEAN, std=STD, final_stride=final_stride, args=vars(args), **extra), path)


def _keep_heap():
    """Keep freed activation buffers in the heap instead of returning them to
    the OS after every step (fewer page faults on a busy machine). glibc only;
    harmless elsewhere."""
    try:
        import ctypes
        libc = ctypes.CDLL("libc.so.6")
        libc.mallopt(-3, 1 << 30)      # M_MMAP_THRESHOLD
        libc.mallopt(-1, (1 << 31) - 1)  # M_TRIM_THRESHOLD
    except (OSError, AttributeError):
        pass


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default=DEFAULT_OUT)
    ap.add_argument("--n-train", type=int, default=3000)
    ap.add_argument("--n-val", type=int, default=600)
    ap.add_argument("--epochs", type=int, default=4)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--lr", type=float, default=3e-3)
    ap.add_argument("--phase2-epochs", type=int, default=2)
    ap.add_argument("--lr2", type=float, default=1e-3)
    ap.add_argument("--phase3-epochs", type=int, default=2)
    ap.add_argument("--lr3", type=float, default=5e-4)
    ap.add_argument("--phase1-out", default="/tmp/demo/demo_lesions_s16.pt")
    ap.add_argument("--phase2-out", default="/tmp/demo/demo_lesions_p2.pt")
    ap.add_argument("--from-phase1", default=None,
                    help="skip phase 1: start from this phase-1 checkpoint")
    ap.add_argument("--from-phase2", default=None,
                    help="skip phases 1 and 2: start phase 3 from this stride-8 checkpoint")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()

    torch.set_num_threads(args.threads)
    _keep_heap()
    torch.manual_seed(args.seed)
    np.random.seed(args.seed)
    t0 = time.time()

    tr_im, _, tr_y = make_set(range(args.n_train))
    va_im, _, va_y = make_set(range(HELDOUT_SEED0, HELDOUT_SEED0 + args.n_val))
    x_tr, y_tr = to_tensor(tr_im), torch.from_numpy(tr_y)
    x_va, y_va = to_tensor(va_im), torch.from_numpy(va_y)
    del tr_im, va_im
    print("data: %d train, %d held-out, class counts train %s, %.1f s"
          % (len(y_tr), len(y_va), np.bincount(tr_y, minlength=3).tolist(), time.time() - t0),
          flush=True)

    # phase 1: final stride 16 (6x6 last map), OneCycle Adam
    if args.from_phase2:
        model = None
    elif args.from_phase1:
        model = build_model(final_stride=16)
        model.load_state_dict(torch.load(args.from_phase1, map_location="cpu")["state_dict"])
        print("phase 1: loaded %s" % args.from_phase1, flush=True)
    else:
        model = build_model(final_stride=16)
        print("params: %d" % sum(p.numel() for p in model.parameters()), flush=True)
        opt = torch.optim.Adam(model.parameters(), lr=args.lr)
        steps = args.epochs * (len(y_tr) // args.batch)
        sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=args.lr, total_steps=steps,
                                                    pct_start=0.15)
        g = torch.Generator().manual_seed(args.seed)
        run_epochs(model, opt, sched, g, args, x_tr, y_tr, x_va, y_va, args.epochs, "phase 1", t0)
        save(model, args.phase1_out, args, 16)
    # phase 2: the same weights with stage 4's stride removed (final stride
    # 8, 12x12 last map: a finer Grad-CAM), fine-tuned with a cosine decay
    if args.from_phase2:
        print("phases 1-2: loaded %s" % args.from_phase2, flush=True)
        final_stride = 8
    elif args.phase2_epochs:
        sd = model.state_dict()
        model = build_model(final_stride=8)
        model.load_state_dict(sd)
        torch.manual_seed(args.seed + 1)
        opt = torch.optim.Adam(model.parameters(), lr=args.lr2)
        steps = args.phase2_epochs * (len(y_tr) // args.batch)
        sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=steps)
        g = torch.Generator().manual_seed(args.seed + 1)
        run_epochs(model, opt, sched, g, args, x_tr, y_tr, x_va, y_va, args.phase2_epochs,
                   "phase 2", t0)
        save(model, args.phase2_out, args, 8)
        final_stride = 8
    else:
        final_stride = 16
    # phase 3: a second cosine cycle at stride 8 (lower peak lr). Plain
    # cross-entropy like the phases before; it sharpens the 12x12 Grad-CAM
    # (pointing game 86% -> see README) at almost no cost in accuracy.
    if final_stride == 8 and args.phase3_epochs:
        sd = model.state_dict() if model is not None else \
            torch.load(args.from_phase2, map_location="cpu")["state_dict"]
        torch.manual_seed(args.seed + 2)
        model = build_model(final_stride=8)
        model.load_state_dict(sd)
        opt = torch.optim.Adam(model.parameters(), lr=args.lr3)
        steps = args.phase3_epochs * (len(y_tr) // args.batch)
        sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=steps)
        g = torch.Generator().manual_seed(args.seed + 2)
        run_epochs(model, opt, sched, g, args, x_tr, y_tr, x_va, y_va, args.phase3_epochs,
                   "phase 3", t0)

    tr_acc, _ = accuracy(model, x_tr[:2000], y_tr[:2000])
    va_acc, pred = accuracy(model, x_va, y_va)
    conf = np.zeros((3, 3), int)
    for t, p in zip(y_va.tolist(), pred.tolist()):
        conf[t, p] += 1
    print("final: train acc (first 2000, eval mode) %.4f, held-out acc (%d) %.4f"
          % (tr_acc, len(y_va), va_acc))
    print("held-out confusion (rows = truth):\n%s" % conf)
    save(model, args.out, args, final_stride, train_acc=tr_acc, heldout_acc=va_acc)
    import resource
    ru = resource.getrusage(resource.RUSAGE_SELF)
    print("saved %s; wall time %.1f s, CPU time %.1f s user + %.1f s sys, load average %s"
          % (args.out, time.time() - t0, ru.ru_utime, ru.ru_stime,
             " ".join("%.1f" % v for v in os.getloadavg())))


if __name__ == "__main__":
    main()
