/* Activations: ec_act_backward vs central differences of ec_act_scalar,
 * ec_act_forward / ec_bias_act vs the scalar definition, known derivative
 * values. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ecw_format.h"
#include "ops/ops.h"
#include "test_util.h"

#define N_PTS 4000
#define FD_EPS 1e-2f

static const char *act_name(int act) {
    static const char *names[] = {"none", "relu", "relu6", "silu", "sigmoid", "hswish", "hsigmoid"};
    return act >= 0 && act < ECW_ACT_COUNT ? names[act] : "?";
}

/* distance from x to the nearest point where the activation has a kink */
static float kink_dist(int act, float x) {
    static const float relu[] = {0.0f}, relu6[] = {0.0f, 6.0f}, hs[] = {-3.0f, 3.0f};
    const float *k = NULL;
    int n = 0;
    switch (act) {
    case ECW_ACT_RELU: k = relu; n = 1; break;
    case ECW_ACT_RELU6: k = relu6; n = 2; break;
    case ECW_ACT_HSWISH:
    case ECW_ACT_HSIGMOID: k = hs; n = 2; break;
    default: break;
    }
    float d = INFINITY;
    for (int i = 0; i < n; i++) d = fminf(d, fabsf(x - k[i]));
    return d;
}

static void test_backward_fd(void **state) {
    (void)state;
    float *x = malloc(N_PTS * sizeof(float)), *dy = malloc(N_PTS * sizeof(float));
    float *dx = malloc(N_PTS * sizeof(float)), *dx2 = malloc(N_PTS * sizeof(float));
    assert_true(x && dy && dx && dx2);
    for (int act = 0; act < ECW_ACT_COUNT; act++) {
        tu_rng r;
        tu_seed(&r, 10 + (uint64_t)act);
        for (int i = 0; i < N_PTS; i++) {
            float range = i < N_PTS / 2 ? 8.0f : 20.0f;
            do x[i] = tu_uniform(&r, -range, range);
            while (kink_dist(act, x[i]) < 3.0f * FD_EPS);
            dy[i] = tu_uniform(&r, -1.5f, 1.5f);
        }
        /* a few fixed points: around the transitions but off the kinks */
        x[0] = 0.5f; x[1] = -0.5f; x[2] = 2.9f; x[3] = -2.9f; x[4] = 3.1f;
        x[5] = -3.1f; x[6] = 5.9f; x[7] = 6.1f; x[8] = 0.05f; x[9] = -0.05f;
        for (int i = 0; i < N_PTS; i++) dx[i] = NAN;
        ec_act_backward(dx, dy, x, N_PTS, act);
        int checked = 0;
        for (int i = 0; i < N_PTS; i++) {
            if (kink_dist(act, x[i]) < 3.0f * FD_EPS) continue;
            float xp = x[i] + FD_EPS, xm = x[i] - FD_EPS;
            double fd = ((double)ec_act_scalar(act, xp) - (double)ec_act_scalar(act, xm)) /
                        ((double)xp - (double)xm);
            double want = (double)dy[i] * fd;
            double tol = 5e-4 * (1.0 + fabs(fd)) * fabs((double)dy[i]) + 1e-7;
            if (!(fabs((double)dx[i] - want) <= tol)) {
                print_error("act %s: x %.7g dy %.4g backward %.7g fd %.7g\n", act_name(act),
                            x[i], dy[i], dx[i], want);
                fail();
            }
            checked++;
        }
        assert_true(checked >= N_PTS - 10);
        /* dx may alias dy */
        memcpy(dx2, dy, N_PTS * sizeof(float));
        ec_act_backward(dx2, dx2, x, N_PTS, act);
        assert_memory_equal(dx, dx2, N_PTS * sizeof(float));
    }
    free(x); free(dy); free(dx); free(dx2);
}

