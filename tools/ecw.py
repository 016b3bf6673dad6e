"""Writer and reader for effcam's .ecw model files (docs/FORMAT.md).

Used by every converter (tools/export_torchvision.py, tools/keras2ecw.py) so
there is one implementation of the layout on the Python side. numpy only.
"""
import struct
import zlib

import numpy as np

MAGIC = b"EFFCAMW\0"
VERSION = 1
HEADER_BYTES = 256
ALIGN = 64
NONE = 0xFFFFFFFF

OP = dict(conv2d=1, dwconv=2, pwconv=3, se=4, add=5, gap=6, dense=7, act=8)
OP_NAME = {v: k for k, v in OP.items()}
ACT = dict(none=0, relu=1, relu6=2, silu=3, sigmoid=4, hswish=5, hsigmoid=6)
ACT_NAME = {v: k for k, v in ACT.items()}
F16, F32 = 1, 2
TAP_OUTPUT, TAP_PREACT, TAP_PRE_BN = 0, 1, 2
SRC = dict(unknown=0, torchvision=1, keras=2, onnx=3)
RESIZE = dict(stretch=0, crop=1, letterbox=2)
FILTER = dict(bilinear=0, bicubic=1, lanczos=2, nearest=3)
OPF_PAD_SAME = 1


def _align(n, a=ALIGN):
    return (n + a - 1) // a * a


