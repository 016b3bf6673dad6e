#!/usr/bin/python3
"""Convert a Keras EfficientNet / EfficientNetV2 classifier to effcam's .ecw.

    python3 tools/keras2ecw.py MODEL.keras OUT.ecw [--labels FILE]
                               [--label NAME ...] [--size HxW] [--name NAME]
                               [--f32-weights]

Weights are written as fp16 by default (half the size; the Keras test models
then differ from Keras by 2e-3..1e-1 relative at the output, from the
rounding alone). --f32-weights writes the folded weights as fp32: the
converted model then agrees with Keras to ~1e-5.

Reads Keras 3 ``.keras`` archives (zip: config.json + model.weights.h5) and
legacy Keras 2 / tf.keras full-model ``.h5`` files (``model_config`` attribute
+ ``model_weights/<layer>/...``). Needs only numpy and h5py: no Keras.

Where the weights are (worked out from real Keras 3.0.5 files):
  * Keras 3 ``model.weights.h5``: a model's layers live under
    ``layers/<key>/vars/<i>``, where ``<key>`` is NOT the layer's name but
    snake_case(class name) (``Conv2D`` -> ``conv2d``, ``BatchNormalization``
    -> ``batch_normalization``), made unique within its container by a
    counter in the order of the config's ``layers`` list: the first
    ``Conv2D`` is ``conv2d``, the next ``conv2d_1``, ... Layers without
    weights still get a key (and an empty ``vars`` group), so they count. A
    nested model is a layer of class ``Functional`` (key ``functional``) whose
    own layers are one level deeper: ``layers/functional/layers/<key>/vars``.
    ``vars/<i>`` are positional: Conv2D/DepthwiseConv2D/Dense [kernel, bias?];
    BatchNormalization [gamma?, beta?, moving_mean, moving_variance];
    Normalization [mean, variance, count] only when the config gives no mean.
  * Legacy h5: ``model_weights/<layer name>`` with a ``weight_names``
    attribute (``stem_conv/kernel:0``); a nested model's group lists all its
    inner layers' weights.

Lowering: Conv2D / DepthwiseConv2D (+ BatchNormalization folded in float64
with each layer's own epsilon) (+ Activation fused) -> one conv2d / dwconv /
pwconv op; ZeroPadding2D -> the next conv's explicit padding; the SE pattern
GlobalAveragePooling2D -> Reshape -> Conv2D -> Conv2D -> Multiply -> one se
op; Add -> add; Dropout and friends -> nothing; Rescaling / Normalization
before the first conv -> the header's pre_mul / pre_add; head
GlobalAveragePooling2D -> gap, Dense -> dense, a final softmax -> the
header's softmax flag. Every Keras layer name that has a value in the
lowered graph becomes a tap (see docs/FORMAT.md, "Taps").
"""
import argparse
import io
import json
import os
import re
import sys
import zipfile

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ecw  # noqa: E402


class ConvertError(Exception):
    """A user-facing error: bad input file or unsupported model."""


