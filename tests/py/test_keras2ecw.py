#!/usr/bin/python3
"""Tests of tools/keras2ecw.py (run: /usr/bin/python3 tests/py/test_keras2ecw.py).

Uses the real Keras files in ../shared/data/keras (EFFCAM_SHARED_DATA
overrides); every test that needs them says so and skips without them.
A legacy Keras 2 / tf.keras full-model .h5 is synthesized from the same
configs and weights to exercise that code path (no sample file exists).
"""
import contextlib
import copy
import io
import json
import os
import sys
import tempfile
import unittest
import zipfile

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "tools"))
import ecw  # noqa: E402
import keras2ecw  # noqa: E402

import h5py  # noqa: E402

def _shared():
    if os.environ.get("EFFCAM_SHARED_DATA"):
        return os.environ["EFFCAM_SHARED_DATA"]
    for up in ("..", os.path.join("..", "..")):  # repo/../shared, or from a worktree
        d = os.path.join(ROOT, up, "shared", "data")
        if os.path.isdir(d):
            return d
    return os.path.join(ROOT, "..", "shared", "data")


DATA = os.path.join(_shared(), "keras")
NESTED = os.path.join(DATA, "kv2s_tiny_nested_c7_128.keras")
V1 = os.path.join(DATA, "kv1_tiny_c5_96x120.keras")
V2S = os.path.join(DATA, "kv2s_tiny_c7_128.keras")
HAVE = all(os.path.exists(p) for p in (NESTED, V1, V2S))
need = unittest.skipUnless(HAVE, "shared Keras test data not found in %s" % DATA)

LEGACY_VARS = {"Conv2D": ["kernel", "bias"], "DepthwiseConv2D": ["depthwise_kernel", "bias"],
               "Dense": ["kernel", "bias"],
               "BatchNormalization": ["gamma", "beta", "moving_mean", "moving_variance"],
               "Normalization": ["mean", "variance", "count"]}


def read_keras(path):
    z = zipfile.ZipFile(path)
    return json.loads(z.read("config.json")), z.read("model.weights.h5")


def write_keras(path, cfg, h5bytes):
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("metadata.json", json.dumps({"keras_version": "3.0.5"}))
        z.writestr("config.json", json.dumps(cfg))
        z.writestr("model.weights.h5", h5bytes)


def k3_weights(cfg, h5bytes):
    """{layer name: [arrays in Keras 3 order]} for every layer, any depth."""
    h = h5py.File(io.BytesIO(h5bytes), "r")
    out = {}

    def walk(layers, g):
        for l, k in zip(layers, keras2ecw.Weights.keras3_keys(layers)):
            lg = g["layers"][k]
            if l["class_name"] == "Functional":
                walk(l["config"]["layers"], lg)
            vs = lg["vars"]
            out[l["name"]] = [vs[i][()] for i in sorted(vs.keys(), key=int)]
    walk(cfg["config"]["layers"], h)
    return out


def to_legacy_cfg(cfg):
    """Keras 3 functional config -> Keras 2 style (inbound_nodes lists)."""
    cfg = copy.deepcopy(cfg)

    def conv(layers):
        for l in layers:
            c = l["config"]
            if l["class_name"] == "InputLayer":
                c["batch_input_shape"] = c.pop("batch_shape")
            nodes = []
            for nd in l.get("inbound_nodes", []):
                refs = keras2ecw._k3_tensors(nd["args"], [])
                nodes.append([[r[0], r[1], r[2], {}] for r in refs])
            l["inbound_nodes"] = nodes
            if l["class_name"] == "Functional":
                l["class_name"] = "Model"
                conv(c["layers"])
    conv(cfg["config"]["layers"])
    cfg["class_name"] = "Model"
    return cfg


