/* Kernels: pure math on NHWC fp32 activations with fp16 or fp32 weights.
 * One op per file (lib/ops/<op>.c), each a forward / backward pair in the
 * llm.c style. Kernels never allocate: every temporary lives in `scratch`,
 * whose exact size comes from the op's *_scratch_floats() function (the
 * planner calls the same function, so plan and run cannot disagree).
 *
 * Conventions
 *   - activations NHWC, batch 1: x[(y * W + x) * C + c]
 *   - weights fp16 (IEEE binary16 bits in uint16_t) or fp32, as the dims
 *     struct's `wdt` says (EC_WDT_*); biases fp32 (may be NULL). fp16 weights
 *     are widened into scratch on every call; fp32 weights are read in place
 *     and need no scratch for them (the *_scratch_floats() sizes say so).
 *   - `preact` (forward, optional): if non-NULL, the op also stores its
 *     output before the fused activation there (same shape as out). Grad-CAM
 *     keeps it for the backward pass. NULL in predict.
 *   - backward kernels take the gradient w.r.t. the op's PRE-activation
 *     output (apply ec_act_backward first) and write (overwrite, not
 *     accumulate) the gradient w.r.t. the op's input.
 *   - reference (naive) versions live in tests/support/ref_conv.c and
 *     tests/support/ref_misc.c, not here.
 */
#ifndef EFFCAM_OPS_H
#define EFFCAM_OPS_H

#include <stddef.h>
#include <stdint.h>

/* ---- fp16 ------------------------------------------------------------ */
float ec_f16_to_f32(uint16_t h);
uint16_t ec_f32_to_f16(float f); /* round to nearest even */
/* dst[i] = f16(src[i]) widened, n elements (F16C when available). */
void ec_f16_widen(float *dst, const uint16_t *src, size_t n);

/* ---- weight dtype of a kernel (the dims structs' wdt fields) ------------
 * 0 = fp16 so that zero-initialised dims keep meaning fp16 weights. */
enum { EC_WDT_F16 = 0, EC_WDT_F32 = 1 };

/* ---- activations (act.c) -------------------------------------------- */
/* act: enum ecw_act (ecw_format.h). */
float ec_act_scalar(int act, float x);
void ec_act_forward(float *x, size_t n, int act); /* in place */
/* dx[i] = dy[i] * act'(pre[i]); dx may alias dy. */
void ec_act_backward(float *dx, const float *dy, const float *pre, size_t n,
                     int act);
/* Same over rows x row_len elements, one band of rows per pool thread (as
 * the row-split kernels that write the gradient: each thread reads the rows
 * it wrote). */
void ec_act_backward_rows(float *dx, const float *dy, const float *pre, int rows, size_t row_len, int act);
/* Same, applied per output of a bias+act epilogue helper:
 * y[m, n] = act(y[m, n] + b[n]) for an M x N row-major block; if pre != NULL
 * it receives y + b before the activation. */
void ec_bias_act(float *y, const float *b, int M, int N, int act, float *pre);

/* Instruction-set paths (runtime dispatch). isa < 0 or above what the CPU
 * has: the best available. Tests call each level against the scalar one. */
enum { EC_ISA_SCALAR = 0, EC_ISA_AVX2 = 1, EC_ISA_AVX512 = 2 };
int ec_isa_max(void);
/* y[i] = exp(x[i]); the SIMD levels use the vectorised exp of act.c. */
void ec_exp_isa(float *y, const float *x, size_t n, int isa);
/* y[i] = act(y[i] + b[i]) over n (b may be NULL); pre[i] = y[i] + b[i]. */
void ec_act_row_isa(float *y, const float *b, size_t n, int act, float *pre, int isa);
void ec_act_backward_isa(float *dx, const float *dy, const float *pre, size_t n, int act, int isa);
/* out[i] = act(a[i] + b[i]); pre optional; out may alias a or b. */
void ec_act_add_isa(float *out, const float *a, const float *b, size_t n, int act, float *pre, int isa);