def snake_case(name):
    """Keras' class-name -> weight-key rule (Conv2D -> conv2d)."""
    name = re.sub(r"\W+", "", name)
    name = re.sub("(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub("([a-z])([A-Z])", r"\1_\2", name).lower()


# ---------------------------------------------------------------------------
# Activations
# ---------------------------------------------------------------------------

def act_of(spec, where, legacy=False):
    """Keras activation (string or serialized dict) -> ecw act name.

    Returns 'softmax' for softmax (handled by the caller)."""
    if spec is None:
        return "none"
    if isinstance(spec, dict):
        cfg = spec.get("config")
        spec = cfg if isinstance(cfg, str) else (cfg or {}).get("name", spec.get("class_name"))
    if not isinstance(spec, str):
        raise ConvertError("%s: cannot read activation %r" % (where, spec))
    a = spec.lower()
    table = {"linear": "none", "none": "none", "relu": "relu", "relu6": "relu6",
             "swish": "silu", "silu": "silu", "sigmoid": "sigmoid",
             "hard_swish": "hswish", "hard_silu": "hswish",
             "softmax": "softmax"}
    if not legacy:
        # Keras 3: hard_sigmoid(x) = relu6(x + 3) / 6
        table["hard_sigmoid"] = "hsigmoid"
    if a not in table:
        extra = ""
        if a == "hard_sigmoid":
            extra = " (Keras 2's hard_sigmoid is clip(0.2x+0.5), which effcam does not have)"
        raise ConvertError("%s: activation %r is not supported%s" % (where, spec, extra))
    return table[a]


# ---------------------------------------------------------------------------
# Loading: config + weights
# ---------------------------------------------------------------------------

def _need_h5py():
    try:
        import h5py  # noqa: F401
    except ImportError:
        raise ConvertError("h5py is required (Debian: apt-get install python3-h5py)")
    import h5py
    return h5py


class Weights:
    """Looks up one layer's weights as a dict of canonical names."""

    def __init__(self, root, legacy):
        self.root = root
        self.legacy = legacy

    # Keras 3 ---------------------------------------------------------------
    @staticmethod
    def keras3_keys(layers):
        used, keys = {}, []
        for l in layers:
            k = snake_case(l.get("class_name", ""))
            if k in used:
                used[k] += 1
                k = "%s_%d" % (k, used[k])
            else:
                used[k] = 0
            keys.append(k)
        return keys

    def container(self, group, layers, nested=False):
        """Per-layer handles for one model's layer list.

        group: the h5 group holding ``layers/`` (Keras 3), or the
        ``model_weights`` group / a nested model's group (legacy)."""
        if self.legacy:
            return [("legacy", group, nested) for _ in layers]
        return [("k3", group, k) for k in self.keras3_keys(layers)]

    def get(self, handle, layer):
        """Return (dict of canonical name -> array, h5 group of the layer)."""
        kind, group, key = handle
        cls, name, cfg = layer["class_name"], layer_name(layer), layer.get("config", {})
        if kind == "k3":
            path = "layers/%s" % key
            if group is None or path not in group:
                raise ConvertError("weights of layer %r (%s) not found: no h5 group %r"
                                   % (name, cls, _h5name(group, path)))
            g = group[path]
            vals = []
            if "vars" in g:
                vs = g["vars"]
                try:
                    idx = sorted(vs.keys(), key=int)
                except ValueError:
                    raise ConvertError("layer %r: unexpected h5 keys %r" % (name, list(vs.keys())))
                vals = [_read_ds(vs[i], name) for i in idx]
            return self._name_k3(cls, name, cfg, vals), g
        # legacy: weights are found by their names ("stem_conv/kernel:0")
        nested = key
        if group is None:
            return {}, None
        if nested:
            holder = group
        else:
            if name not in group:
                return {}, None
            holder = group[name]
        out = {}
        for w in holder.attrs.get("weight_names", []):
            w = w.decode() if isinstance(w, bytes) else str(w)
            parts = w.split("/")
            if nested and (len(parts) < 2 or parts[-2] != name):
                continue
            if w not in holder:
                raise ConvertError("layer %r: weight %r is listed but missing from the h5 file" % (name, w))
            var = parts[-1].split(":")[0]
            out[{"depthwise_kernel": "kernel"}.get(var, var)] = _read_ds(holder[w], name)
        return out, (holder if not nested else None)

    def _name_k3(self, cls, name, cfg, vals):
        def take(names):
            if len(vals) != len(names):
                raise ConvertError("layer %r (%s): expected %d weight arrays (%s), the file has %d"
                                   % (name, cls, len(names), ", ".join(names), len(vals)))
            return dict(zip(names, vals))
        if cls in ("Conv2D", "DepthwiseConv2D", "Dense"):
            return take(["kernel", "bias"] if cfg.get("use_bias", True) else ["kernel"])
        if cls == "BatchNormalization":
            n = (["gamma"] if cfg.get("scale", True) else []) + \
                (["beta"] if cfg.get("center", True) else []) + ["moving_mean", "moving_variance"]
            return take(n)
        if cls == "Normalization":
            if cfg.get("mean") is None:
                return take(["mean", "variance", "count"])
            return {}
        return {"_%d" % i: v for i, v in enumerate(vals)}


def _h5name(group, path):
    base = getattr(group, "name", "") or ""
    return (base.rstrip("/") + "/" + path) if base else path


def _read_ds(ds, lname):
    try:
        return np.asarray(ds[()], dtype=np.float64)
    except Exception as e:  # h5py raises many types for damaged files
        raise ConvertError("layer %r: cannot read weight %s: %s" % (lname, ds.name, e))


def layer_name(l):
    return l.get("name") or l.get("config", {}).get("name")


def load_model(path):
    """Return (model config dict, Weights, source description)."""
    h5py = _need_h5py()
    if not os.path.exists(path):
        raise ConvertError("%s: no such file" % path)
    with open(path, "rb") as f:
        head = f.read(8)
    if head[:4] == b"PK\x03\x04" or zipfile.is_zipfile(path):
        try:
            zf = zipfile.ZipFile(path)
            names = zf.namelist()
            if "config.json" not in names:
                raise ConvertError("%s: not a Keras 3 .keras archive (no config.json)" % path)
            # declared sizes are checked before anything is inflated
            for member, limit in (("config.json", 64 << 20), ("model.weights.h5", 16 << 30)):
                if member in names and zf.getinfo(member).file_size > limit:
                    raise ConvertError("%s: %s declares %d bytes, over the %d-byte limit"
                                       % (path, member, zf.getinfo(member).file_size, limit))
            try:
                cfg = json.loads(zf.read("config.json").decode("utf-8"))
            except (ValueError, RecursionError) as e:
                raise ConvertError("%s: config.json is not valid JSON: %s" % (path, str(e)[:200]))
            if "model.weights.h5" not in names:
                if "model.weights.npz" in names:
                    raise ConvertError("%s: weights stored as .npz are not supported (save with the default h5 store)" % path)
                raise ConvertError("%s: no model.weights.h5 in the archive" % path)
            blob = zf.read("model.weights.h5")
        except (zipfile.BadZipFile, EOFError, OSError, zipfile.LargeZipFile) as e:
            raise ConvertError("%s: damaged or truncated .keras archive: %s" % (path, e))
        try:
            h = h5py.File(io.BytesIO(blob), "r")
        except Exception as e:
            raise ConvertError("%s: model.weights.h5 is not a readable HDF5 file: %s" % (path, e))
        return cfg, Weights(h, legacy=False), "keras3"
    if head == b"\x89HDF\r\n\x1a\n":
        try:
            h = h5py.File(path, "r")
        except Exception as e:
            raise ConvertError("%s: not a readable HDF5 file: %s" % (path, e))
        mc = h.attrs.get("model_config")
        if mc is None:
            raise ConvertError("%s: HDF5 file without a model_config attribute "
                               "(a weights-only file? save the full model)" % path)
        if isinstance(mc, bytes):
            mc = mc.decode("utf-8")
        try:
            cfg = json.loads(mc)
        except (ValueError, RecursionError) as e:
            raise ConvertError("%s: model_config is not valid JSON: %s" % (path, e))
        if "model_weights" not in h:
            raise ConvertError("%s: no model_weights group" % path)
        return cfg, Weights(h["model_weights"], legacy=True), "legacy-h5"
    if path.endswith(".keras"):
        raise ConvertError("%s: damaged or truncated .keras archive (no zip directory found)" % path)
    raise ConvertError("%s: neither a Keras 3 .keras archive nor a Keras .h5 model" % path)


# ---------------------------------------------------------------------------
# Flattening: nested functional models -> one list of layer calls
# ---------------------------------------------------------------------------

class Node:
    __slots__ = ("cls", "name", "cfg", "w", "ins", "out", "idx", "legacy")

    def __init__(self, cls, name, cfg, w, ins, out, legacy):
        self.cls, self.name, self.cfg, self.w = cls, name, cfg, w
        self.ins, self.out, self.legacy = ins, out, legacy


def _k3_tensors(obj, out):
    if isinstance(obj, dict):
        if obj.get("class_name") == "__keras_tensor__":
            h = obj["config"]["keras_history"]
            out.append((h[0], int(h[1]), int(h[2])))
        else:
            for v in obj.values():
                _k3_tensors(v, out)
    elif isinstance(obj, (list, tuple)):
        for v in obj:
            _k3_tensors(v, out)
    return out


def _node_inputs(node, legacy):
    """Input tensor refs (layer, node, index) of one inbound node."""
    if isinstance(node, dict):  # Keras 3
        return _k3_tensors(node.get("args", []), [])
    refs = []  # Keras 2: [[name, node_idx, tensor_idx, kwargs], ...]
    for r in node:
        if isinstance(r, (list, tuple)) and len(r) >= 3 and isinstance(r[0], str):
            refs.append((r[0], int(r[1]), int(r[2])))
        else:
            raise ConvertError("cannot parse inbound node %r" % (node,))
    return refs


def _io_refs(spec):
    # [[name, node, idx], ...] or a single [name, node, idx]
    if spec and isinstance(spec[0], str):
        spec = [spec]
    return [(s[0], int(s[1]), int(s[2])) for s in spec]


class Graph:
    def __init__(self, weights):
        self.W = weights
        self.nodes = []
        self.alias = {}        # tensor id -> tensor id
        self.model_taps = []   # (nested model name, its output tensor id)
        self.input_shape = None
        self.input_tensor = None

    def resolve(self, t):
        while t in self.alias:
            t = self.alias[t]
        return t

    MAX_NESTING = 16

    def add_model(self, mcfg, prefix, group, outer_inputs, nested=False):
        # nesting depth was checked up front by convert() (MAX_NESTING)
        cls = mcfg.get("class_name")
        cfg = mcfg.get("config", {})
        layers = cfg.get("layers")
        if not isinstance(layers, list):
            raise ConvertError("model config has no layer list")
        legacy = self.W.legacy
        handles = self.W.container(group, layers, nested)
        mname = cfg.get("name", "")
        if cls == "Sequential":
            return self._add_sequential(layers, handles, prefix, outer_inputs, group, nested)
        if cls not in ("Functional", "Model"):
            raise ConvertError("model class %r is not supported (Functional or Sequential only)" % cls)
        tid = lambda ref: "%s%s:%d:%d" % (prefix, ref[0], ref[1], ref[2])
        in_refs = _io_refs(cfg.get("input_layers", []))
        out_refs = _io_refs(cfg.get("output_layers", []))
        if len(in_refs) != 1 or len(out_refs) != 1:
            raise ConvertError("model %r: exactly one input and one output are supported" % mname)
        if outer_inputs is not None:
            if len(outer_inputs) != 1:
                raise ConvertError("nested model %r called with %d inputs" % (mname, len(outer_inputs)))
            self.alias[tid(in_refs[0])] = outer_inputs[0]
        for l, h in zip(layers, handles):
            lcls = l.get("class_name")
            name = layer_name(l)
            if lcls == "InputLayer":
                if outer_inputs is None:
                    lc = l.get("config", {})
                    shp = lc.get("batch_shape") or lc.get("batch_input_shape")
                    self.input_shape = shp
                    self.input_tensor = tid((name, 0, 0))
                continue
            nodes = l.get("inbound_nodes", [])
            if len(nodes) == 0:
                continue
            if lcls in ("Functional", "Model", "Sequential"):
                if len(nodes) != 1:
                    raise ConvertError("nested model %r is called %d times; only one call is supported"
                                       % (name, len(nodes)))
                _, sub = self.W.get(h, l) if not legacy else (None, self._legacy_sub(group, name, nested))
                ins = [self.resolve(tid(r)) for r in _node_inputs(nodes[0], legacy)]
                outs = self.add_model(l, prefix + name + "/", sub, ins, True)
                self.alias[tid((name, 0, 0))] = outs[0]
                self.model_taps.append((name, outs[0]))
                continue
            w, _ = self.W.get(h, l)
            for ni, nd in enumerate(nodes):
                ins = [self.resolve(tid(r)) for r in _node_inputs(nd, legacy)]
                self.nodes.append(Node(lcls, name, l.get("config", {}), w, ins,
                                       tid((name, ni, 0)), legacy))
        return [self.resolve(tid(out_refs[0]))]

    def _legacy_sub(self, group, name, nested):
        # tf.keras stores all of a nested model's weights (at any depth) in
        # model_weights/<outermost nested model name>, named "<layer>/<var>:0"
        if nested:
            return group
        if group is not None and name in group:
            return group[name]
        return None

    def _add_sequential(self, layers, handles, prefix, outer_inputs, group, nested):
        legacy = self.W.legacy
        cur = outer_inputs[0] if outer_inputs is not None else None
        for l, h in zip(layers, handles):
            lcls, name = l.get("class_name"), layer_name(l)
            lc = l.get("config", {})
            if lcls == "InputLayer" or cur is None:
                if outer_inputs is None and cur is None:
                    shp = lc.get("batch_shape") or lc.get("batch_input_shape")
                    self.input_shape = shp
                    cur = self.input_tensor = prefix + "<input>"
                if lcls == "InputLayer":
                    continue
            out = "%s%s:0:0" % (prefix, name)
            if lcls in ("Functional", "Model", "Sequential"):
                _, sub = self.W.get(h, l) if not legacy else (None, self._legacy_sub(group, name, nested))
                o = self.add_model(l, prefix + name + "/", sub, [cur], True)
                self.alias[out] = o[0]
                self.model_taps.append((name, o[0]))
            else:
                w, _ = self.W.get(h, l)
                self.nodes.append(Node(lcls, name, lc, w, [cur], out, legacy))
            cur = self.resolve(out)
        return [cur]


# ---------------------------------------------------------------------------
# Lowering to ecw ops
# ---------------------------------------------------------------------------

class Val:
    """What a Keras tensor is in the lowered graph."""
    __slots__ = ("v", "c", "pooled", "tap", "pad", "pre")

    def __init__(self, v=None, c=None, pooled=False, tap=None, pad=None, pre=None):
        self.v, self.c, self.pooled, self.tap, self.pad, self.pre = v, c, pooled, tap, pad, pre


PASSTHROUGH = {"Dropout", "SpatialDropout2D", "GaussianNoise", "GaussianDropout",
               "AlphaDropout", "Identity", "ActivityRegularization"}


class Lowerer:
    def __init__(self, graph, out_tensor, writer, wdtype="f16"):
        self.g = graph
        self.out_tensor = out_tensor
        self.w = writer
        self.wdtype = wdtype
        self.vals = {}
        self.consumers = {}
        for i, n in enumerate(graph.nodes):
            n.idx = i
            for t in n.ins:
                self.consumers.setdefault(t, []).append(i)
        self.done = set()
        self.taps = []          # (name, value, kind, scale, shift)
        self.untapped = []      # (name, class, why)
        self.pre = None         # (mul, add) committed to the header
        self.head_softmax = False
        self.params = 0
        self.gap_input = None   # tap-able value feeding the head's gap
        self.gap_src_names = []

    # -- helpers ---------------------------------------------------------------
    def op_type(self, v):
        r = self.w.ops[v - 1]
        return ecw.OP_NAME[r[0] | (r[1] << 8)]

    def only_consumer(self, t, cls):
        c = self.consumers.get(t, [])
        if len(c) != 1 or t == self.out_tensor:
            return None
        n = self.g.nodes[c[0]]
        if n.cls not in cls or c[0] in self.done:
            return None
        return n

    def val(self, t, node):
        if t not in self.vals:
            raise ConvertError("layer %r (%s): its input %r comes from a layer that could not be converted"
                               % (node.name, node.cls, t))
        return self.vals[t]

    def materialize(self, val, node):
        """A value id for an op input (commits preprocessing; refuses pads)."""
        if val.pad is not None:
            raise ConvertError("layer %r (%s): ZeroPadding2D must feed a Conv2D/DepthwiseConv2D directly"
                               % (node.name, node.cls))
        if val.pre is not None:
            self.commit_pre(val.pre, node)
            return 0
        return val.v

    def commit_pre(self, pre, node):
        if self.pre is None:
            self.pre = pre
        elif not (np.allclose(self.pre[0], pre[0]) and np.allclose(self.pre[1], pre[1])):
            raise ConvertError("layer %r: the input is used with two different preprocessings" % node.name)

    def tensor(self, a, dt=None):
        a = np.asarray(a)
        if dt is None:
            dt = self.wdtype
            self.params += a.size
            if dt == "f16" and a.size and np.max(np.abs(a)) > 65504.0:
                raise ConvertError("a folded weight of magnitude %.4g does not fit in fp16 (max 65504)"
                                   % np.max(np.abs(a)))
        return self.w.tensor(a, dt)

    def bias(self, b):
        self.params += np.asarray(b).size
        return self.w.tensor(np.asarray(b, dtype=np.float64).reshape(-1), "f32")

    def add_tap(self, name, tap):
        v, kind, scale, shift = tap
        self.taps.append((name, v, kind, scale, shift))

    def chk(self, cond, node, msg):
        if not cond:
            raise ConvertError("layer %r (%s): %s" % (node.name, node.cls, msg))

    def wget(self, node, key, shape=None):
        if key not in node.w:
            raise ConvertError("layer %r (%s): weight %r missing from the file" % (node.name, node.cls, key))
        a = node.w[key]
        if shape is not None:
            ok = a.ndim == len(shape) and all(s is None or s == d for s, d in zip(shape, a.shape))
            if not ok:
                raise ConvertError("layer %r (%s): weight %r has shape %s, expected %s"
                                   % (node.name, node.cls, key, list(a.shape),
                                      [("?" if s is None else s) for s in shape]))
        if not np.all(np.isfinite(a)):
            raise ConvertError("layer %r (%s): weight %r has NaN/Inf values" % (node.name, node.cls, key))
        return a

    # -- main loop ---------------------------------------------------------------
    def run(self):
        g = self.g
        self.vals[g.input_tensor] = Val(pre=(np.ones(3), np.zeros(3)), c=3)
        for n in g.nodes:
            if n.idx in self.done:
                continue
            fn = getattr(self, "do_" + n.cls, None)
            if fn is None:
                if n.cls in PASSTHROUGH:
                    fn = self.do_passthrough
                else:
                    raise ConvertError("layer %r: class %s is not supported by effcam" % (n.name, n.cls))
            fn(n)
            self.done.add(n.idx)
        for name, t in g.model_taps:
            if t in self.vals and self.vals[t].tap is not None:
                self.add_tap(name, self.vals[t].tap)
        return self.vals.get(self.out_tensor)

    # -- preprocessing ------------------------------------------------------------
    def _affine_pre(self, n, mul, add):
        x = self.val(n.ins[0], n)
        if x.pre is None:
            raise ConvertError("layer %r (%s): preprocessing layers are only supported before the first "
                               "convolution" % (n.name, n.cls))
        m0, a0 = x.pre
        self.vals[n.out] = Val(pre=(m0 * mul, a0 * mul + add), c=3)
        self.untapped.append((n.name, n.cls, "preprocessing (in the header)"))

    def do_Rescaling(self, n):
        s = np.asarray(n.cfg.get("scale", 1.0), dtype=np.float64).reshape(-1)
        o = np.asarray(n.cfg.get("offset", 0.0), dtype=np.float64).reshape(-1)
        self.chk(s.size in (1, 3) and o.size in (1, 3), n, "scale/offset must be scalars or 3 values")
        self._affine_pre(n, np.broadcast_to(s, (3,)), np.broadcast_to(o, (3,)))

    def do_Normalization(self, n):
        ax = n.cfg.get("axis", -1)
        ax = ax if isinstance(ax, list) else [ax]
        self.chk(ax in ([-1], [3]), n, "only per-channel normalization (axis -1) is supported")
        if n.cfg.get("mean") is not None:
            mean = np.asarray(n.cfg["mean"], dtype=np.float64).reshape(-1)
            var = np.asarray(n.cfg["variance"], dtype=np.float64).reshape(-1)
        else:
            mean = self.wget(n, "mean").reshape(-1)
            var = self.wget(n, "variance").reshape(-1)
        self.chk(mean.size in (1, 3) and var.size in (1, 3), n, "mean/variance must have 1 or 3 values")
        mean = np.broadcast_to(mean, (3,))
        var = np.broadcast_to(var, (3,))
        # Keras 3: (x - mean) / max(sqrt(var), 1e-7)
        std = np.maximum(np.sqrt(var), 1e-7)
        if n.cfg.get("invert", False):
            self._affine_pre(n, std, mean)
        else:
            self._affine_pre(n, 1.0 / std, -mean / std)

    def do_ZeroPadding2D(self, n):
        x = self.val(n.ins[0], n)
        p = n.cfg.get("padding", 1)
        if isinstance(p, int):
            p = ((p, p), (p, p))
        (t, b), (l, r) = [(q, q) if isinstance(q, int) else tuple(q) for q in p]
        self.chk(n.cfg.get("data_format", "channels_last") in (None, "channels_last"), n,
                 "only channels_last is supported")
        self.chk(x.pad is None, n, "two ZeroPadding2D in a row")
        self.vals[n.out] = Val(v=x.v, c=x.c, pre=x.pre, pad=(x, (t, l, b, r)))
        self.untapped.append((n.name, n.cls, "merged into the next convolution's padding"))

    def do_InputLayer(self, n):
        pass

    def do_passthrough(self, n):
        self.vals[n.out] = self.val(n.ins[0], n)
        if self.vals[n.out].tap is not None:
            self.add_tap(n.name, self.vals[n.out].tap)

    def do_Activation(self, n):
        x = self.val(n.ins[0], n)
        a = act_of(n.cfg.get("activation"), "layer %r" % n.name, n.legacy)
        if a == "none":
            return self.do_passthrough(n)
        if a == "softmax":
            return self._softmax(n, x)
        v = self.w.act(self.materialize(x, n), a, name=n.name)
        self.vals[n.out] = Val(v=v, c=x.c, pooled=x.pooled, tap=(v, ecw.TAP_OUTPUT, None, None))
        self.add_tap(n.name, self.vals[n.out].tap)

    def do_ReLU(self, n):
        kind = self._relu_kind(n.cfg)
        self.chk(kind is not None, n, "only plain ReLU / ReLU6 are supported")
        n.cfg = dict(n.cfg, activation=kind)
        self.do_Activation(n)

    def do_Softmax(self, n):
        self._softmax(n, self.val(n.ins[0], n))

    def _softmax(self, n, x):
        self.chk(n.out == self.out_tensor, n, "softmax is only supported at the end of the model")
        self.chk(x.v is not None and x.v >= 1 and self.op_type(x.v) == "dense", n,
                 "softmax must directly follow a Dense layer")
        self.head_softmax = True
        self.vals[n.out] = x
        self.untapped.append((n.name, n.cls, "final softmax (the engine computes probabilities)"))

    # -- convolutions ------------------------------------------------------------------
    def _geometry(self, n, x, k, s):
        pad_cfg = (n.cfg.get("padding") or "valid").lower()
        zp = x.pad[1] if x.pad is not None else (0, 0, 0, 0)
        same = False
        if pad_cfg == "valid":
            pad = zp
        elif pad_cfg == "same":
            if s == (1, 1):
                ph, pw = k[0] - 1, k[1] - 1
                pad = (zp[0] + ph // 2, zp[1] + pw // 2, zp[2] + ph - ph // 2, zp[3] + pw - pw // 2)
            else:
                self.chk(x.pad is None, n, "ZeroPadding2D before a strided 'same' convolution")
                pad, same = (0, 0, 0, 0), True
        else:
            raise ConvertError("layer %r (%s): padding %r is not supported" % (n.name, n.cls, pad_cfg))
        if any(p >= kk for p, kk in zip(pad, (k[0], k[1], k[0], k[1]))):
            raise ConvertError("layer %r (%s): padding %s is not smaller than the kernel %s"
                               % (n.name, n.cls, pad, k))
        return pad, same

    def do_Conv2D(self, n):
        self._conv(n, depthwise=False)

    def do_DepthwiseConv2D(self, n):
        self._conv(n, depthwise=True)

    def _conv(self, n, depthwise):
        cfg = n.cfg
        self.chk(cfg.get("data_format", "channels_last") in (None, "channels_last"), n,
                 "only channels_last is supported")
        dil = cfg.get("dilation_rate", [1, 1])
        dil = dil if isinstance(dil, list) else [dil, dil]
        self.chk(list(dil) == [1, 1], n, "dilated convolutions are not supported")
        k = tuple(cfg.get("kernel_size"))
        s = tuple(cfg.get("strides", (1, 1)))
        if len(k) == 1:
            k = k * 2
        if len(s) == 1:
            s = s * 2
        self.chk(len(k) == 2 and len(s) == 2 and all(isinstance(v, int) and 1 <= v <= 15 for v in k)
                 and all(isinstance(v, int) and 1 <= v <= 4 for v in s), n,
                 "kernel_size %r / strides %r out of range (kernel 1..15, stride 1..4)" % (k, s))
        x = self.val(n.ins[0], n)
        base = x.pad[0] if x.pad is not None else x
        self.chk(not base.pooled or (k == (1, 1) and s == (1, 1)), n, "convolution on a pooled vector")
        pad, same = self._geometry(n, x, k, s)
        cin = base.c
        kern = self.wget(n, "kernel")
        if depthwise:
            self.chk(int(cfg.get("depth_multiplier", 1)) == 1, n, "depth_multiplier must be 1")
            kern = self.wget(n, "kernel", [k[0], k[1], cin, 1])[:, :, :, 0]
            cout = cin
        else:
            self.chk(int(cfg.get("groups", 1)) == 1, n, "grouped convolutions are not supported")
            cout = int(cfg.get("filters"))
            kern = self.wget(n, "kernel", [k[0], k[1], cin, cout])
        bias = self.wget(n, "bias", [cout]) if cfg.get("use_bias", True) else None
        act = act_of(cfg.get("activation"), "layer %r" % n.name, n.legacy)
        self.chk(act != "softmax", n, "softmax activation inside the network")
        # BN folding
        bn = self.only_consumer(n.out, ("BatchNormalization",)) if act == "none" else None
        scale = shift = None
        if bn is not None:
            scale, shift = self._bn(bn, cout)
        if scale is not None:
            w = kern * scale  # broadcasts over the last axis: cout (conv) / c (depthwise)
            b = shift + (scale * bias if bias is not None else 0.0)
        else:
            w, b = kern, bias
        # activation after the BN
        anode = None
        if bn is not None:
            anode = self._act_after(bn.out)
            if anode is not None:
                act = self._fused_act(anode)
        xin = self.materialize(base, n)
        if depthwise:
            wt = w.astype(np.float64)  # [kh, kw, c]
            op_t = "dwconv"
        elif k == (1, 1) and s == (1, 1) and pad == (0, 0, 0, 0):
            wt = w[0, 0].T  # [cout, cin]
            op_t = "pwconv"
        else:
            wt = np.transpose(w, (3, 0, 1, 2))  # [cout, kh, kw, cin]
            op_t = "conv2d"
        tw = self.tensor(wt)
        tb = self.bias(b) if b is not None else -1
        if op_t == "pwconv":
            v = self.w.op("pwconv", xin, act=act, cin=cin, cout=cout, tensors=(tw, tb), name=n.name)
        else:
            v = self.w.op(op_t, xin, act=act, k=k, s=s, pad=pad, pad_same=same,
                          cin=cin, cout=cout, tensors=(tw, tb), name=n.name)
        kind_pre = ecw.TAP_PREACT if act != "none" else ecw.TAP_OUTPUT
        if bn is not None:
            ctap = (v, ecw.TAP_PRE_BN, scale, shift)
            if np.any(scale == 0):
                print("warning: %r: batch norm scale has zeros; its pre-BN tap is undefined there"
                      % n.name, file=sys.stderr)
            self.vals[n.out] = Val(v=v, c=cout, tap=ctap)
            self.add_tap(n.name, ctap)
            self.vals[bn.out] = Val(v=v, c=cout, tap=(v, kind_pre, None, None))
            self.add_tap(bn.name, self.vals[bn.out].tap)
            self.done.add(bn.idx)
            if anode is not None:
                self.vals[anode.out] = Val(v=v, c=cout, tap=(v, ecw.TAP_OUTPUT, None, None))
                self.add_tap(anode.name, self.vals[anode.out].tap)
                self.done.add(anode.idx)
        else:
            self.vals[n.out] = Val(v=v, c=cout, pooled=base.pooled, tap=(v, ecw.TAP_OUTPUT, None, None))
            self.add_tap(n.name, self.vals[n.out].tap)

    @staticmethod
    def _relu_kind(cfg):
        """'relu' / 'relu6' for a ReLU layer's config, None if not expressible."""
        mv = cfg.get("max_value")
        if (cfg.get("negative_slope", 0) or 0) != 0 or (cfg.get("threshold", 0) or 0) != 0:
            return None
        if mv is None:
            return "relu"
        return "relu6" if float(mv) == 6.0 else None

    def _fused_act(self, a):
        """The ecw activation of an Activation / ReLU node."""
        if a.cls == "ReLU":
            return self._relu_kind(a.cfg)
        return act_of(a.cfg.get("activation"), "layer %r" % a.name, a.legacy)

    def _act_after(self, t):
        """The Activation / ReLU node that alone consumes tensor t and can be
        fused into the op producing t, or None."""
        a = self.only_consumer(t, ("Activation", "ReLU"))
        if a is None:
            return None
        act = self._fused_act(a)
        if act in (None, "none", "softmax"):
            return None
        return a

    def _bn(self, bn, c):
        cfg = bn.cfg
        ax = cfg.get("axis", -1)
        ax = ax[0] if isinstance(ax, list) and len(ax) == 1 else ax
        self.chk(ax in (-1, 3), bn, "only channel-axis batch norm is supported")
        eps = float(cfg.get("epsilon", 1e-3))
        gamma = self.wget(bn, "gamma", [c]) if cfg.get("scale", True) else np.ones(c)
        beta = self.wget(bn, "beta", [c]) if cfg.get("center", True) else np.zeros(c)
        mean = self.wget(bn, "moving_mean", [c])
        var = self.wget(bn, "moving_variance", [c])
        self.chk(np.all(var + eps > 0), bn, "moving_variance + epsilon is not positive")
        scale = gamma / np.sqrt(var + eps)
        shift = beta - mean * scale
        return scale, shift

    def do_BatchNormalization(self, n):
        # a batch norm that could not be folded: a 1x1 depthwise conv
        x = self.val(n.ins[0], n)
        self.chk(x.pre is None and x.pad is None, n, "batch norm here cannot be folded or expressed")
        scale, shift = self._bn(n, x.c)
        act, anode = "none", self._act_after(n.out)
        if anode is not None:
            act = self._fused_act(anode)
        v = self.w.op("dwconv", x.v, act=act, k=(1, 1), s=(1, 1), cin=x.c, cout=x.c,
                      tensors=(self.tensor(scale.reshape(1, 1, -1)), self.bias(shift)), name=n.name)
        self.vals[n.out] = Val(v=v, c=x.c, pooled=x.pooled,
                               tap=(v, ecw.TAP_PREACT if act != "none" else ecw.TAP_OUTPUT, None, None))
        self.add_tap(n.name, self.vals[n.out].tap)
        if anode is not None:
            self.vals[anode.out] = Val(v=v, c=x.c, pooled=x.pooled, tap=(v, ecw.TAP_OUTPUT, None, None))
            self.add_tap(anode.name, self.vals[anode.out].tap)
            self.done.add(anode.idx)

    # -- merges -------------------------------------------------------------------------
    def do_Add(self, n):
        self.chk(len(n.ins) >= 2, n, "Add needs two or more inputs")
        xs = [self.val(t, n) for t in n.ins]
        c = xs[0].c
        for x in xs:
            self.chk(x.c == c and not x.pooled and x.pre is None, n, "inputs of different shapes")
        anode = self._act_after(n.out)
        act = "none"
        if anode is not None:
            act = self._fused_act(anode)
        v = self.materialize(xs[0], n)
        for i, x in enumerate(xs[1:]):
            last = i == len(xs) - 2
            v = self.w.op("add", v, self.materialize(x, n), act=act if last else "none",
                          cin=c, cout=c, name=n.name)
        self.vals[n.out] = Val(v=v, c=c, tap=(v, ecw.TAP_PREACT if act != "none" else ecw.TAP_OUTPUT,
                                             None, None))
        self.add_tap(n.name, self.vals[n.out].tap)
        if anode is not None:
            self.vals[anode.out] = Val(v=v, c=c, tap=(v, ecw.TAP_OUTPUT, None, None))
            self.add_tap(anode.name, self.vals[anode.out].tap)
            self.done.add(anode.idx)

    def do_Multiply(self, n):
        raise ConvertError("layer %r (Multiply): only the squeeze-and-excitation pattern "
                           "(GlobalAveragePooling2D, Reshape, Conv2D, Conv2D, Multiply) is supported" % n.name)

    # -- pooling, SE, head ------------------------------------------------------------------
    def _se_match(self, n):
        """Return (reshape or None, reduce conv, expand conv, multiply) or None."""
        t = n.out
        r = self.only_consumer(t, ("Reshape",))
        if r is not None:
            t = r.out
        elif not n.cfg.get("keepdims", False):
            return None
        c1 = self.only_consumer(t, ("Conv2D",))
        if c1 is None:
            return None
        c2 = self.only_consumer(c1.out, ("Conv2D",))
        if c2 is None:
            return None
        m = self.only_consumer(c2.out, ("Multiply",))
        if m is None or len(m.ins) != 2 or set(m.ins) != {n.ins[0], c2.out}:
            return None
        for c in (c1, c2):
            if tuple(c.cfg.get("kernel_size")) != (1, 1) or tuple(c.cfg.get("strides", (1, 1))) != (1, 1) \
                    or int(c.cfg.get("groups", 1)) != 1:
                return None
        return r, c1, c2, m

    def do_GlobalAveragePooling2D(self, n):
        x = self.val(n.ins[0], n)
        self.chk(n.cfg.get("data_format", "channels_last") in (None, "channels_last"), n,
                 "only channels_last is supported")
        self.chk(not x.pooled, n, "pooling an already pooled vector")
        se = self._se_match(n)
        if se is not None:
            return self._se(n, x, *se)
        xin = self.materialize(x, n)
        v = self.w.op("gap", xin, cin=x.c, cout=x.c, name=n.name)
        self.gap_input = x
        self.vals[n.out] = Val(v=v, c=x.c, pooled=True, tap=(v, ecw.TAP_OUTPUT, None, None))
        self.add_tap(n.name, self.vals[n.out].tap)

    def _se(self, n, x, r, c1, c2, m):
        c = x.c
        cmid = int(c1.cfg.get("filters"))
        k1 = self.wget(c1, "kernel", [1, 1, c, cmid])[0, 0].T  # [cmid, c]
        b1 = self.wget(c1, "bias", [cmid]) if c1.cfg.get("use_bias", True) else np.zeros(cmid)
        self.chk(int(c2.cfg.get("filters")) == c, c2, "SE expand must restore %d channels" % c)
        k2 = self.wget(c2, "kernel", [1, 1, cmid, c])[0, 0].T  # [c, cmid]
        b2 = self.wget(c2, "bias", [c]) if c2.cfg.get("use_bias", True) else np.zeros(c)
        a1 = act_of(c1.cfg.get("activation"), "layer %r" % c1.name, c1.legacy)
        a2 = act_of(c2.cfg.get("activation"), "layer %r" % c2.name, c2.legacy)
        self.chk(a1 != "softmax" and a2 != "softmax", c1, "softmax in an SE block")
        xin = self.materialize(x, n)
        v = self.w.op("se", xin, act=a1, act2=a2, cin=c, cout=c, cmid=cmid,
                      tensors=(self.tensor(k1), self.bias(b1), self.tensor(k2), self.bias(b2)),
                      name=m.name)
        for q in (n, r, c1, c2):
            if q is not None:
                self.untapped.append((q.name, q.cls, "inside the fused SE op"))
                self.done.add(q.idx)
        self.done.add(m.idx)
        self.vals[m.out] = Val(v=v, c=c, tap=(v, ecw.TAP_OUTPUT, None, None))
        self.add_tap(m.name, self.vals[m.out].tap)

    def do_GlobalMaxPooling2D(self, n):
        raise ConvertError("layer %r (GlobalMaxPooling2D) is not supported: effcam pools by average" % n.name)

    def do_Reshape(self, n):
        x = self.val(n.ins[0], n)
        ts = list(n.cfg.get("target_shape", []))
        self.chk(x.pooled and int(np.prod([d for d in ts if d != -1])) in (x.c, 1), n,
                 "Reshape is only supported on a pooled (1x1xC) vector")
        self.do_passthrough(n)

    def do_Flatten(self, n):
        x = self.val(n.ins[0], n)
        self.chk(x.pooled, n, "Flatten is only supported after global pooling")
        self.do_passthrough(n)

    def do_Dense(self, n):
        x = self.val(n.ins[0], n)
        self.chk(x.pooled, n, "Dense is only supported after global pooling")
        cout = int(n.cfg.get("units"))
        kern = self.wget(n, "kernel", [x.c, cout])
        bias = self.wget(n, "bias", [cout]) if n.cfg.get("use_bias", True) else None
        act = act_of(n.cfg.get("activation"), "layer %r" % n.name, n.legacy)
        if act == "softmax":
            self.chk(n.out == self.out_tensor, n, "softmax is only supported on the last Dense layer")
            self.head_softmax = True
            act = "none"
        bn = self.only_consumer(n.out, ("BatchNormalization",)) if act == "none" else None
        anode = None
        if bn is not None:  # Dense -> BatchNormalization (-> Activation) head
            scale, shift = self._bn(bn, cout)
            kern = kern * scale
            bias = shift + (scale * bias if bias is not None else 0.0)
            anode = self._act_after(bn.out)
            if anode is not None:
                act = self._fused_act(anode)
        v = self.w.op("dense", self.materialize(x, n), act=act, cin=x.c, cout=cout,
                      tensors=(self.tensor(kern.T), self.bias(bias) if bias is not None else -1),
                      name=n.name)
        kind = ecw.TAP_PREACT if act != "none" else ecw.TAP_OUTPUT
        if bn is not None:
            # the Dense's own output is not materialized: its tap is pre-BN
            self.vals[n.out] = Val(v=v, c=cout, pooled=True, tap=(v, ecw.TAP_PRE_BN, scale, shift))
            self.add_tap(n.name, self.vals[n.out].tap)
            self.vals[bn.out] = Val(v=v, c=cout, pooled=True, tap=(v, kind, None, None))
            self.add_tap(bn.name, self.vals[bn.out].tap)
            self.done.add(bn.idx)
            if anode is not None:
                self.vals[anode.out] = Val(v=v, c=cout, pooled=True, tap=(v, ecw.TAP_OUTPUT, None, None))
                self.add_tap(anode.name, self.vals[anode.out].tap)
                self.done.add(anode.idx)
        else:
            self.vals[n.out] = Val(v=v, c=cout, pooled=True, tap=(v, kind, None, None))
            self.add_tap(n.name, self.vals[n.out].tap)


# ---------------------------------------------------------------------------
# Driver
# ---------------------------------------------------------------------------

def parse_size(s):
    m = re.fullmatch(r"\s*(\d+)\s*[xX,]\s*(\d+)\s*", s or "")
    if not m:
        raise ConvertError("--size must look like 300x300 (height x width), got %r" % s)
    h, w = int(m.group(1)), int(m.group(2))
    if not (1 <= h <= 16384 and 1 <= w <= 16384):
        raise ConvertError("--size out of range: %r" % s)
    return h, w


def convert(path, labels=None, size=None, name=None, wdtype="f16"):
    """Convert; returns (EcwWriter, info dict). Raises ConvertError."""
    cfg, weights, fmt = load_model(path)
    if not isinstance(cfg, dict) or "config" not in cfg:
        raise ConvertError("%s: unexpected model config layout" % path)
    # nesting depth first, iteratively (no recursion on hostile configs)
    stack = [(cfg, 0)]
    while stack:
        c, d = stack.pop()
        if d > Graph.MAX_NESTING:
            raise ConvertError("%s: models nested more than %d deep" % (path, Graph.MAX_NESTING))
        ls = c.get("config", {}).get("layers") if isinstance(c, dict) and isinstance(c.get("config"), dict) else None
        for l in ls if isinstance(ls, list) else []:
            if isinstance(l, dict) and l.get("class_name") in ("Functional", "Model", "Sequential"):
                stack.append((l, d + 1))
    g = Graph(weights)
    try:
        root = weights.root if not weights.legacy else weights.root
        outs = g.add_model(cfg, "", root, None)
    except (KeyError, TypeError, IndexError, ValueError, AttributeError, OverflowError, RecursionError) as e:
        raise ConvertError("%s: malformed model config (%s: %s)" % (path, type(e).__name__, str(e)[:200]))
    if g.input_tensor is None:
        raise ConvertError("%s: the model has no InputLayer" % path)
    shp = g.input_shape or [None, None, None, 3]
    if len(shp) != 4:
        raise ConvertError("input shape %r is not [batch, height, width, channels]" % (shp,))
    if shp[3] not in (3, None):
        raise ConvertError("the model takes %s channels; effcam needs RGB (3)" % shp[3])
    hw = (shp[1], shp[2])
    if size is not None:
        hw = size
    if hw[0] is None or hw[1] is None:
        raise ConvertError("the model's input size is not fixed (%r); give --size HxW" % (shp,))
    if not all(isinstance(v, int) and 1 <= v <= 16384 for v in hw):
        raise ConvertError("input size %r is out of range (1..16384 each)" % (hw,))
    mname = name or cfg.get("config", {}).get("name") or os.path.splitext(os.path.basename(path))[0]
    w = ecw.EcwWriter(name=mname, input_hw=hw, source="keras", wdtype=wdtype)
    low = Lowerer(g, outs[0], w, wdtype)
    try:
        outv = low.run()
    except (KeyError, TypeError, IndexError, ValueError, AttributeError, OverflowError, RecursionError) as e:
        raise ConvertError("%s: malformed model config (%s: %s)" % (path, type(e).__name__, str(e)[:200]))
    if not w.ops or outv is None or outv.v != len(w.ops) or ecw.OP_NAME[w.ops[-1][0] | (w.ops[-1][1] << 8)] != "dense":
        raise ConvertError("the model must end in a Dense layer (optionally with softmax)")
    ncls = outv.c
    w.head_softmax = low.head_softmax
    pre = low.pre if low.pre is not None else (np.ones(3), np.zeros(3))
    w.pre_mul = [float(v) for v in pre[0]]
    w.pre_add = [float(v) for v in pre[1]]
    # taps: unique names, in layer order
    seen = set()
    for tname, v, kind, scale, shift in low.taps:
        if tname in seen:
            continue
        seen.add(tname)
        w.tap(tname, v, kind, scale, shift)
    default = None
    if "top_activation" in seen:
        default = "top_activation"
    elif low.gap_input is not None and low.gap_input.tap is not None:
        gv = low.gap_input.tap[0]
        cands = [t[0] for t in low.taps if t[1] == gv and t[2] == ecw.TAP_OUTPUT]
        default = cands[-1] if cands else None
    if default:
        w.set_default_tap(default)
    if labels:
        if len(labels) != ncls:
            raise ConvertError("%d labels given but the model has %d classes" % (len(labels), ncls))
        w.set_labels(labels)
    info = dict(format=fmt, classes=ncls, taps=[t for t in seen], untapped=low.untapped,
                params=low.params, default_tap=default, input_hw=hw, wdtype=wdtype)
    return w, info


def summary(w, info, out=None):
    from collections import Counter
    out = out or sys.stdout
    cnt = Counter(ecw.OP_NAME[r[0] | (r[1] << 8)] for r in w.ops)
    p = out.write
    p("model      %s (%s)\n" % (w.name, info["format"]))
    p("input      %dx%d RGB, stretch resize\n" % tuple(info["input_hw"]))
    p("preprocess x' = x * [%s] + [%s]  (x in 0..255)\n"
      % (", ".join("%.8g" % v for v in w.pre_mul), ", ".join("%.8g" % v for v in w.pre_add)))
    p("ops        %d (%s)\n" % (len(w.ops), ", ".join("%s %d" % kv for kv in sorted(cnt.items()))))
    p("params     %d (weights %s)\n" % (info["params"], info.get("wdtype", "f16")))
    p("classes    %d%s, labels %d\n" % (info["classes"], " + softmax" if w.head_softmax else " (logits)",
                                        len(w.labels)))
    p("taps       %d; default %s\n" % (len(info["taps"]), info["default_tap"]))
    if info["untapped"]:
        from collections import defaultdict
        why = defaultdict(list)
        for nm, cls, r in info["untapped"]:
            why[r].append(nm)
        for r, nms in why.items():
            p("  no tap (%s): %d layers, e.g. %s\n" % (r, len(nms), ", ".join(nms[:3])))


def main(argv=None):
    ap = argparse.ArgumentParser(description="Convert a Keras EfficientNet(V2) model to .ecw")
    ap.add_argument("model", help=".keras (Keras 3) or .h5 (Keras 2 full model)")
    ap.add_argument("out", help="output .ecw")
    ap.add_argument("--labels", help="text file, one class label per line")
    ap.add_argument("--label", action="append", default=[], help="a class label (repeat, in order)")
    ap.add_argument("--size", help="input HxW (when the model does not fix it, or to override)")
    ap.add_argument("--name", help="model name stored in the file")
    ap.add_argument("--f32-weights", action="store_true",
                    help="store the weights as fp32 (exact; twice the size) instead of fp16")
    a = ap.parse_args(argv)
    try:
        labels = list(a.label)
        if a.labels:
            if labels:
                raise ConvertError("give --labels FILE or --label NAME, not both")
            try:
                with open(a.labels, encoding="utf-8") as f:
                    labels = [ln.rstrip("\r\n") for ln in f]
            except OSError as e:
                raise ConvertError("cannot read %s: %s" % (a.labels, e))
            while labels and not labels[-1].strip():
                labels.pop()
        size = parse_size(a.size) if a.size else None
        w, info = convert(a.model, labels or None, size, a.name,
                          "f32" if a.f32_weights else "f16")
        try:
            w.write(a.out)
        except OSError as e:
            raise ConvertError("cannot write %s: %s" % (a.out, e))
    except ConvertError as e:
        print("keras2ecw: error: %s" % e, file=sys.stderr)
        return 1
    summary(w, info)
    print("wrote      %s (%d bytes)" % (a.out, os.path.getsize(a.out)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