def write_legacy_h5(path, cfg3, h5bytes):
    w = k3_weights(cfg3, h5bytes)
    cfg2 = to_legacy_cfg(cfg3)
    with h5py.File(path, "w") as f:
        f.attrs["model_config"] = json.dumps(cfg2).encode()
        f.attrs["keras_version"] = b"2.15.0"
        f.attrs["backend"] = b"tensorflow"
        mw = f.create_group("model_weights")
        top = cfg2["config"]["layers"]
        mw.attrs["layer_names"] = [l["name"].encode() for l in top]

        def names(l, arrs):
            if l["class_name"] == "BatchNormalization":
                n = (["gamma"] if l["config"].get("scale", True) else []) + \
                    (["beta"] if l["config"].get("center", True) else []) + ["moving_mean", "moving_variance"]
            else:
                n = LEGACY_VARS.get(l["class_name"], [])[:len(arrs)]
            return ["%s/%s:0" % (l["name"], v) for v in n]

        for l in top:
            g = mw.create_group(l["name"])
            if l["class_name"] == "Model":
                # tf.keras: all inner weights in the nested model's group
                wn = []
                for il in l["config"]["layers"]:
                    arrs = w.get(il["name"], [])
                    for nm, a in zip(names(il, arrs), arrs):
                        g.create_dataset(nm, data=a)
                        wn.append(nm.encode())
                g.attrs["weight_names"] = wn
            else:
                arrs = w.get(l["name"], [])
                wn = names(l, arrs)
                for nm, a in zip(wn, arrs):
                    g.create_dataset(nm, data=a)
                g.attrs["weight_names"] = [n.encode() for n in wn]


def convert_err(path, **kw):
    try:
        keras2ecw.convert(path, **kw)
    except keras2ecw.ConvertError as e:
        return str(e)
    return None


class TestNaming(unittest.TestCase):
    def test_snake_case(self):
        for cls, key in [("Conv2D", "conv2d"), ("DepthwiseConv2D", "depthwise_conv2d"),
                         ("BatchNormalization", "batch_normalization"), ("InputLayer", "input_layer"),
                         ("ZeroPadding2D", "zero_padding2d"), ("Functional", "functional"),
                         ("GlobalAveragePooling2D", "global_average_pooling2d")]:
            self.assertEqual(keras2ecw.snake_case(cls), key)

    def test_keys_counter(self):
        L = [{"class_name": c} for c in ("InputLayer", "Conv2D", "BatchNormalization", "Conv2D", "Conv2D")]
        self.assertEqual(keras2ecw.Weights.keras3_keys(L),
                         ["input_layer", "conv2d", "batch_normalization", "conv2d_1", "conv2d_2"])