/* ---- conv2d (conv2d.c): k x k, stride, explicit per-side padding -------
 * Tiled im2col + sgemm; the tile height is chosen by ec_conv2d_tile_rows()
 * so the im2col tile stays under EC_CONV_TILE_BYTES (1 MiB: at 256 KiB the
 * 3x3 convs of EfficientNetV2 ran one 75-pixel row per sgemm and spent ~10%
 * more time re-packing the weights). */
#define EC_CONV_TILE_BYTES (1024u * 1024u)
typedef struct ec_conv_dims {
    int h, w, cin;    /* input  [h, w, cin]            */
    int oh, ow, cout; /* output [oh, ow, cout]         */
    int kh, kw, sh, sw;
    int pt, pl;       /* top / left padding; bottom / right follow from oh, ow */
    int act;          /* fused activation              */
    int wdt;          /* weight dtype, EC_WDT_*        */
    int wino_pre;     /* Winograd forward: U computed at load (not in scratch) */
    const float *wino_u; /* ... that U (ec_conv3x3_wino_pack_u), run time */
} ec_conv_dims;
int ec_conv2d_tile_rows(const ec_conv_dims *d);
size_t ec_conv2d_scratch_floats(const ec_conv_dims *d);
/* out [oh,ow,cout] <- in [h,w,cin], w [cout,kh,kw,cin] (wdt), b [cout] */
void ec_conv2d_forward(float *out, const float *in, const void *w,
                       const float *b, const ec_conv_dims *d, float *scratch,
                       float *preact);
size_t ec_conv2d_backward_scratch_floats(const ec_conv_dims *d);
/* din [h,w,cin] <- dpre [oh,ow,cout] */
void ec_conv2d_backward(float *din, const float *dpre, const void *w,
                        const ec_conv_dims *d, float *scratch);

/* The im2col + sgemm path alone (the fallback, and the tests' second
 * reference for shapes the dispatch sends elsewhere). */
size_t ec_conv2d_im2col_scratch_floats(const ec_conv_dims *d);
void ec_conv2d_im2col_forward(float *out, const float *in, const void *w,
                              const float *b, const ec_conv_dims *d, float *scratch,
                              float *preact);
void ec_conv2d_im2col_backward(float *din, const float *dpre, const void *w,
                               const ec_conv_dims *d, float *scratch);

/* ---- direct conv for few input channels (conv2d_direct.c) ---------------
 * The forward of ec_conv2d_forward for cin <= EC_CONV_DIRECT_MAX_CIN, fp16
 * weights, on AVX-512 (ec_conv2d_direct_ok), except the 1x1 case that the
 * im2col path runs as a pointwise conv. Scratch: coutp * kh * kw * cin
 * floats (coutp = cout rounded up to 16), the im2col plan's weight region. */
#define EC_CONV_DIRECT_MAX_CIN 4
int ec_conv2d_direct_ok(const ec_conv_dims *d);
void ec_conv2d_direct_forward(float *out, const float *in, const uint16_t *w,
                              const float *b, const ec_conv_dims *d, float *scratch,
                              float *preact);

/* ---- Winograd F(4x4, 3x3) (conv3x3_winograd.c) --------------------------
 * ec_conv2d_forward / _backward (and their scratch functions) dispatch here
 * when ec_conv2d_winograd_ok(): 3x3, stride 1, cin and cout >= EC_WINO_MIN_C
 * (below that the transforms cost more than the multiplies they save). Any
 * padding. Scratch: transformed weights 36*cin*cout + per-task tiles, exact
 * and independent of the thread count; the forward's transformed weights U
 * may instead be computed once at load (d->wino_pre, d->wino_u: the loader
 * does it for the model, ec_conv3x3_wino_pack_u) and are then not in the
 * scratch. */
