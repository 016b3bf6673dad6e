#!/usr/bin/python3
"""PyTorch peer for effcam-bench: one model, one thread count, one process.

    LD_LIBRARY_PATH=/usr/lib/x86_64-linux-gnu/openblas-openmp \
      /usr/bin/python3 bench/peers/torch_bench.py NAME.pt --size H W --threads N

Loads the BN-folded module that export_models.py saved (the .ecw's exact
weights), runs it under torch.inference_mode() with torch.set_num_threads(N),
NCHW float32, already normalised input. Reports which BLAS library the process
actually mapped (/proc/self/maps) and torch's own build config. One JSON line.
"""
import argparse
import json
import os
import time

T0 = time.perf_counter()
import torch  # noqa: E402


def blas_in_maps():
    libs = set()
    with open("/proc/self/maps") as f:
        for line in f:
            p = line.split()[-1] if len(line.split()) >= 6 else ""
            base = os.path.basename(p)
            if "blas" in base or "lapack" in base or "gomp" in base or "mkl" in base:
                libs.add(os.path.realpath(p))
    return sorted(libs)


def stats(v):
    s = sorted(v)
    n = len(s)
    med = s[n // 2] if n % 2 else 0.5 * (s[n // 2 - 1] + s[n // 2])
    r = max(1, -(-9 * n // 10))
    return {"median_ms": med, "min_ms": s[0], "p90_ms": s[r - 1], "mean_ms": sum(s) / n, "max_ms": s[-1]}


def hwm():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    return 0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("model")
    ap.add_argument("--size", type=int, nargs=2, default=(224, 224))
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--runs", type=int, default=30)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--channels-last", action="store_true")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    t = time.perf_counter()
    m = torch.load(a.model).eval()
    load_ms = (time.perf_counter() - t) * 1e3
    h, w = a.size
    g = torch.Generator().manual_seed(1)
    x = torch.rand((1, 3, h, w), generator=g) * 4 - 2
    if a.channels_last:
        m = m.to(memory_format=torch.channels_last)
        x = x.contiguous(memory_format=torch.channels_last)
    lat = []
    with torch.inference_mode():
        for _ in range(a.warmup):
            y = m(x)
        start_to_result = (time.perf_counter() - T0) * 1e3
        for _ in range(a.runs):
            t = time.perf_counter()
            y = m(x)
            lat.append((time.perf_counter() - t) * 1e3)
    cfg = torch.__config__.show()
    blas_line = [l.strip() for l in cfg.splitlines() if "BLAS" in l]
    print(json.dumps({
        "tool": "torch", "version": torch.__version__, "model": a.model, "h": h, "w": w,
        "threads": a.threads, "torch_threads": torch.get_num_threads(), "runs": a.runs,
        "warmup": a.warmup, "channels_last": a.channels_last, "load_ms": load_ms,
        "start_to_result_ms": start_to_result, "predict": stats(lat), "predict_ms": lat, "top1": int(y[0].argmax()),
        "peak_rss_bytes": hwm(), "blas_mapped": blas_in_maps(), "blas_config": blas_line,
        "ld_library_path": os.environ.get("LD_LIBRARY_PATH", ""),
    }))


if __name__ == "__main__":
    main()
