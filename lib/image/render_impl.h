/* Rendering part of image.c (included there: shares its static helpers). */

static double seg_interp(const double (*s)[2], int n, double x) {
    for (int k = 1; k < n; k++)
        if (x <= s[k][0]) {
            double t = (x - s[k - 1][0]) / (s[k][0] - s[k - 1][0]);
            return s[k - 1][1] + t * (s[k][1] - s[k - 1][1]);
        }
    return s[n - 1][1];
}

/* turbo, viridis, inferno: piecewise cubic fits of matplotlib's tables
 * (tools/fit_colormaps.py; every 8-bit entry reproduced exactly). */
#include "colormaps.inc"

static void pw_cubic(const double (*c)[3][4], int n, double x, double rgb[3]) {
    int s = (int)(x * n);
    if (s > n - 1) s = n - 1;
    double t = x * n - s;
    for (int k = 0; k < 3; k++) rgb[k] = c[s][k][0] + t * (c[s][k][1] + t * (c[s][k][2] + t * c[s][k][3]));
}

static void cmap_eval(effcam_colormap m, double x, double rgb[3]) {
    if (x < 0) x = 0;
    if (x > 1) x = 1;
    switch (m) {
    case EFFCAM_CMAP_JET: {
        /* matplotlib's jet segment data */
        static const double R[][2] = {{0, 0}, {0.35, 0}, {0.66, 1}, {0.89, 1}, {1, 0.5}};
        static const double G[][2] = {{0, 0}, {0.125, 0}, {0.375, 1}, {0.64, 1}, {0.91, 0}, {1, 0}};
        static const double B[][2] = {{0, 0.5}, {0.11, 1}, {0.34, 1}, {0.65, 0}, {1, 0}};
        rgb[0] = seg_interp(R, 5, x); rgb[1] = seg_interp(G, 6, x); rgb[2] = seg_interp(B, 5, x);
        return;
    }
    case EFFCAM_CMAP_TURBO: pw_cubic(cm_turbo, cm_turbo_n, x, rgb); break;
    case EFFCAM_CMAP_VIRIDIS: pw_cubic(cm_viridis, cm_viridis_n, x, rgb); break;
    case EFFCAM_CMAP_INFERNO: pw_cubic(cm_inferno, cm_inferno_n, x, rgb); break;
    default:
        rgb[0] = rgb[1] = rgb[2] = x;
        return;
    }
    for (int k = 0; k < 3; k++) rgb[k] = rgb[k] < 0 ? 0 : rgb[k] > 1 ? 1 : rgb[k];
}

static void cmap_lut(effcam_colormap m, uint8_t lut[256][3]) {
    for (int i = 0; i < 256; i++) {
        double c[3];
        cmap_eval(m, i / 255.0, c);
        for (int k = 0; k < 3; k++) lut[i][k] = (uint8_t)lround(c[k] * 255.0);
    }
}

static inline int cmap_index(float v) { /* matplotlib: int(v * N), N - 1 at 1.0 */
    if (!(v > 0.f)) return 0;
    int i = (int)(v * 256.f);
    return i > 255 ? 255 : i;
}

void effcam_colormap_rgb(effcam_colormap cmap, float v, uint8_t rgb[3]) {
    double c[3];
    cmap_eval(cmap, cmap_index(v) / 255.0, c);
    for (int k = 0; k < 3; k++) rgb[k] = (uint8_t)lround(c[k] * 255.0);
}

typedef struct ei_render {
    effcam_image *img;
    const effcam_render_opts *o;
    const float *cam;
    int ch, cw;
    float cscale;
    int Wp, Hp, panel;
    uint8_t (*lut)[3];
    uint8_t *row;
    const ei_rs *rs;
    /* encoder */
    png_structp png;
    png_infop pinfo;
    effcam_write_fn w;
    void *user;
    int wfail;
    int rows_out;
} ei_render;

/* p in [0, 255] (clamped first) rounded half up: (int)(p + 0.5f) is
 * floorf(p + 0.5f) for p >= 0, without a libm call per channel. */