class EcwWriter:
    """Build a model op by op. Op i writes value i+1; value 0 is the input.

    Weight layouts (NHWC engine):
      conv2d  w [cout, kh, kw, cin]   b f32 [cout]
      dwconv  w [kh, kw, c]           b f32 [c]
      pwconv  w [cout, cin]           b f32 [cout]
      dense   w [cout, cin]           b f32 [cout]
      se      w1 [cmid, c] b1 f32 [cmid] w2 [c, cmid] b2 f32 [c]
    Weights (w, w1, w2) are written as `wdtype` ("f16", the default, or
    "f32": the values as given, no rounding); a wrapper's wdtype= argument
    overrides it for one op. Biases are always f32.
    """

    def __init__(self, name="", input_hw=(224, 224), pre_mul=(1, 1, 1),
                 pre_add=(0, 0, 0), channel_order=0, resize_policy="stretch",
                 resize_filter="bilinear", crop=(1, 1), source="unknown",
                 head_softmax=False, wdtype="f16"):
        if wdtype not in ("f16", "f32"):
            raise ValueError("weight dtype must be 'f16' or 'f32', not %r" % (wdtype,))
        self.wdtype = wdtype
        self.name = name
        self.input_hw = tuple(int(v) for v in input_hw)
        self.pre_mul = [float(v) for v in pre_mul]
        self.pre_add = [float(v) for v in pre_add]
        self.channel_order = channel_order
        self.resize_policy = RESIZE[resize_policy] if isinstance(resize_policy, str) else resize_policy
        self.resize_filter = FILTER[resize_filter] if isinstance(resize_filter, str) else resize_filter
        self.crop = crop
        self.source = SRC[source] if isinstance(source, str) else source
        self.head_softmax = head_softmax
        self.ops = []        # bytes records
        self.op_meta = []    # (type, cout) for shape checks
        self.tensors = []    # (dtype, dims, bytes, name)
        self.taps = []       # (name, value, kind, scale, shift)
        self.labels = []
        self.default_tap = None
        self.strings = bytearray()
        self._str_cache = {}
        self.channels = {0: 3}

    # -- strings -----------------------------------------------------------
    def _str(self, s):
        if s is None:
            return NONE
        b = s.encode("utf-8")
        if b"\0" in b:
            raise ValueError("NUL in string")
        if b in self._str_cache:
            return self._str_cache[b]
        off = len(self.strings)
        self.strings += b + b"\0"
        self._str_cache[b] = off
        return off

    # -- tensors -----------------------------------------------------------
    def tensor(self, arr, dtype="f16", name=None):
        if dtype not in ("f16", "f32"):
            raise ValueError("tensor dtype must be 'f16' or 'f32', not %r" % (dtype,))
        a = np.asarray(arr)
        if a.ndim < 1 or a.ndim > 4:
            raise ValueError("tensor rank must be 1..4")
        if not np.all(np.isfinite(a)):
            raise ValueError("tensor %r has non-finite values" % name)
        if dtype == "f16":
            h = a.astype(np.float16)
            if not np.all(np.isfinite(h)):
                raise ValueError("tensor %r overflows fp16 (max |x| = %g)" % (name, float(np.abs(a).max())))
            data = h.astype("<f2").tobytes()
            dt = F16
        else:
            data = a.astype(np.float32).astype("<f4").tobytes()
            dt = F32
        self.tensors.append((dt, list(a.shape), data, name))
        return len(self.tensors) - 1

    # -- ops -----------------------------------------------------------------
    def op(self, kind, in0, in1=-1, act="none", act2="none", k=(1, 1),
           s=(1, 1), pad=(0, 0, 0, 0), pad_same=False, cin=0, cout=0, cmid=0,
           tensors=(), name=None):
        t = list(tensors) + [-1] * (4 - len(tensors))
        a1 = ACT[act] if isinstance(act, str) else act
        a2 = ACT[act2] if isinstance(act2, str) else act2
        rec = struct.pack("<HBBIii4H4H3I4iI", OP[kind], a1, a2,
                          OPF_PAD_SAME if pad_same else 0, in0, in1,
                          k[0], k[1], s[0], s[1], *pad, cin, cout, cmid,
                          *t, self._str(name))
        assert len(rec) == 64
        self.ops.append(rec)
        v = len(self.ops)
        self.channels[v] = cout
        return v

    # convenience wrappers: w / b are float numpy arrays in engine layout
    def weight(self, w, wdtype=None):
        """A weight tensor in the writer's (or the given) weight dtype."""
        return self.tensor(w, wdtype or self.wdtype)

    def conv2d(self, x, w, b, stride=1, pad=(0, 0, 0, 0), pad_same=False,
               act="none", name=None, wdtype=None):
        cout, kh, kw, cin = w.shape
        st = stride if isinstance(stride, tuple) else (stride, stride)
        return self.op("conv2d", x, act=act, k=(kh, kw), s=st, pad=pad,
                       pad_same=pad_same, cin=cin, cout=cout,
                       tensors=(self.weight(w, wdtype), self._bias(b, cout)), name=name)

    def dwconv(self, x, w, b, stride=1, pad=(0, 0, 0, 0), pad_same=False,
               act="none", name=None, wdtype=None):
        kh, kw, c = w.shape
        st = stride if isinstance(stride, tuple) else (stride, stride)
        return self.op("dwconv", x, act=act, k=(kh, kw), s=st, pad=pad,
                       pad_same=pad_same, cin=c, cout=c,
                       tensors=(self.weight(w, wdtype), self._bias(b, c)), name=name)

    def pwconv(self, x, w, b, act="none", name=None, wdtype=None):
        cout, cin = w.shape
        return self.op("pwconv", x, act=act, cin=cin, cout=cout,
                       tensors=(self.weight(w, wdtype), self._bias(b, cout)), name=name)

    def se(self, x, w1, b1, w2, b2, act="silu", gate="sigmoid", name=None, wdtype=None):
        cmid, c = w1.shape
        return self.op("se", x, act=act, act2=gate, cin=c, cout=c, cmid=cmid,
                       tensors=(self.weight(w1, wdtype), self.tensor(b1, "f32"),
                                self.weight(w2, wdtype), self.tensor(b2, "f32")),
                       name=name)

    def add(self, a, b, act="none", name=None):
        c = self.channels[a]
        return self.op("add", a, b, act=act, cin=c, cout=c, name=name)

    def gap(self, x, name=None):
        c = self.channels[x]
        return self.op("gap", x, cin=c, cout=c, name=name)

    def dense(self, x, w, b, act="none", name=None, wdtype=None):
        cout, cin = w.shape
        return self.op("dense", x, act=act, cin=cin, cout=cout,
                       tensors=(self.weight(w, wdtype), self._bias(b, cout)), name=name)

    def act(self, x, act, name=None):
        c = self.channels[x]
        return self.op("act", x, act=act, cin=c, cout=c, name=name)

    def _bias(self, b, n):
        if b is None:
            return -1
        b = np.asarray(b, dtype=np.float32).reshape(-1)
        assert b.shape[0] == n
        return self.tensor(b, "f32")

    # -- taps, labels ----------------------------------------------------------
    def tap(self, name, value, kind=TAP_OUTPUT, scale=None, shift=None):
        st = self.tensor(scale, "f32") if scale is not None else -1
        sh = self.tensor(shift, "f32") if shift is not None else -1
        self.taps.append((name, value, kind, st, sh))
        return len(self.taps) - 1

    def set_default_tap(self, name):
        self.default_tap = name

    def set_labels(self, labels):
        self.labels = list(labels)

    # -- serialise ------------------------------------------------------------
    def tobytes(self):
        tap_recs = []
        tap_index = None
        for i, (name, value, kind, st, sh) in enumerate(self.taps):
            tap_recs.append(struct.pack("<IiIii12x", self._str(name), value,
                                        kind, st, sh))
            if name == self.default_tap:
                tap_index = i
        if self.default_tap is not None and tap_index is None:
            raise ValueError("default tap %r is not a tap" % self.default_tap)
        label_recs = [struct.pack("<I", self._str(l)) for l in self.labels]
        name_off = self._str(self.name) if self.name else NONE

        ops_off = HEADER_BYTES
        tensors_off = _align(ops_off + 64 * len(self.ops))
        taps_off = _align(tensors_off + 48 * len(self.tensors))
        labels_off = _align(taps_off + 32 * len(tap_recs))
        strings_off = _align(labels_off + 4 * len(label_recs))
        strings = bytes(self.strings)
        data_off = _align(strings_off + len(strings))

        data = bytearray()
        trecs = []
        for dt, dims, raw, name in self.tensors:
            off = _align(len(data))
            data += b"\0" * (off - len(data))
            data += raw
            d4 = list(dims) + [1] * (4 - len(dims))
            trecs.append(struct.pack("<II4IQQII", dt, len(dims), *d4, off,
                                     len(raw), self._str(name), 0))
        # _str may have grown the string table while packing tensors
        strings = bytes(self.strings)
        data_off = _align(strings_off + len(strings))
        data_bytes = _align(len(data))
        data += b"\0" * (data_bytes - len(data))
        file_bytes = data_off + data_bytes

        body = bytearray(file_bytes - HEADER_BYTES)

        def put(off, b):
            body[off - HEADER_BYTES:off - HEADER_BYTES + len(b)] = b

        put(ops_off, b"".join(self.ops))
        put(tensors_off, b"".join(trecs))
        put(taps_off, b"".join(tap_recs))
        put(labels_off, b"".join(label_recs))
        put(strings_off, strings)
        put(data_off, bytes(data))
        body_crc = zlib.crc32(bytes(body)) & 0xFFFFFFFF

        h = bytearray(HEADER_BYTES)
        struct.pack_into("<8sIIIIQ", h, 0, MAGIC, VERSION, 0x01020304,
                         HEADER_BYTES, 1 if self.head_softmax else 0, file_bytes)
        struct.pack_into("<4I", h, 32, len(self.ops), len(self.tensors),
                         len(tap_recs), len(label_recs))
        struct.pack_into("<8Q", h, 48, ops_off, tensors_off, taps_off,
                         labels_off, strings_off, len(strings), data_off,
                         data_bytes)
        struct.pack_into("<4I", h, 112, self.input_hw[0], self.input_hw[1], 3,
                         self.channel_order)
        struct.pack_into("<3f3f", h, 128, *self.pre_mul, *self.pre_add)
        struct.pack_into("<4I", h, 152, self.resize_policy, self.resize_filter,
                         self.crop[0], self.crop[1])
        struct.pack_into("<4I", h, 168,
                         NONE if tap_index is None else tap_index,
                         self.source, name_off, 0)
        struct.pack_into("<I", h, 184, body_crc)
        struct.pack_into("<I", h, 188, zlib.crc32(bytes(h[:188])) & 0xFFFFFFFF)
        return bytes(h) + bytes(body)

    def write(self, path):
        with open(path, "wb") as f:
            f.write(self.tobytes())