static void test_backward_known_values(void **state) {
    (void)state;
    struct { int act; float x, g; } v[] = {
        {ECW_ACT_NONE, -5.0f, 1.0f},     {ECW_ACT_NONE, 3.0f, 1.0f},
        {ECW_ACT_RELU, 1.0f, 1.0f},      {ECW_ACT_RELU, -1.0f, 0.0f},
        {ECW_ACT_RELU6, 3.0f, 1.0f},     {ECW_ACT_RELU6, 7.0f, 0.0f},
        {ECW_ACT_RELU6, -0.5f, 0.0f},    {ECW_ACT_SILU, 0.0f, 0.5f},
        {ECW_ACT_SIGMOID, 0.0f, 0.25f},  {ECW_ACT_HSWISH, 4.0f, 1.0f},
        {ECW_ACT_HSWISH, -4.0f, 0.0f},   {ECW_ACT_HSWISH, 0.0f, 0.5f},
        {ECW_ACT_HSIGMOID, 0.0f, 1.0f / 6.0f}, {ECW_ACT_HSIGMOID, 3.5f, 0.0f},
        {ECW_ACT_HSIGMOID, -3.5f, 0.0f},
    };
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        float dy = 2.0f, dx = NAN;
        ec_act_backward(&dx, &dy, &v[i].x, 1, v[i].act);
        if (!(fabsf(dx - 2.0f * v[i].g) <= 1e-6f)) {
            print_error("act %s at %g: gradient %g, want %g\n", act_name(v[i].act), v[i].x,
                        dx / 2.0f, v[i].g);
            fail();
        }
    }
}

static void test_forward_matches_scalar(void **state) {
    (void)state;
    enum { M = 7, N = 37 };
    tu_rng r;
    tu_seed(&r, 5);
    float x[M * N], y[M * N], pre[M * N], b[N];
    for (int act = 0; act < ECW_ACT_COUNT; act++) {
        tu_fill(&r, x, M * N, -10.0f, 10.0f);
        tu_fill(&r, b, N, -2.0f, 2.0f);
        memcpy(y, x, sizeof x);
        ec_act_forward(y, M * N, act);
        for (int i = 0; i < M * N; i++) {
            float want = ec_act_scalar(act, x[i]);
            if (!(fabsf(y[i] - want) <= 1e-6f * fabsf(want) + 1e-7f)) {
                print_error("act %s forward at %g: %g vs scalar %g\n", act_name(act), x[i], y[i], want);
                fail();
            }
        }
        memcpy(y, x, sizeof x);
        for (int i = 0; i < M * N; i++) pre[i] = NAN;
        ec_bias_act(y, b, M, N, act, pre);
        for (int m = 0; m < M; m++)
            for (int n = 0; n < N; n++) {
                float p = x[m * N + n] + b[n];
                float want = ec_act_scalar(act, p);
                assert_true(pre[m * N + n] == p);
                if (!(fabsf(y[m * N + n] - want) <= 1e-6f * fabsf(want) + 1e-7f)) {
                    print_error("bias_act %s: %g vs %g\n", act_name(act), y[m * N + n], want);
                    fail();
                }
            }
        /* no bias, no preact */
        memcpy(y, x, sizeof x);
        ec_bias_act(y, NULL, M, N, act, NULL);
        for (int i = 0; i < M * N; i++) {
            float want = ec_act_scalar(act, x[i]);
            assert_true(fabsf(y[i] - want) <= 1e-6f * fabsf(want) + 1e-7f);
        }
    }
}

static void test_scalar_definitions(void **state) {
    (void)state;
    /* The scalar forms against their textbook definitions, in double. */
    tu_rng r;
    tu_seed(&r, 8);
    for (int i = 0; i < 2000; i++) {
        double x = tu_uniform(&r, -12.0f, 12.0f);
        float xf = (float)x;
        double s = 1.0 / (1.0 + exp(-x));
        double r6 = fmin(fmax(x + 3.0, 0.0), 6.0);
        double want[ECW_ACT_COUNT] = {x, fmax(x, 0.0), fmin(fmax(x, 0.0), 6.0), x * s, s,
                                      x * r6 / 6.0, r6 / 6.0};
        for (int act = 0; act < ECW_ACT_COUNT; act++) {
            double got = ec_act_scalar(act, xf);
            if (!(fabs(got - want[act]) <= 1e-6 * fabs(want[act]) + 1e-7)) {
                print_error("act %s(%g) = %.9g, want %.9g\n", act_name(act), x, got, want[act]);
                fail();
            }
        }
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_backward_fd),
        cmocka_unit_test(test_backward_known_values),
        cmocka_unit_test(test_forward_matches_scalar),
        cmocka_unit_test(test_scalar_definitions),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