#define EC_WINO_MIN_C 16
int ec_conv2d_winograd_ok(const ec_conv_dims *d);
size_t ec_conv3x3_wino_scratch_floats(const ec_conv_dims *d);
/* U for the forward of a conv with fp16 weights w [cout][3][3][cin]:
 * ec_conv3x3_wino_u_floats(cin, cout) floats, 64-byte aligned. */
size_t ec_conv3x3_wino_u_floats(int cin, int cout);
void ec_conv3x3_wino_pack_u(float *U, const uint16_t *w, int cin, int cout);
void ec_conv3x3_wino_forward(float *out, const float *in, const uint16_t *w,
                             const float *b, const ec_conv_dims *d, float *scratch,
                             float *preact);
size_t ec_conv3x3_wino_backward_scratch_floats(const ec_conv_dims *d);
void ec_conv3x3_wino_backward(float *din, const float *dpre, const uint16_t *w,
                              const ec_conv_dims *d, float *scratch);
/* Same, with the instruction-set path forced (EC_ISA_*; < 0 = best): the
 * transforms and GEMM blocks of each level, for the tests. */
void ec_conv3x3_wino_forward_isa(float *out, const float *in, const uint16_t *w,
                                 const float *b, const ec_conv_dims *d, float *scratch,
                                 float *preact, int isa);
void ec_conv3x3_wino_backward_isa(float *din, const float *dpre, const uint16_t *w,
                                  const ec_conv_dims *d, float *scratch, int isa);

/* ---- depthwise conv (dwconv.c): same dims struct, cin == cout ---------- */
size_t ec_dwconv_scratch_floats(const ec_conv_dims *d);
/* out [oh,ow,c] <- in [h,w,c], w [kh,kw,c] (wdt), b [c] */
void ec_dwconv_forward(float *out, const float *in, const void *w,
                       const float *b, const ec_conv_dims *d, float *scratch,
                       float *preact);
/* Same, with the instruction-set path forced (EC_ISA_*; < 0 = best). */
void ec_dwconv_forward_isa(float *out, const float *in, const void *w,
                           const float *b, const ec_conv_dims *d, float *scratch,
                           float *preact, int isa);
/* din [h,w,c] <- dpre [oh,ow,c]. Scratch: kh*kw*c floats for stride 1
 * (the flipped kernel, fp32 weights too), else as the forward's. */
size_t ec_dwconv_backward_scratch_floats(const ec_conv_dims *d);
void ec_dwconv_backward(float *din, const float *dpre, const void *w,
                        const ec_conv_dims *d, float *scratch);
void ec_dwconv_backward_isa(float *din, const float *dpre, const void *w,
                            const ec_conv_dims *d, float *scratch, int isa);
/* Same, then din *= act'(pre) (pre [h,w,c]: the pre-activation of the op
 * that produced this op's input; pre NULL or act NONE: nothing), fused into
 * each finished row for stride 1, a pass in row bands otherwise. */
void ec_dwconv_backward_act(float *din, const float *dpre, const void *w,
                            const ec_conv_dims *d, float *scratch, const float *pre, int act);
void ec_dwconv_backward_act_isa(float *din, const float *dpre, const void *w,
                                const ec_conv_dims *d, float *scratch, const float *pre, int act, int isa);

/* ---- pointwise conv / dense (pwconv.c): y[m, :] = W x[m, :] + b -------- */
typedef struct ec_pw_dims {
    int m;    /* rows: h * w (1 for dense) */
    int cin, cout;
    int act;
    int wdt;  /* weight dtype, EC_WDT_* */
} ec_pw_dims;
/* 0 for fp32 weights and where ec_pwconv_uses_gemm_f16(d); else the fp16
 * weights widened or packed for gemm.c (>= cout * cin) */
size_t ec_pwconv_scratch_floats(const ec_pw_dims *d);
/* out [m,cout] <- in [m,cin], w [cout,cin] (wdt), b [cout] */
void ec_pwconv_forward(float *out, const float *in, const void *w,
                       const float *b, const ec_pw_dims *d, float *scratch,
                       float *preact);