static inline uint8_t px_round(float p) { return (uint8_t)(int)(p < 0 ? 0.5f : p > 255 ? 255.5f : p + 0.5f); }

static void render_emit(void *ctx, int i, float *acc) {
    ei_render *R = ctx;
    float sy = ((float)i + 0.5f) * (float)R->ch / (float)R->Hp - 0.5f;
    if (sy < 0) sy = 0;
    if (sy > (float)(R->ch - 1)) sy = (float)(R->ch - 1);
    /* the CAM rows this output row blends (bilinear, ReLU first) */
    const int y0 = (int)sy, y1 = y0 + 1 < R->ch ? y0 + 1 : y0;
    const float fy = sy - (float)y0, cwf = (float)R->cw, wpf = (float)R->Wp, xmax = (float)(R->cw - 1);
    const float *ca = R->cam + (size_t)y0 * R->cw, *cb = R->cam + (size_t)y1 * R->cw;
    const float al = R->o->alpha;
    const int W = R->Wp;
    uint8_t *orig = R->row, *heat = R->panel ? R->row + 3 * W : NULL, *over = R->panel ? R->row + 6 * W : R->row;
    for (int x = 0; x < W; x++) {
        float sx = ((float)x + 0.5f) * cwf / wpf - 0.5f; /* the reference formula, rounding included */
        if (sx < 0) sx = 0;
        if (sx > xmax) sx = xmax;
        const int x0 = (int)sx, x1 = x0 + 1 < R->cw ? x0 + 1 : x0;
        const float fx = sx - (float)x0;
        const float va = ca[x0] > 0 ? ca[x0] : 0, vb = ca[x1] > 0 ? ca[x1] : 0;
        const float vc = cb[x0] > 0 ? cb[x0] : 0, vd = cb[x1] > 0 ? cb[x1] : 0;
        const float top = va + (vb - va) * fx, bot = vc + (vd - vc) * fx;
        const uint8_t *h = R->lut[cmap_index((top + (bot - top) * fy) * R->cscale)];
        for (int k = 0; k < 3; k++) {
            const uint8_t p = px_round(acc[3 * x + k]);
            const float v = (1.f - al) * (float)p + al * (float)h[k];
            if (R->panel) { orig[3 * x + k] = p; heat[3 * x + k] = h[k]; }
            over[3 * x + k] = px_round(v);
        }
    }
    if (R->png) png_write_row(R->png, R->row);
    else {
        JSAMPROW rp = R->row;
        jpeg_write_scanlines(&R->img->cj, &rp, 1);
    }
    R->rows_out++;
}

static void png_writefn(png_structp png, png_bytep d, size_t n) {
    ei_render *R = (ei_render *)png_get_io_ptr(png);
    if (!R->wfail && R->w(R->user, d, n) != 0) R->wfail = 1;
}
static void png_flushfn(png_structp png) { (void)png; }