@need
class TestReal(unittest.TestCase):
    def test_taps_and_header(self):
        w, info = keras2ecw.convert(NESTED, labels=["c%d" % i for i in range(7)])
        m = ecw.read(w.tobytes())
        taps = {t["name"]: t for t in m["taps"]}
        self.assertEqual(taps["top_conv"]["kind"], ecw.TAP_PRE_BN)
        self.assertGreaterEqual(taps["top_conv"]["scale"], 0)
        self.assertEqual(taps["top_bn"]["kind"], ecw.TAP_PREACT)
        self.assertEqual(taps["top_activation"]["kind"], ecw.TAP_OUTPUT)
        self.assertEqual(taps["top_bn"]["value"], taps["top_activation"]["value"])
        self.assertIn("block4b_add", taps)
        self.assertIn("efficientnetv2-s", taps)  # the nested model's output
        self.assertEqual(m["default_tap"], "top_activation")
        self.assertEqual(m["labels"], ["c%d" % i for i in range(7)])
        self.assertEqual(m["ops"][-1]["type"], "dense")
        self.assertEqual(m["ops"][-1]["act"], "none")
        self.assertTrue(w.head_softmax)
        self.assertEqual(tuple(m["input_hw"]), (128, 128))
        np.testing.assert_allclose(m["pre_mul"], [1 / 128.0] * 3)
        np.testing.assert_allclose(m["pre_add"], [-1.0] * 3)
        # stride-2 'same' convs use the pad_same flag; stride 1 explicit pads
        for op in m["ops"]:
            if op["type"] in ("conv2d", "dwconv") and op["s"] == (2, 2):
                self.assertEqual(op["flags"] & ecw.OPF_PAD_SAME, 1, op["name"])
        for op in m["ops"]:
            for t in op["t"]:
                if t >= 0 and op["type"] != "gap":
                    self.assertIn(m["tensors"][t]["dtype"], (ecw.F16, ecw.F32))

    def test_f32_weights(self):
        """--f32-weights: every weight tensor f32 (biases f32 as always), the
        same graph and tensors as the fp16 conversion, values within fp16
        rounding of them (and not all fp16-representable)."""
        w16, _ = keras2ecw.convert(V1)
        w32, info = keras2ecw.convert(V1, wdtype="f32")
        self.assertEqual(info["wdtype"], "f32")
        m16, m32 = ecw.read(w16.tobytes()), ecw.read(w32.tobytes())
        self.assertEqual([o["type"] for o in m16["ops"]], [o["type"] for o in m32["ops"]])
        self.assertEqual(len(m16["tensors"]), len(m32["tensors"]))
        weights = set()
        for op in m32["ops"]:
            slots = {"conv2d": (0,), "dwconv": (0,), "pwconv": (0,), "dense": (0,), "se": (0, 2)}.get(op["type"], ())
            weights.update(op["t"][k] for k in slots)
        exact16 = True
        for i, (a, b) in enumerate(zip(m16["tensors"], m32["tensors"])):
            self.assertEqual(b["dtype"], ecw.F32, i)
            self.assertEqual(a["dtype"], ecw.F16 if i in weights else ecw.F32, i)
            self.assertEqual(a["dims"], b["dims"])
            np.testing.assert_allclose(a["data"], b["data"], rtol=1e-3, atol=1e-7)
            if i in weights:
                exact16 &= bool(np.all(b["data"].astype(np.float16).astype(np.float32) == b["data"]))
        self.assertFalse(exact16)
        with self.assertRaises(ValueError):
            ecw.EcwWriter(wdtype="f64")

    def test_v1_zero_padding(self):
        w, _ = keras2ecw.convert(V1)
        m = ecw.read(w.tobytes())
        stem = [o for o in m["ops"] if o["name"] == "stem_conv"][0]
        self.assertEqual(stem["pad"], (0, 0, 1, 1))
        self.assertEqual(stem["flags"], 0)

    def test_legacy_h5_matches_keras3(self):
        for path in (NESTED, V1):
            cfg, h5b = read_keras(path)
            with tempfile.TemporaryDirectory() as d:
                p = os.path.join(d, "m.h5")
                write_legacy_h5(p, cfg, h5b)
                w2, info = keras2ecw.convert(p)
                self.assertEqual(info["format"], "legacy-h5")
            w3, _ = keras2ecw.convert(path)
            self.assertEqual(w2.tobytes(), w3.tobytes(), path)

    def test_f32_variant(self):
        w, _ = keras2ecw.convert(V2S, wdtype="f32")
        m = ecw.read(w.tobytes())
        self.assertEqual(m["tensors"][m["ops"][0]["t"][0]]["dtype"], ecw.F32)


def _interp():
    d = os.environ.get("ECW_INTERP_DIR", os.path.join(ROOT, "..", "exporter", "tools"))
    if os.path.exists(os.path.join(d, "ecw_interp.py")) and d not in sys.path:
        sys.path.append(d)
    try:
        import torch  # noqa: F401
        import ecw_interp
        return ecw_interp
    except ImportError:
        return None


