"""Writes a small random EfficientNet-like model for test_cli (and for trying
the CLI by hand): stem conv 3x3 s2 same + silu, dwconv, SE, project pwconv,
residual add, top_conv, gap, dense; 64x64 input, 4 labelled classes.

usage: python3 tests/cli_model.py OUT.ecw
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools"))
import numpy as np
from ecw import EcwWriter
r = np.random.default_rng(1)
def w(*s, sc=0.3): return (r.standard_normal(s) * sc).astype(np.float32)
e = EcwWriter(name="tiny-random", input_hw=(64, 64), pre_mul=(1/127.5,)*3, pre_add=(-1,)*3, source="keras", head_softmax=True)
x = e.conv2d(0, w(8, 3, 3, 3), w(8), stride=2, pad_same=True, act="silu", name="stem_conv")
d = e.dwconv(x, w(3, 3, 8), w(8), pad_same=True, act="silu", name="block1a_dwconv")
s = e.se(d, w(2, 8), w(2), w(8, 2), w(8), name="block1a_se")
p = e.pwconv(s, w(8, 8), w(8), name="block1a_project")
a = e.add(p, x, name="block1a_add")
t = e.pwconv(a, w(16, 8), w(16), act="silu", name="top_conv")
g = e.gap(t, name="avg_pool")
o = e.dense(g, w(4, 16), w(4), name="predictions")
e.tap("block1a_add", a); e.tap("top_conv", t); e.set_default_tap("top_conv")
e.set_labels(["Acne and Rosacea Photos", "Eczema Photos", "Heathy", "class \"quoted\""])
e.write(sys.argv[1])