/* The scratch path alone (widen + sgemm, or packed gemm.c; fp32 in place;
 * scratch: ec_pwconv_sgemm_scratch_floats); for tests and benchmarks. */
size_t ec_pwconv_sgemm_scratch_floats(const ec_pw_dims *d);
void ec_pwconv_forward_sgemm(float *out, const float *in, const void *w,
                             const float *b, const ec_pw_dims *d, float *scratch,
                             float *preact);
/* 1 if ec_pwconv_forward(d) runs ec_gemm_f16_forward_isa (fp16 weights,
 * the CPU has the instructions; no scratch). */
int ec_pwconv_uses_gemm_f16(const ec_pw_dims *d);
/* 0 where the backward runs gemm_f16.c (m > 1, as the forward), else
 * ec_pwconv_backward_sgemm_scratch_floats */
size_t ec_pwconv_backward_scratch_floats(const ec_pw_dims *d);
/* din [m,cin] <- dpre [m,cout] */
void ec_pwconv_backward(float *din, const float *dpre, const void *w,
                        const ec_pw_dims *d, float *scratch);
/* The backward's other path alone (dense rows read directly; fp32 in
 * place; else widened or packed into scratch); for tests. */
size_t ec_pwconv_backward_sgemm_scratch_floats(const ec_pw_dims *d);
void ec_pwconv_backward_sgemm(float *din, const float *dpre, const void *w,
                              const ec_pw_dims *d, float *scratch);

/* ---- own AVX-512 GEMM (gemm.c), used by pwconv when ec_gemm_ok() -------
 * C[m][n] = sum_k A[m][k] B[k][n], B packed [ceil(N/16)][K][16] in
 * ec_gemm_packed_floats(K, N) floats; panels are 16 columns, n0 multiples
 * of 16. pack_wT: B = W^T for fp16 W [N][K]; pack_w: B = W for fp16 W
 * [K][N]. ec_gemm_ok(): the CPU has AVX-512F (else nothing here runs). */
int ec_gemm_ok(void);
void ec_gemm_enable(int on); /* tests: 0 = OpenBLAS everywhere (default 1) */
size_t ec_gemm_packed_floats(int K, int N);
void ec_gemm_pack_wT(float *Bp, const uint16_t *W, int N, int K, int n0, int n1);
void ec_gemm_pack_w(float *Bp, const uint16_t *W, int K, int N, int n0, int n1);
void ec_gemm_packed(const float *A, size_t lda, const float *Bp, int K, float *C,
                    size_t ldc, int M, int n0, int n1);

/* ---- fp16-weight GEMM (gemm_f16.c) --------------------------------------
 * out [m,cout] = act(in [m,cin] w^T + b), w [cout,cin] f16 read directly
 * (packed on the stack, no scratch; m == 1: dot products on the fp16
 * rows), threads on the pool. Needs x86-64 with
 * AVX2+FMA+F16C (or AVX-512F/BW/VL): ec_gemm_f16_isa_max() is EC_ISA_SCALAR
 * otherwise and the forward does nothing. isa < 0: the best available. */
int ec_gemm_f16_isa_max(void);
void ec_gemm_f16_forward_isa(float *out, const float *in, const uint16_t *w,
                             const float *b, const ec_pw_dims *d, float *preact,
                             int isa);
/* Same with the weights scaled per input channel: w[n, k] * ks[k] (ks may
 * be NULL), applied while they are packed. A squeeze-and-excitation gate
 * folded into the projection that follows it: W (x * g) == (W diag(g)) x,
 * so the gated tensor is never written. */
void ec_gemm_f16_forward_scaled_isa(float *out, const float *in, const uint16_t *w,
                                    const float *b, const ec_pw_dims *d, float *preact,
                                    const float *ks, int isa);
/* Same, then out += res ([m,cout], may be NULL): a residual add folded into
 * the projection before it (plan.c, fold_residual_adds). The sum is rounded
 * after the bias and activation, as the separate add op rounds it, so the
 * result is bit-identical to running the two ops. res must not alias out. */