def read(path_or_bytes):
    """Parse an .ecw into plain Python structures (for tools and tests)."""
    b = path_or_bytes if isinstance(path_or_bytes, (bytes, bytearray)) else open(path_or_bytes, "rb").read()
    if b[:8] != MAGIC:
        raise ValueError("not an .ecw file")
    (n_ops, n_t, n_taps, n_lab) = struct.unpack_from("<4I", b, 32)
    (ops_off, t_off, taps_off, lab_off, s_off, s_bytes, d_off, d_bytes) = struct.unpack_from("<8Q", b, 48)
    strings = b[s_off:s_off + s_bytes]

    def s(off):
        if off == NONE:
            return None
        return strings[off:strings.index(b"\0", off)].decode()

    out = dict(ops=[], tensors=[], taps=[], labels=[])
    for i in range(n_t):
        dt, nd, d0, d1, d2, d3, off, nb, nm, _ = struct.unpack_from("<II4IQQII", b, t_off + 48 * i)
        dims = [d0, d1, d2, d3][:nd]
        raw = b[d_off + off:d_off + off + nb]
        arr = np.frombuffer(raw, dtype="<f2" if dt == F16 else "<f4").astype(np.float32).reshape(dims)
        out["tensors"].append(dict(dtype=dt, dims=dims, data=arr, name=s(nm)))
    for i in range(n_ops):
        f = struct.unpack_from("<HBBIii4H4H3I4iI", b, ops_off + 64 * i)
        out["ops"].append(dict(type=OP_NAME[f[0]], act=ACT_NAME[f[1]], act2=ACT_NAME[f[2]],
                               flags=f[3], in0=f[4], in1=f[5], k=f[6:8], s=f[8:10],
                               pad=f[10:14], cin=f[14], cout=f[15], cmid=f[16],
                               t=list(f[17:21]), name=s(f[21])))
    for i in range(n_taps):
        nm, v, kind, st, sh = struct.unpack_from("<IiIii", b, taps_off + 32 * i)
        out["taps"].append(dict(name=s(nm), value=v, kind=kind, scale=st, shift=sh))
    for i in range(n_lab):
        out["labels"].append(s(struct.unpack_from("<I", b, lab_off + 4 * i)[0]))
    hdr = struct.unpack_from("<3I", b, 112)
    out["input_hw"] = hdr[:2]
    out["pre_mul"] = struct.unpack_from("<3f", b, 128)
    out["pre_add"] = struct.unpack_from("<3f", b, 140)
    dt = struct.unpack_from("<I", b, 168)[0]
    out["default_tap"] = None if dt == NONE else out["taps"][dt]["name"]
    return out