@need
class TestHead(unittest.TestCase):
    """GAP -> Dense(16) -> BatchNormalization -> Activation(relu) -> Dropout
    -> Dense(7, softmax) on the nested base model, checked numerically."""

    def test_extra_dense_bn_head(self):
        interp = _interp()
        if interp is None:
            self.skipTest("tools/ecw_interp.py (exporter worktree) not available; set ECW_INTERP_DIR")
        import torch
        cfg, h5b = read_keras(NESTED)
        cfg = copy.deepcopy(cfg)
        L = cfg["config"]["layers"]
        gap, drop, head = [l for l in L if l["name"] in ("gap", "head_dropout", "head")]

        def ref(name):
            return {"args": [{"class_name": "__keras_tensor__",
                              "config": {"shape": [None, 16], "dtype": "float32",
                                         "keras_history": [name, 0, 0]}}], "kwargs": {}}
        fc1 = {"module": "keras.layers", "class_name": "Dense", "name": "fc1",
               "config": {"name": "fc1", "units": 16, "activation": "linear", "use_bias": True},
               "inbound_nodes": [ref("gap")]}
        bn = {"module": "keras.layers", "class_name": "BatchNormalization", "name": "fc1_bn",
              "config": {"name": "fc1_bn", "axis": -1, "epsilon": 0.01, "center": True, "scale": True},
              "inbound_nodes": [ref("fc1")]}
        act = {"module": "keras.layers", "class_name": "Activation", "name": "fc1_act",
               "config": {"name": "fc1_act", "activation": "relu"}, "inbound_nodes": [ref("fc1_bn")]}
        drop["inbound_nodes"] = [ref("fc1_act")]
        i = L.index(gap)
        L[i + 1:i + 1] = [fc1, bn, act]
        rs = np.random.RandomState(1)
        W1, b1 = rs.randn(320, 16) * 0.2, rs.randn(16) * 0.1
        gam, bet = rs.rand(16) + 0.5, rs.randn(16) * 0.1
        mu, var = rs.randn(16) * 0.1, rs.rand(16) + 0.2
        W2, b2 = rs.randn(16, 7) * 0.3, rs.randn(7) * 0.1
        p5 = os.path.join(tempfile.mkdtemp(), "w.h5")
        with open(p5, "wb") as f:
            f.write(h5b)
        with h5py.File(p5, "r+") as h:
            del h["layers/dense"]
            # wrapper keys in layer order: dense (fc1), batch_normalization,
            # activation, dropout, dense_1 (head)
            for key, arrs in (("dense", [W1, b1]), ("batch_normalization", [gam, bet, mu, var]),
                              ("activation", []), ("dense_1", [W2, b2])):
                g = h.create_group("layers/%s/vars" % key)
                for j, a in enumerate(arrs):
                    g[str(j)] = a.astype(np.float32)
        pk = p5[:-3] + ".keras"
        with open(p5, "rb") as f:
            write_keras(pk, cfg, f.read())
        w, info = keras2ecw.convert(pk, wdtype="f32")
        m = ecw.read(w.tobytes())
        taps = {t["name"]: t for t in m["taps"]}
        self.assertEqual(taps["fc1"]["kind"], ecw.TAP_PRE_BN)
        self.assertEqual(taps["fc1_bn"]["kind"], ecw.TAP_PREACT)
        self.assertEqual([o["type"] for o in m["ops"][-3:]], ["gap", "dense", "dense"])
        self.assertEqual(m["ops"][-2]["act"], "relu")
        x = np.random.RandomState(2).uniform(0, 255, (128, 128, 3))
        r = interp.run(m, x, dtype=torch.float64, keep_values=False)
        W = lambda a: a.astype(np.float32).astype(np.float64)  # noqa: E731
        g = r["taps"]["gap"].reshape(-1)
        z = g @ W(W1) + W(b1)
        np.testing.assert_allclose(r["taps"]["fc1"].reshape(-1), z, rtol=1e-5, atol=1e-5)
        z = (z - W(mu)) / np.sqrt(W(var) + 0.01) * W(gam) + W(bet)
        lg = np.maximum(z, 0) @ W(W2) + W(b2)
        np.testing.assert_allclose(r["logits"], lg, rtol=1e-5, atol=1e-5)


