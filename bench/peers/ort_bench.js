#!/usr/bin/env node
// ONNX Runtime (onnxruntime-node) peer for effcam-bench: one model, one
// thread count, one fresh process. Prints one JSON line.
//   node bench/peers/ort_bench.js MODEL.onnx --size H W --threads N --runs N --warmup N
// Session: intra-op threads N, inter-op 1, sequential execution, all graph
// optimisations. Input: NCHW float32, already normalised (the effcam runs
// include their preprocessing; it is a few hundred microseconds).
'use strict';
const t0 = process.hrtime.bigint();
const ort = require('onnxruntime-node');
const fs = require('fs');

function arg(name, def) {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : def;
}
function stats(v) {
  const s = v.slice().sort((a, b) => a - b);
  const n = s.length;
  const med = n % 2 ? s[(n - 1) / 2] : 0.5 * (s[n / 2 - 1] + s[n / 2]);
  const r = Math.max(1, Math.ceil(0.9 * n));
  return { median_ms: med, min_ms: s[0], p90_ms: s[r - 1], mean_ms: s.reduce((a, b) => a + b, 0) / n, max_ms: s[n - 1] };
}
function hwm() {
  const m = /VmHWM:\s+(\d+)/.exec(fs.readFileSync('/proc/self/status', 'utf8'));
  return m ? Number(m[1]) * 1024 : 0;
}
const ms = (a, b) => Number(b - a) / 1e6;

async function main() {
  const model = process.argv[2];
  const i = process.argv.indexOf('--size');
  const h = i > 0 ? Number(process.argv[i + 1]) : 224;
  const w = i > 0 ? Number(process.argv[i + 2]) : h;
  const threads = Number(arg('--threads', '1'));
  const runs = Number(arg('--runs', '30'));
  const warmup = Number(arg('--warmup', '3'));
  const tl = process.hrtime.bigint();
  const sess = await ort.InferenceSession.create(model, {
    intraOpNumThreads: threads, interOpNumThreads: 1, executionMode: 'sequential',
    graphOptimizationLevel: 'all', executionProviders: ['cpu'],
  });
  const loadMs = ms(tl, process.hrtime.bigint());
  const data = new Float32Array(3 * h * w);
  let seed = 1;
  for (let k = 0; k < data.length; k++) { seed = (seed * 1664525 + 1013904223) >>> 0; data[k] = (seed / 4294967296) * 4 - 2; }
  const feeds = { [sess.inputNames[0]]: new ort.Tensor('float32', data, [1, 3, h, w]) };
  let out;
  for (let r = 0; r < warmup; r++) out = await sess.run(feeds);
  const startToResult = ms(t0, process.hrtime.bigint());
  const lat = [];
  for (let r = 0; r < runs; r++) {
    const a = process.hrtime.bigint();
    out = await sess.run(feeds);
    lat.push(ms(a, process.hrtime.bigint()));
  }
  const logits = out[sess.outputNames[0]].data;
  let check;
  const prefix = arg('--check', null);
  if (prefix) {
    // the probe is NHWC: transpose to NCHW, compare with PyTorch's logits
    const f32 = (p) => { const b = fs.readFileSync(p); return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength)); };
    const nhwc = f32(prefix + '.probe.f32');
    const ref = f32(prefix + '.probe_logits.f32');
    const x = new Float32Array(3 * h * w);
    for (let p = 0; p < h * w; p++) for (let c = 0; c < 3; c++) x[c * h * w + p] = nhwc[p * 3 + c];
    const o = (await sess.run({ [sess.inputNames[0]]: new ort.Tensor('float32', x, [1, 3, h, w]) }))[sess.outputNames[0]].data;
    let md = 0, mr = 0, a = 0, b = 0;
    for (let k = 0; k < ref.length; k++) {
      md = Math.max(md, Math.abs(o[k] - ref[k])); mr = Math.max(mr, Math.abs(ref[k]));
      if (o[k] > o[a]) a = k;
      if (ref[k] > ref[b]) b = k;
    }
    check = { ok: 1, max_rel_logit_diff: mr > 0 ? md / mr : md, same_top1: a === b ? 1 : 0 };
  }
  let arg1 = 0;
  for (let k = 1; k < logits.length; k++) if (logits[k] > logits[arg1]) arg1 = k;
  const res = {
    tool: 'ort', version: require('onnxruntime-node/package.json').version, node: process.version,
    model, h, w, threads, runs, warmup, load_ms: loadMs, start_to_result_ms: startToResult,
    predict: stats(lat), predict_ms: lat, top1: arg1, peak_rss_bytes: hwm(), check,
  };
  process.stdout.write(JSON.stringify(res) + '\n');
}
main().catch((e) => { console.error(e); process.exit(1); });