void ec_gemm_f16_forward_res_isa(float *out, const float *in, const uint16_t *w,
                                 const float *b, const ec_pw_dims *d, float *preact,
                                 const float *ks, const float *res, int isa);
/* Backward-data form: out [m,n] = in [m,k] w [k,n], w fp16 [k][n] read
 * directly (the pointwise backward: d in = d pre W with W [cout][cin]),
 * same blocking and threads, no scratch. Does nothing where
 * ec_gemm_f16_isa_max() is EC_ISA_SCALAR. */
void ec_gemm_f16_kn_isa(float *out, const float *in, const uint16_t *w, int m, int k, int n, int isa);
/* y [n] = w [n,k] x [k] + b (b may be NULL), single-threaded; any CPU (the
 * portable path widens exactly and sums in order). */
void ec_gemv_f16(float *y, const float *x, const uint16_t *w, const float *b,
                 int n, int k, int isa);

/* ---- squeeze-and-excitation (se.c) -------------------------------------
 * s = mean_hw(x)            [c]
 * z = act(W1 s + b1)        [cmid]
 * g = gate(W2 z + b2)       [c]
 * out = x * g (per channel) [h,w,c]                                        */
typedef struct ec_se_dims {
    int h, w, c, cmid;
    int act;  /* squeeze activation */
    int gate; /* gate activation (sigmoid / hard-sigmoid) */
    int wdt1, wdt2; /* dtypes of W1 and W2, EC_WDT_* (each may differ) */
} ec_se_dims;
size_t ec_se_scratch_floats(const ec_se_dims *d);
/* saved (optional, ec_se_saved_floats() floats): what backward needs
 * (s, z pre-activation, g pre-activation, g). */
size_t ec_se_saved_floats(const ec_se_dims *d);
void ec_se_forward(float *out, const float *in, const void *w1,
                   const float *b1, const void *w2, const float *b2,
                   const ec_se_dims *d, float *scratch, float *saved);
/* The gate g alone (out is not written): left in scratch at
 * ec_se_gate_in_scratch(scratch, d), c floats, for a projection that folds
 * it into its weights (ec_gemm_f16_forward_scaled_isa). */
void ec_se_gate(const float *in, const void *w1, const float *b1, const void *w2,
                const float *b2, const ec_se_dims *d, float *scratch, float *saved);
const float *ec_se_gate_in_scratch(const float *scratch, const ec_se_dims *d);
size_t ec_se_backward_scratch_floats(const ec_se_dims *d);
/* din [h,w,c] <- dout [h,w,c]; needs the op's input and its saved values */
void ec_se_backward(float *din, const float *dout, const float *in,
                    const void *w1, const void *w2,
                    const float *saved, const ec_se_dims *d, float *scratch);
/* Same, then din *= act'(pre) (pre [h,w,c]: the pre-activation of the op
 * that produced the SE input; NULL / NONE: nothing), fused into the final
 * per-row pass. */
void ec_se_backward_act(float *din, const float *dout, const float *in,
                        const void *w1, const void *w2, const float *saved,
                        const ec_se_dims *d, float *scratch, const float *pre, int act);

/* ---- elementwise / pooling ---------------------------------------------- */
/* add.c: out = act(a + b), n elements; preact optional. Backward: the
 * gradient passes unchanged to both inputs (the engine routes it). */
void ec_add_forward(float *out, const float *a, const float *b, size_t n,
                    int act, float *preact);
/* gap.c: out[c] = mean over h*w of in[:, c]. */
void ec_gap_forward(float *out, const float *in, int hw, int c);
/* din[p, c] = dout[c] / hw */
void ec_gap_backward(float *din, const float *dout, int hw, int c);
/* softmax.c: numerically stable; backward for dL/dlogits given dL/dprobs */
void ec_softmax_forward(float *p, const float *logits, int n);
void ec_softmax_backward(float *dlogits, const float *dp, const float *p, int n);

#endif