@need
class TestErrors(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.d = self.tmp.name
        self.cfg, self.h5 = read_keras(V2S)

    def tearDown(self):
        self.tmp.cleanup()

    def edit_h5(self, fn):
        p = os.path.join(self.d, "w.h5")
        with open(p, "wb") as f:
            f.write(self.h5)
        with h5py.File(p, "r+") as h:
            fn(h)
        with open(p, "rb") as f:
            return f.read()

    def test_truncated_zip(self):
        p = os.path.join(self.d, "t.keras")
        with open(V2S, "rb") as f:
            b = f.read()
        with open(p, "wb") as f:
            f.write(b[:len(b) // 2])
        self.assertIn("truncated", convert_err(p))

    def test_not_a_model(self):
        p = os.path.join(self.d, "x.bin")
        with open(p, "wb") as f:
            f.write(b"hello world")
        self.assertIn("neither", convert_err(p))

    def test_missing_dataset(self):
        def rm(h):
            del h["layers/conv2d_5/vars/0"]
        p = os.path.join(self.d, "m.keras")
        write_keras(p, self.cfg, self.edit_h5(rm))
        self.assertIn("weight", convert_err(p))

    def test_missing_group(self):
        def rm(h):
            del h["layers/batch_normalization_3"]
        p = os.path.join(self.d, "m.keras")
        write_keras(p, self.cfg, self.edit_h5(rm))
        e = convert_err(p)
        self.assertIn("not found", e)
        self.assertIn("BatchNormalization", e)

    def test_wrong_shape(self):
        def bad(h):
            a = h["layers/conv2d_3/vars/0"][()]
            del h["layers/conv2d_3/vars/0"]
            h["layers/conv2d_3/vars/0"] = a[..., :-1]
        p = os.path.join(self.d, "m.keras")
        write_keras(p, self.cfg, self.edit_h5(bad))
        self.assertIn("has shape", convert_err(p))

    def test_unsupported_layer(self):
        cfg = copy.deepcopy(self.cfg)
        for l in cfg["config"]["layers"]:
            if l["name"] == "top_activation":
                l["class_name"] = "LayerNormalization"
        p = os.path.join(self.d, "m.keras")
        write_keras(p, cfg, self.h5)
        e = convert_err(p)
        self.assertIn("top_activation", e)
        self.assertIn("LayerNormalization", e)

    def test_unsupported_activation(self):
        cfg = copy.deepcopy(self.cfg)
        for l in cfg["config"]["layers"]:
            if l["name"] == "top_activation":
                l["config"]["activation"] = "gelu"
        p = os.path.join(self.d, "m.keras")
        write_keras(p, cfg, self.h5)
        self.assertIn("gelu", convert_err(p))

    def test_size_needed(self):
        cfg = copy.deepcopy(self.cfg)
        cfg["config"]["layers"][0]["config"]["batch_shape"] = [None, None, None, 3]
        p = os.path.join(self.d, "m.keras")
        write_keras(p, cfg, self.h5)
        self.assertIn("--size", convert_err(p))
        w, _ = keras2ecw.convert(p, size=(300, 300))
        self.assertEqual(w.input_hw, (300, 300))

    def _layer(self, cfg, name):
        for l in cfg["config"]["layers"]:
            if l["name"] == name:
                return l
        raise KeyError(name)

    def _write(self, cfg, h5=None):
        p = os.path.join(self.d, "m.keras")
        write_keras(p, cfg, self.h5 if h5 is None else h5)
        return p

    def test_graph_self_loop(self):
        cfg = copy.deepcopy(self.cfg)
        l = self._layer(cfg, "top_activation")
        l["inbound_nodes"] = [{"args": [{"class_name": "__keras_tensor__", "config": {
            "shape": [None, 4, 4, 64], "dtype": "float32", "keras_history": ["top_activation", 0, 0]}}],
            "kwargs": {}}]
        e = convert_err(self._write(cfg))
        self.assertIsNotNone(e)
        self.assertIn("top_activation", e)

    def test_graph_cycle(self):
        # top_conv <- top_activation: a cycle through two layers
        cfg = copy.deepcopy(self.cfg)
        act = self._layer(cfg, "top_activation")
        conv = self._layer(cfg, "top_conv")
        conv["inbound_nodes"] = copy.deepcopy(act["inbound_nodes"])
        conv["inbound_nodes"][0]["args"][0]["config"]["keras_history"] = ["top_activation", 0, 0]
        self.assertIsNotNone(convert_err(self._write(cfg)))

    def test_unknown_input_layer(self):
        cfg = copy.deepcopy(self.cfg)
        l = self._layer(cfg, "top_activation")
        l["inbound_nodes"][0]["args"][0]["config"]["keras_history"] = ["no_such_layer", 0, 0]
        self.assertIsNotNone(convert_err(self._write(cfg)))

    def test_wrong_config_types(self):
        for field, value in [("kernel_size", "three"), ("strides", None), ("filters", "many"),
                             ("padding", 7), ("kernel_size", [3, 3, 3, 3, 3]), ("strides", [0, 0]),
                             ("kernel_size", [-1, 3]), ("dilation_rate", [2, 2])]:
            cfg = copy.deepcopy(self.cfg)
            self._layer(cfg, "top_conv")["config"][field] = value
            e = convert_err(self._write(cfg))
            self.assertIsNotNone(e, "%s=%r accepted" % (field, value))

    def test_wrong_layer_list_types(self):
        for mutate in (lambda c: c["config"].__setitem__("layers", "not a list"),
                       lambda c: c["config"]["layers"].__setitem__(3, "a string"),
                       lambda c: c["config"]["layers"][3].__setitem__("config", [1, 2]),
                       lambda c: c["config"]["layers"][3].__setitem__("inbound_nodes", 5),
                       lambda c: c["config"].__setitem__("output_layers", [["top_conv", "x", 0]])):
            cfg = copy.deepcopy(self.cfg)
            mutate(cfg)
            self.assertIsNotNone(convert_err(self._write(cfg)))

    def test_weight_wrong_dtype(self):
        def bad(h):
            a = h["layers/conv2d_3/vars/0"][()]
            del h["layers/conv2d_3/vars/0"]
            h["layers/conv2d_3/vars/0"] = np.full(a.shape, b"x", dtype="S1")
        self.assertIsNotNone(convert_err(self._write(self.cfg, self.edit_h5(bad))))

    def test_huge_declared_sizes(self):
        cfg = copy.deepcopy(self.cfg)
        cfg["config"]["layers"][0]["config"]["batch_shape"] = [None, 10 ** 9, 10 ** 9, 3]
        e = convert_err(self._write(cfg))
        self.assertIsNotNone(e)
        cfg = copy.deepcopy(self.cfg)
        cfg["config"]["layers"][0]["config"]["batch_shape"] = [None, -5, 128, 3]
        self.assertIsNotNone(convert_err(self._write(cfg)))
        cfg = copy.deepcopy(self.cfg)
        for l in cfg["config"]["layers"]:
            if l["class_name"] == "Dense":
                l["config"]["units"] = 10 ** 12
        self.assertIsNotNone(convert_err(self._write(cfg)))

    def test_zip_declared_size(self):
        # a config.json that inflates to 200 MB: refused from its declared size
        p = os.path.join(self.d, "bomb.keras")
        with zipfile.ZipFile(p, "w", compression=zipfile.ZIP_DEFLATED) as z:
            z.writestr("metadata.json", json.dumps({"keras_version": "3.0.5"}))
            z.writestr("config.json", b" " * (200 << 20))
            z.writestr("model.weights.h5", self.h5)
        e = convert_err(p)
        self.assertIsNotNone(e)
        self.assertIn("declares", e)

    def test_deep_nesting(self):
        # models nested 40 deep: refused with a clear limit
        inner = copy.deepcopy(self.cfg)
        for i in range(40):
            inner = {"class_name": "Functional", "config": {"name": "m%d" % i, "layers": [
                {"class_name": "InputLayer", "name": "in", "config": {"batch_shape": [None, 128, 128, 3]},
                 "inbound_nodes": []},
                dict(inner, name="sub", inbound_nodes=[{"args": [{"class_name": "__keras_tensor__", "config": {
                    "keras_history": ["in", 0, 0]}}], "kwargs": {}}])],
                "input_layers": [["in", 0, 0]], "output_layers": [["sub", 0, 0]]}}
        e = convert_err(self._write(inner))
        self.assertIsNotNone(e)
        self.assertIn("nested", e)
        # config.json nested 100000 deep: an error, not a RecursionError traceback
        p = os.path.join(self.d, "deep.keras")
        with zipfile.ZipFile(p, "w") as z:
            z.writestr("metadata.json", json.dumps({"keras_version": "3.0.5"}))
            z.writestr("config.json", "[" * 100000 + "]" * 100000)
            z.writestr("model.weights.h5", self.h5)
        self.assertIsNotNone(convert_err(p))

    def test_labels_count(self):
        self.assertIn("labels", convert_err(V2S, labels=["a", "b"]))

    def test_cli_no_traceback(self):
        p = os.path.join(self.d, "t.keras")
        with open(p, "wb") as f:
            f.write(b"PK\x03\x04garbage")
        err = io.StringIO()
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
            rc = keras2ecw.main([p, os.path.join(self.d, "o.ecw")])
        self.assertEqual(rc, 1)
        self.assertIn("keras2ecw: error:", err.getvalue())
        self.assertNotIn("Traceback", err.getvalue())

    def test_cli_ok(self):
        lab = os.path.join(self.d, "labels.txt")
        with open(lab, "w") as f:
            f.write("\n".join("class %d" % i for i in range(7)) + "\n")
        out = os.path.join(self.d, "o.ecw")
        so = io.StringIO()
        with contextlib.redirect_stdout(so):
            rc = keras2ecw.main([V2S, out, "--labels", lab, "--name", "derm"])
        self.assertEqual(rc, 0)
        with open(out, "rb") as f:
            m = ecw.read(f.read())
        self.assertEqual(m["labels"][6], "class 6")
        self.assertIn("taps", so.getvalue())


if __name__ == "__main__":
    unittest.main(verbosity=1)