static effcam_status do_render(effcam_image *img, ei_src *src, const float *cam, int ch, int cw,
                               const effcam_render_opts *o, effcam_write_fn w, void *user,
                               effcam_image_info *info, effcam_error *err) {
    const effcam_image_limits *L = &img->plan.limits;
    if (!img->plan.render_bytes) return ec_fail(err, EFFCAM_E_MODE, "handle not planned for rendering");
    if (!cam || ch <= 0 || cw <= 0 || !w || !o) return ec_fail(err, EFFCAM_E_ARG, "bad CAM or writer");
    if ((unsigned)o->cmap >= EFFCAM_CMAP_COUNT || (unsigned)o->filter > EFFCAM_FILTER_BOX ||
        !(o->alpha >= 0.f && o->alpha <= 1.f))
        return ec_fail(err, EFFCAM_E_ARG, "bad render options");
    ei_req q;
    memset(&q, 0, sizeof q);
    req_begin(img);
    ei_arena_init(&q.work, img->work, img->work_bytes, img->work_off, &img->high);
    q.rd.img = img; q.rd.src = src; q.rd.arena = &q.work;
    ei_rs rs;
    memset(&rs, 0, sizeof rs);
    ei_render R;
    memset(&R, 0, sizeof R);
    R.img = img; R.o = o; R.cam = cam; R.ch = ch; R.cw = cw; R.w = w; R.user = user;
    volatile effcam_status st = EFFCAM_OK;
    volatile int enc_started = 0;
    img->djerr.target = &img->jb;
    img->cjerr.target = &img->jb;
    img->msg[0] = 0;
    img->djerr.msg[0] = 0; img->cjerr.msg[0] = 0;
    src->eof_hit = 0;
    if (setjmp(img->jb)) {
        const char *m = img->msg[0] ? img->msg : img->djerr.msg[0] ? img->djerr.msg : img->cjerr.msg;
        st = ec_fail(err, EFFCAM_E_IMAGE, "%s", m);
        reader_close(&q.rd);
        if (enc_started == 2) jpeg_abort_compress(&img->cj);
        ei_jmem_set_image_arena((j_common_ptr)&img->cj, NULL);
        return st;
    }
    /* 1. header, sizes */
    unsigned no_orient = (o->flags & EFFCAM_RENDER_NO_ORIENT) ? 1u : 0u;
    st = reader_open(&q.rd, L, no_orient, err);
    reader_close(&q.rd);
    ei_arena_reset(&q.work, 0);
    if (st) return st;
    ei_reader *r = &q.rd;
    int tr = r->orientation >= 5;
    int W = tr ? r->h : r->w, H = tr ? r->w : r->h;
    int Wp = o->width > 0 ? o->width : W, Hp = o->height > 0 ? o->height : H;
    if (Wp > L->max_render_width || Hp > L->max_render_height)
        return ec_fail(err, EFFCAM_E_DIMS, "render %dx%d exceeds the planned %dx%d", Wp, Hp, L->max_render_width,
                       L->max_render_height);
    int dct = 8;
    if (r->fmt == EFFCAM_IMAGE_JPEG && o->filter != EFFCAM_FILTER_NEAREST) dct = choose_dct(W, H, Wp, Hp, 2);
    int dw = r->fmt == EFFCAM_IMAGE_JPEG ? (int)(((long)r->w * dct + 7) / 8) : r->w;
    int dh = r->fmt == EFFCAM_IMAGE_JPEG ? (int)(((long)r->h * dct + 7) / 8) : r->h;
    /* 2. fixed working set: weights, band, row, LUT, encoder region */
    ei_reader geo = *r;
    geo.ow = dw; geo.oh = dh;
    ei_geom g = {Wp, Hp, 0, 0};
    st = build_axes(&rs, &q.work, &geo, Wp, Hp, &g, o->filter, err);
    if (st) return st;
    /* The band: render_band_rows x max_render_width float pixels planned;
     * a narrower panel gets more rows, and at the display size (no filter)
     * the rows are RGB8: four times as many. */
    size_t band_bytes = (size_t)L->render_band_rows * (size_t)L->max_render_width * 3 * sizeof(float);
    rs.ident = (Wp == W && Hp == H && dct == 8 && !r->interlaced);
    size_t rowb = (size_t)Wp * 3 * (rs.ident ? 1 : sizeof(float));
    size_t capz = band_bytes / rowb;
    if (capz > (size_t)Hp) capz = (size_t)Hp;
    int cap = (int)capz;
    rs.cap = cap;
    rs.acc = ei_arena_alloc(&q.work, band_bytes);
    rs.acc8 = (uint8_t *)rs.acc;
    R.panel = (o->flags & EFFCAM_RENDER_PANEL) ? 1 : 0;
    R.row = ei_arena_alloc(&q.work, (size_t)Wp * 3 * (R.panel ? 3 : 1));
    R.lut = ei_arena_alloc(&q.work, 256 * 3);
    if (!rs.acc || !R.row || !R.lut) return ec_fail(err, EFFCAM_E_NOMEM, "plan exceeded (render buffers)");
    memset(rs.acc, 0, band_bytes);
    cmap_lut(o->cmap, R.lut);
    R.Wp = Wp; R.Hp = Hp; R.rs = &rs;
    R.cscale = 1.f;
    if (o->flags & EFFCAM_RENDER_NORMALIZE) {
        float mx = 0;
        for (size_t k = 0; k < (size_t)ch * (size_t)cw; k++) if (cam[k] > mx) mx = cam[k];
        R.cscale = mx > 0 ? 1.f / mx : 1.f;
    }
    size_t enc_cap = enc_bytes((size_t)Wp * (R.panel ? 3 : 1));
    uint8_t *encmem = ei_arena_alloc(&q.work, enc_cap);
    if (!encmem) return ec_fail(err, EFFCAM_E_NOMEM, "plan exceeded (encoder region)");
    ei_arena enc;
    ei_arena_init(&enc, encmem, enc_cap, (size_t)(encmem - img->block), &img->high);
    int outw = Wp * (R.panel ? 3 : 1);
    /* 3. encoder */
    if (o->format == EFFCAM_OUT_PNG) {
        R.png = png_create_write_struct_2(PNG_LIBPNG_VER_STRING, img, png_err, png_warn, &enc, png_arena_malloc,
                                          png_arena_free);
        if (!R.png) return ec_fail(err, EFFCAM_E_NOMEM, "plan exceeded (png write struct)");
        R.pinfo = png_create_info_struct(R.png);
        if (!R.pinfo) return ec_fail(err, EFFCAM_E_NOMEM, "plan exceeded (png info)");
        png_set_write_fn(R.png, &R, png_writefn, png_flushfn);
        const int level = o->png_level > 0 && o->png_level <= 9 ? o->png_level : 6;
        png_set_compression_level(R.png, level);
        if (level <= 3) { /* fast: one filter for every row, run-length deflate */
            png_set_filter(R.png, PNG_FILTER_TYPE_BASE, PNG_FILTER_SUB);
            png_set_compression_strategy(R.png, Z_RLE);
        }
        png_set_IHDR(R.png, R.pinfo, (png_uint_32)outw, (png_uint_32)Hp, 8, PNG_COLOR_TYPE_RGB, PNG_INTERLACE_NONE,
                     PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
        png_write_info(R.png, R.pinfo);
        enc_started = 1;
    } else if (o->format == EFFCAM_OUT_JPEG) {
        j_compress_ptr c = &img->cj;
        ei_jmem_set_image_arena((j_common_ptr)c, &enc);
        c->dest = ei_jdst_init(&enc, w, user, &R.wfail);
        if (!c->dest) return ec_fail(err, EFFCAM_E_NOMEM, "plan exceeded (jpeg destination)");
        c->image_width = (JDIMENSION)outw; c->image_height = (JDIMENSION)Hp;
        c->input_components = 3; c->in_color_space = JCS_RGB;
        jpeg_set_defaults(c);
        jpeg_set_quality(c, o->quality > 0 && o->quality <= 100 ? o->quality : 90, TRUE);
        enc_started = 2;
        jpeg_start_compress(c, TRUE);
    } else {
        return ec_fail(err, EFFCAM_E_ARG, "unknown output format");
    }
    rs.emit = render_emit; rs.ectx = &R;
    /* 4. passes over the source */
    size_t mark = q.work.top;
    int vflip = r->orientation == 3 || r->orientation == 4;
    /* one pass when rows arrive in display order; otherwise bands */
    int stream = !tr && !vflip && !r->interlaced && (rs.ident || rs.Y.ov <= cap);
    for (int lo = 0; lo < Hp; lo += cap) {
        rs.lo = lo;
        rs.streaming = stream;
        ei_arena_reset(&q.work, mark);
        memset(&q.rd, 0, sizeof q.rd);
        q.rd.img = img; q.rd.src = src; q.rd.arena = &q.work;
        memcpy(q.rd.bg, "\xff\xff\xff", 3);
        st = reader_open(&q.rd, L, no_orient, err);
        if (st == EFFCAM_OK && tr && q.rd.fmt == EFFCAM_IMAGE_JPEG) {
            /* a band of display rows is a band of source columns */
            int hi = lo + cap < Hp ? lo + cap : Hp;
            int pmin, pmax;
            if (rs.ident) { pmin = lo; pmax = hi; }
            else {
                int a = lo > rs.Y.first_valid ? lo : rs.Y.first_valid;
                int b = hi - 1 < rs.Y.last_valid ? hi - 1 : rs.Y.last_valid;
                pmin = a <= b ? rs.Y.start[a] : 0;
                pmax = pmin;
                for (int i = a; i <= b; i++)
                    if (rs.Y.start[i] + rs.Y.len[i] > pmax) pmax = rs.Y.start[i] + rs.Y.len[i];
            }
            int flip = r->orientation == 7 || r->orientation == 8;
            q.rd.crop_lo = flip ? dw - pmax : pmin;
            q.rd.crop_hi = flip ? dw - pmin : pmax;
            if (q.rd.crop_hi <= q.rd.crop_lo) { q.rd.crop_lo = 0; q.rd.crop_hi = 0; }
        }
        if (st == EFFCAM_OK) st = reader_start(&q.rd, dct, err);
        if (st) { reader_close(&q.rd); break; }
        int stop = (!stream && !tr && !vflip) ? rs_last_row_needed(&rs) : INT_MAX;
        int y;
        while ((y = reader_next(&q.rd)) >= 0) {
            if (rs_feed(&rs, q.rd.rgb, q.rd.ow, q.rd.x0, y, q.rd.oh, q.rd.orientation) != 0) {
                st = ec_fail(err, EFFCAM_E_NOMEM, "resampler ring too small");
                break;
            }
            if (y >= stop && !q.rd.interlaced) break;
        }
        reader_close(&q.rd);
        if (st) break;
        if (stream) { rs_evict_to(&rs, Hp); break; }
        int hi = lo + cap < Hp ? lo + cap : Hp;
        rs_evict_to(&rs, hi);
    }
    if (st == EFFCAM_OK && src->eof_hit) st = ec_fail(err, EFFCAM_E_IMAGE, "JPEG data is truncated");
    if (st) {
        if (enc_started == 2) jpeg_abort_compress(&img->cj);
        ei_jmem_set_image_arena((j_common_ptr)&img->cj, NULL);
        return st;
    }
    if (R.png) png_write_end(R.png, NULL);
    else { jpeg_finish_compress(&img->cj); ei_jmem_set_image_arena((j_common_ptr)&img->cj, NULL); }
    if (info) {
        memset(info, 0, sizeof *info);
        fill_info(&q.rd, info);
        info->dct_scale = dct;
        info->out_width = outw; info->out_height = Hp;
        info->content_w = Wp; info->content_h = Hp;
        info->high_water = img->high;
    }
    if (R.wfail) return ec_fail(err, EFFCAM_E_IO, "the writer stopped");
    ec_ok(err);
    return EFFCAM_OK;
}

effcam_status effcam_image_render_memory(effcam_image *img, const void *data, size_t bytes, const float *cam,
                                         int cam_h, int cam_w, const effcam_render_opts *opts,
                                         effcam_write_fn write, void *user, effcam_image_info *info,
                                         effcam_error *err) {
    if (!img || !data) return ec_fail(err, EFFCAM_E_ARG, "NULL argument");
    ei_src s;
    mem_src(&s, img, data, bytes);
    return do_render(img, &s, cam, cam_h, cam_w, opts, write, user, info, err);
}

effcam_status effcam_image_render_file(effcam_image *img, const char *path, const float *cam, int cam_h,
                                       int cam_w, const effcam_render_opts *opts, effcam_write_fn write,
                                       void *user, effcam_image_info *info, effcam_error *err) {
    if (!img || !path) return ec_fail(err, EFFCAM_E_ARG, "NULL argument");
    ei_src s;
    effcam_status st = open_file_src(&s, img, path, err);
    if (st) return st;
    st = do_render(img, &s, cam, cam_h, cam_w, opts, write, user, info, err);
    close(s.fd);
    return st;
}
