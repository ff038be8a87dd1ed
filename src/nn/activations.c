/* activations.c - elementwise nonlinearities, the WaveNet gate and softmax.
 * Loops are written branch-free over contiguous arrays so GCC vectorises
 * them; the transcendental ones go through vmath.h (see why there). */
#include "nn/layers.h"
#include "nn/vmath.h"

void gw_relu_forward(float *out, const float *inp, size_t n) {
    for (size_t i = 0; i < n; i++) out[i] = inp[i] > 0.0f ? inp[i] : 0.0f;
}

void gw_relu_backward(float *dinp, const float *dout, const float *out, size_t n) {
    for (size_t i = 0; i < n; i++) dinp[i] += out[i] > 0.0f ? dout[i] : 0.0f;
}

void gw_leaky_relu_forward(float *out, const float *inp, float slope, size_t n) {
    for (size_t i = 0; i < n; i++) out[i] = gw_vselectf(inp[i] > 0.0f, inp[i], slope * inp[i]);
}

/* out > 0 exactly when inp > 0 as long as slope >= 0 */
void gw_leaky_relu_backward(float *dinp, const float *dout, const float *out, float slope,
                            size_t n) {
    for (size_t i = 0; i < n; i++)
        dinp[i] += gw_vselectf(out[i] > 0.0f, dout[i], slope * dout[i]);
}

void gw_tanh_forward(float *out, const float *inp, size_t n) {
    for (size_t i = 0; i < n; i++) out[i] = gw_vtanhf(inp[i]);
}

void gw_tanh_backward(float *dinp, const float *dout, const float *out, size_t n) {
    for (size_t i = 0; i < n; i++) dinp[i] += dout[i] * (1.0f - out[i] * out[i]);
}

void gw_sigmoid_forward(float *out, const float *inp, size_t n) {
    for (size_t i = 0; i < n; i++) out[i] = gw_vsigmoidf(inp[i]);
}

void gw_sigmoid_backward(float *dinp, const float *dout, const float *out, size_t n) {
    for (size_t i = 0; i < n; i++) dinp[i] += dout[i] * out[i] * (1.0f - out[i]);
}

void gw_gate_forward(float *out,       // (N, G)
                     float *act,       // (N, 2G) or NULL
                     const float *inp, // (N, 2G)
                     int N, int G) {
    for (int n = 0; n < N; n++) {
        const float *f = inp + (size_t)n * 2 * G; // filter half (G)
        const float *s = f + G;                   // gate half (G)
        float *o = out + (size_t)n * G;
        if (act) {
            float *ta = act + (size_t)n * 2 * G, *sa = ta + G;
            for (int g = 0; g < G; g++) {
                ta[g] = gw_vtanhf(f[g]);
                sa[g] = gw_vsigmoidf(s[g]);
                o[g] = ta[g] * sa[g];
            }
        } else {
            for (int g = 0; g < G; g++) o[g] = gw_vtanhf(f[g]) * gw_vsigmoidf(s[g]);
        }
    }
}

/* z = th * sg with th = tanh(f), sg = sigmoid(s):
 * dz/df = (1 - th^2) sg,  dz/ds = th sg (1 - sg) */
void gw_gate_backward(float *dinp,       // (N, 2G)
                      const float *dout, // (N, G)
                      const float *act,  // (N, 2G)
                      int N, int G) {
    for (int n = 0; n < N; n++) {
        const float *th = act + (size_t)n * 2 * G, *sg = th + G;
        const float *d = dout + (size_t)n * G;
        float *df = dinp + (size_t)n * 2 * G, *ds = df + G;
        for (int g = 0; g < G; g++) {
            df[g] += d[g] * (1.0f - th[g] * th[g]) * sg[g];
            ds[g] += d[g] * th[g] * sg[g] * (1.0f - sg[g]);
        }
    }
}

void gw_softmax_forward(float *out,       // (N, V)
                        const float *inp, // (N, V)
                        int N, int V) {
    for (int n = 0; n < N; n++) {
        const float *x = inp + (size_t)n * V;
        float *y = out + (size_t)n * V;
        float mx = gw_vmax(x, V);
        float inv = 1.0f / gw_vexp_sum(y, x, mx, V);
        for (int v = 0; v < V; v++) y[v] *= inv;
    }
}

/* Jacobian-vector product of softmax: dx = y .* (dy - <dy, y>) */
void gw_softmax_backward(float *dinp,       // (N, V)
                         const float *dout, // (N, V)
                         const float *out,  // (N, V)
                         int N, int V) {
    for (int n = 0; n < N; n++) {
        const float *y = out + (size_t)n * V, *dy = dout + (size_t)n * V;
        float *dx = dinp + (size_t)n * V;
        float dot = gw_vdot(dy, y, V);
        for (int v = 0; v < V; v++) dx[v] += y[v] * (dy[v] - dot);
    }
}
