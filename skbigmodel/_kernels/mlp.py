"""Training kernel of multilayer perceptrons: one call runs one whole epoch.

Layer l has weights W_l (sizes[l], sizes[l + 1]) row-major, then biases b_l
(sizes[l + 1],); the layers follow each other in one flat parameter vector
and ``offsets[l]`` is where W_l starts. ``sizes`` holds the widths
(n_features, hidden..., n_outputs).

A mini-batch goes forward and backward through BLAS products on
C-contiguous blocks of three scratch vectors: ``A`` (the input rows and
hidden activations), ``Z`` (pre-activations) and ``D`` (two delta blocks,
used in turn). Bias, activation and dropout are fused in one sweep per
layer. Dropout masks come from a hash of (seed, the sample's values, unit):
they do not depend on how rows are batched or on the thread count, and a
sample repeated twice is dropped exactly like the same sample with weight 2,
so sample weights stay equivalent to repetitions.
"""

import math

import numpy as np

from .._numba import jit
from .steps import (
    PREFETCH_ROWS,
    exp_nonpositive,
    fma,
    outputs_grad,
    prefetch_row,
    step_size,
    update_range,
)
from .sync import barrier

# Activation codes; ``skbigmodel._mlp`` maps names to them.
RELU, LEAKY_RELU, GELU, SILU, TANH, LOGISTIC, IDENTITY = range(7)
LEAKY_SLOPE = 0.01
INV_SQRT2 = 1.0 / math.sqrt(2.0)
INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
# Fast math for elementwise loops, without "nnan"/"ninf": a NaN stays a NaN.
ELEMENTWISE_MATH = {"nsz", "arcp", "contract", "afn", "reassoc"}


# Below this |z|, tanh comes from its Taylor polynomial (to z**23: remainder
# under 1e-18 relative): (1 - t) / (1 + t) would lose bits to cancellation.
TANH_SMALL = 0.25


@jit(inline="always")
def logistic_pair(z):
    """(logistic(z), logistic(-z)) = (1 / (1 + exp(-z)), 1 - that), each
    within 3 ulp (1 - logistic(z) would cancel for large z), without a libm
    call, so that the loops over it vectorise (see ``exp_nonpositive``);
    NaN stays NaN."""
    e = exp_nonpositive(-abs(np.float64(z)))  # exp(-|z|) in (0, 1]: no overflow
    positive = z >= 0.0
    return (1.0 if positive else e) / (1.0 + e), (e if positive else 1.0) / (1.0 + e)


@jit(inline="always")
def logistic(z):
    """1 / (1 + exp(-z)) (see ``logistic_pair``)."""
    return logistic_pair(z)[0]


@jit(inline="always")
def tanh(z):
    """tanh(z) within 4 ulp, branch-free (see ``logistic``); NaN stays NaN."""
    a = abs(np.float64(z))
    t = exp_nonpositive(-2.0 * a)
    large = (1.0 - t) / (1.0 + t)
    s = a * a  # odd Taylor polynomial: the coefficients 2^2n (2^2n - 1) B_2n / (2n)!
    p = fma(s, -3.927832388331683e-05, 9.691537956929451e-05)
    p = fma(p, s, -0.00023912911424355248)
    p = fma(p, s, 0.000590027440945586)
    p = fma(p, s, -0.0014558343870513183)
    p = fma(p, s, 0.003592128036572481)
    p = fma(p, s, -0.008863235529902197)
    p = fma(p, s, 0.021869488536155203)
    p = fma(p, s, -0.05396825396825397)
    p = fma(p, s, 0.13333333333333333)
    p = fma(p, s, -0.3333333333333333)
    small = fma(a * s, p, a)
    return math.copysign(small if a < TANH_SMALL else large, np.float64(z))


@jit(inline="always")
def erf(x):
    """erf(x) within 2.3e-16 (libm's: 1.2e-16), branch-free (see ``logistic``).

    |x| <= 1: Taylor's polynomial, to x**37 (remainder under 5e-18). Above:
    1 - exp(-x**2) erfcx(x), erfcx(x) = exp(x**2) erfc(x) by a polynomial
    in 1 / x interpolating it at the Chebyshev nodes of [1, 6] (degree 24,
    fitted with mpmath); beyond 6, erf(x) rounds to 1. NaN stays NaN.
    """
    x = np.float64(x)
    a = abs(x)
    t = a * a
    # 2 / sqrt(pi) sum (-1)^n t^n / (n! (2n + 1)), n <= 18
    p = fma(t, 4.763348040515068e-18, -9.063970842808673e-17)
    p = fma(p, t, 1.6342614095367152e-15)
    p = fma(p, t, -2.7835162072109215e-14)
    p = fma(p, t, 4.4632242632864775e-13)
    p = fma(p, t, -6.7113668551641105e-12)
    p = fma(p, t, 9.422759064650411e-11)
    p = fma(p, t, -1.2290555301717928e-09)
    p = fma(p, t, 1.4807192815879218e-08)
    p = fma(p, t, -1.6365844691234924e-07)
    p = fma(p, t, 1.6462114365889248e-06)
    p = fma(p, t, -1.492565035840625e-05)
    p = fma(p, t, 0.00012055332981789664)
    p = fma(p, t, -0.0008548327023450853)
    p = fma(p, t, 0.005223977625442188)
    p = fma(p, t, -0.026866170645131252)
    p = fma(p, t, 0.11283791670955126)
    p = fma(p, t, -0.37612638903183754)
    p = fma(p, t, 1.1283791670955126)
    small = a * p
    s = (2.0 / min(max(a, 1.0), 6.0) - 7.0 / 6.0) * 1.2  # 1 / a on [1/6, 1] -> [-1, 1]
    q = fma(s, 2.3536979572445124e-10, -2.3141125612785943e-10)
    q = fma(q, s, -1.5967918453108467e-09)
    q = fma(q, s, 2.828024790048224e-09)
    q = fma(q, s, 4.507664335137243e-10)
    q = fma(q, s, -2.7983497703309644e-09)
    q = fma(q, s, 2.3173165145718272e-09)
    q = fma(q, s, -1.4585572765297821e-08)
    q = fma(q, s, 4.980945987466356e-08)
    q = fma(q, s, -9.821320495249197e-08)
    q = fma(q, s, 1.2488260283637228e-07)
    q = fma(q, s, 3.3003779342775526e-09)
    q = fma(q, s, -6.62787417422296e-07)
    q = fma(q, s, 2.582429042121849e-06)
    q = fma(q, s, -6.498242897250973e-06)
    q = fma(q, s, 1.0882793978525845e-05)
    q = fma(q, s, -4.046598181654776e-06)
    q = fma(q, s, -5.528651391918668e-05)
    q = fma(q, s, 0.0002656054665609539)
    q = fma(q, s, -0.0007383867417931075)
    q = fma(q, s, 0.0010344322263503756)
    q = fma(q, s, 0.002821131897847166)
    q = fma(q, s, -0.03083105050843015)
    q = fma(q, s, 0.16536269001261483)
    q = fma(q, s, 0.28972211632346423)
    large = 1.0 - exp_nonpositive(-t) * q
    return math.copysign(small if a <= 1.0 else large, x)


@jit(inline="always")
def activate(kind, z):
    """The activation of a pre-activation ``z``."""
    if kind == RELU:
        return z if z > 0.0 else 0.0
    if kind == LEAKY_RELU:
        return z if z > 0.0 else LEAKY_SLOPE * z
    if kind == GELU:  # exact: z * Phi(z)
        return 0.5 * z * (1.0 + erf(z * INV_SQRT2))
    if kind == SILU:
        return z * logistic(z)
    if kind == TANH:
        return tanh(z)
    if kind == LOGISTIC:
        return logistic(z)
    return z


@jit(inline="always")
def activation_grad(kind, z):
    """Derivative of the activation at ``z``."""
    if kind == RELU:
        return 1.0 if z > 0.0 else 0.0
    if kind == LEAKY_RELU:
        return 1.0 if z > 0.0 else LEAKY_SLOPE
    if kind == GELU:
        return (0.5 * (1.0 + erf(z * INV_SQRT2))
                + z * INV_SQRT_2PI * exp_nonpositive(-0.5 * z * z))  # fmt: skip
    if kind == SILU or kind == LOGISTIC:
        s, s_minus = logistic_pair(z)
        return s * (1.0 + z * s_minus) if kind == SILU else s * s_minus
    if kind == TANH:
        t = tanh(z)
        return 1.0 - t * t
    return 1.0


@jit(fastmath=ELEMENTWISE_MATH)
def activate_block(kind, pre, out):
    """out = activation(pre), elementwise over (rows, units) blocks.

    One loop per activation, with the kind a constant there, so that each
    vectorises (the branch on the kind is taken once per block, not per
    element).
    """
    rows, units = pre.shape
    if kind == RELU:
        for r in range(rows):
            for c in range(units):
                out[r, c] = max(pre[r, c], 0.0)
    elif kind == TANH:
        for r in range(rows):
            for c in range(units):
                out[r, c] = activate(TANH, pre[r, c])
    elif kind == LOGISTIC:
        for r in range(rows):
            for c in range(units):
                out[r, c] = activate(LOGISTIC, pre[r, c])
    elif kind == SILU:
        for r in range(rows):
            for c in range(units):
                out[r, c] = activate(SILU, pre[r, c])
    elif kind == GELU:
        for r in range(rows):
            for c in range(units):
                out[r, c] = activate(GELU, pre[r, c])
    elif kind == IDENTITY:
        for r in range(rows):
            for c in range(units):
                out[r, c] = pre[r, c]
    else:
        for r in range(rows):
            for c in range(units):
                out[r, c] = activate(kind, pre[r, c])


@jit(fastmath=ELEMENTWISE_MATH)
def activation_grad_block(kind, pre, delta):
    """delta *= activation'(pre), elementwise (see ``activate_block``)."""
    rows, units = pre.shape
    if kind == RELU:
        for r in range(rows):
            for c in range(units):
                delta[r, c] = delta[r, c] if pre[r, c] > 0.0 else 0.0
    elif kind == TANH:
        for r in range(rows):
            for c in range(units):
                delta[r, c] *= activation_grad(TANH, pre[r, c])
    elif kind == LOGISTIC:
        for r in range(rows):
            for c in range(units):
                delta[r, c] *= activation_grad(LOGISTIC, pre[r, c])
    elif kind == SILU:
        for r in range(rows):
            for c in range(units):
                delta[r, c] *= activation_grad(SILU, pre[r, c])
    elif kind == GELU:
        for r in range(rows):
            for c in range(units):
                delta[r, c] *= activation_grad(GELU, pre[r, c])
    elif kind != IDENTITY:
        for r in range(rows):
            for c in range(units):
                delta[r, c] *= activation_grad(kind, pre[r, c])


@jit
def dropout_block(seed, keys, unit_base, keep, block):
    """Inverted dropout on a (rows, units) block, in place."""
    rows, units = block.shape
    for r in range(rows):
        for c in range(units):
            block[r, c] *= dropout_scale(seed, keys[r], unit_base + c, keep)


@jit(inline="always")
def mix_words(key, words):
    """Fold 32-bit words into a 64-bit key (multiply-xorshift)."""
    for word in words:
        key = (key ^ np.uint64(word)) * np.uint64(0x100000001B3)
        key = key ^ (key >> np.uint64(29))
    return key


@jit
def sample_keys(X, data, indices, indptr, sparse, order, start, mb, keys):
    """keys[r] = a hash of the values (and, CSR, positions) of sample order[start + r]."""
    for r in range(mb):
        i = order[start + r]
        key = np.uint64(0xCBF29CE484222325)
        if sparse:
            lo, hi = indptr[i], indptr[i + 1]
            key = mix_words(key, data[lo:hi].view(np.uint32))
            key = mix_words(key, indices[lo:hi])
        else:
            key = mix_words(key, X[i].view(np.uint32))
        keys[r] = key


@jit(inline="always")
def dropout_scale(seed, sample, unit, keep):
    """0 for a dropped unit, 1 / keep for a kept one (inverted dropout).

    A splitmix64 hash of (seed, sample key, unit): the same mask for a
    sample whatever the batch it falls in.
    """
    x = np.uint64(seed) ^ (np.uint64(sample) * np.uint64(0x9E3779B97F4A7C15))
    x = x ^ (np.uint64(unit) * np.uint64(0xC2B2AE3D27D4EB4F))
    x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    x = x ^ (x >> np.uint64(31))
    uniform = float(x >> np.uint64(11)) * (1.0 / 9007199254740992.0)
    return 1.0 / keep if uniform < keep else 0.0


@jit
def first_layer(X, data, indices, indptr, sparse, order, start, mb, W, out, inputs):
    """out = X[order[start:start + mb]] @ W; dense rows are gathered into inputs."""
    if sparse:
        out[:] = 0.0
        for r in range(mb):
            i = order[start + r]
            for q in range(indptr[i], indptr[i + 1]):
                j = indices[q]
                x = data[q]
                for c in range(W.shape[1]):
                    out[r, c] += x * W[j, c]
        return
    for r in range(min(PREFETCH_ROWS, mb)):
        prefetch_row(X, order[start + r])
    for r in range(mb):
        if r + PREFETCH_ROWS < mb:
            prefetch_row(X, order[start + r + PREFETCH_ROWS])
        i = order[start + r]
        for j in range(X.shape[1]):  # not the slower slice copy (see dense_rows_grad)
            inputs[r, j] = X[i, j]
    np.dot(inputs, W, out)


@jit
def first_layer_grad(data, indices, indptr, sparse, order, start, mb, delta, inputs,
                     grad_W):  # fmt: skip
    """grad_W = X[order[start:start + mb]].T @ delta."""
    if sparse:
        grad_W[:] = 0.0
        for r in range(mb):
            i = order[start + r]
            for q in range(indptr[i], indptr[i + 1]):
                j = indices[q]
                x = data[q]
                for c in range(grad_W.shape[1]):
                    grad_W[j, c] += x * delta[r, c]
        return
    np.dot(inputs.T, delta, grad_W)


@jit
def slice_grad(X, data, indices, indptr, sparse, Y, sw, order, start, mb, params, grad,
               sizes, offsets, A, Z, D, keys, capacity, activation, keep, seed, loss,
               epsilon):  # fmt: skip
    """Forward and backward pass of rows order[start:start + mb]: writes the
    summed weighted gradient into ``grad`` and returns the summed weighted
    loss. A, Z, D, keys : scratch for ``capacity`` rows (see ``mlp_epoch``).
    """
    n_layers = sizes.shape[0] - 1
    widest = D.shape[0] // (2 * capacity)
    if keep < 1.0:
        sample_keys(X, data, indices, indptr, sparse, order, start, mb, keys)
    # forward: A block l is the input of layer l, Z block l its output
    a_at, z_at, unit_base = 0, 0, 0
    for layer in range(n_layers):
        n_in, n_out = sizes[layer], sizes[layer + 1]
        w_at = offsets[layer]
        W = params[w_at : w_at + n_in * n_out].reshape((n_in, n_out))
        b = params[w_at + n_in * n_out : w_at + n_in * n_out + n_out]
        inputs = A[a_at : a_at + mb * n_in].reshape((mb, n_in))
        out = Z[z_at : z_at + mb * n_out].reshape((mb, n_out))
        if layer == 0:
            first_layer(X, data, indices, indptr, sparse, order, start, mb, W, out,
                        inputs)  # fmt: skip
        else:
            np.dot(inputs, W, out)
        if layer == n_layers - 1:  # output: the intercepts' gradient goes here
            out_grad_b = grad[w_at + n_in * n_out : w_at + n_in * n_out + n_out]
        for r in range(mb):
            for c in range(n_out):
                out[r, c] += b[c]
        if layer < n_layers - 1:  # hidden: activation, then dropout
            a_at += capacity * n_in
            act = A[a_at : a_at + mb * n_out].reshape((mb, n_out))
            activate_block(activation, out, act)
            if keep < 1.0:
                dropout_block(seed, keys, unit_base, keep, act)
            unit_base += n_out
            z_at += capacity * n_out
    # output: weighted loss gradients into the first delta block
    k = sizes[n_layers]
    delta = D[: mb * k].reshape((mb, k))
    total = outputs_grad(out, Y, sw, order, start, mb, loss, epsilon, delta, out_grad_b)
    # backward, layer by layer; deltas alternate between D's two blocks
    turn = 0
    for layer in range(n_layers - 1, -1, -1):
        n_in, n_out = sizes[layer], sizes[layer + 1]
        w_at = offsets[layer]
        grad_W = grad[w_at : w_at + n_in * n_out].reshape((n_in, n_out))
        grad_b = grad[w_at + n_in * n_out : w_at + n_in * n_out + n_out]
        inputs = A[a_at : a_at + mb * n_in].reshape((mb, n_in))
        if layer == 0:
            first_layer_grad(data, indices, indptr, sparse, order, start, mb, delta,
                             inputs, grad_W)  # fmt: skip
        else:
            np.dot(inputs.T, delta, grad_W)
        if layer < n_layers - 1:  # the output layer's: by outputs_grad
            for c in range(n_out):
                grad_b[c] = 0.0
            for r in range(mb):
                for c in range(n_out):
                    grad_b[c] += delta[r, c]
        if layer == 0:
            break
        W = params[w_at : w_at + n_in * n_out].reshape((n_in, n_out))
        turn = 1 - turn
        at = turn * capacity * widest
        previous = D[at : at + mb * n_in].reshape((mb, n_in))
        np.dot(delta, W.T, previous)
        z_at -= capacity * n_in
        unit_base -= n_in
        pre = Z[z_at : z_at + mb * n_in].reshape((mb, n_in))
        activation_grad_block(activation, pre, previous)
        if keep < 1.0:
            dropout_block(seed, keys, unit_base, keep, previous)
        delta = previous
        a_at -= capacity * sizes[layer - 1]
    return total


@jit
def mlp_epoch(X, data, indices, indptr, sparse, Y, sw, order, batch_size, params, m,
              v, grads, sizes, offsets, A, Z, D, keys, losses, activation, keep, seed,
              loss, epsilon, opt, lr, schedule, power_t, momentum, nesterov, beta_1,
              beta_2, eps, a1, a2, weight_scale, step, total, worker, n_workers,
              counter):  # fmt: skip
    """One epoch of mini-batch training of an MLP, on thread ``worker`` of
    ``n_workers`` (1 or 2) that all run this function at once.

    X : (n_samples, n_features) C-contiguous float32/64, or (0, n_features)
    when ``sparse`` and the CSR arrays data/indices/indptr hold the input.
    Y : (n_samples, n_targets) float64. sw : (n_samples,) float64. order :
    rows in visiting order (int64). params : flat, X's dtype; m, v : moments
    in X's dtype too. sizes, offsets : int64 layer widths and weight offsets.
    Per half of a batch h (0, 1), scratch in X's dtype for ``capacity`` =
    ceil(batch_size / 2) rows: grads[h] (len(params)), A[h] : capacity *
    sum(sizes[:-1]), Z[h] : capacity * sum(sizes[1:]), D[h] : 2 * capacity *
    max(sizes[1:]); keys[h] (capacity,) uint64; losses (2,) float64. keep :
    1 - dropout; seed : uint64 of this epoch's masks. counter : (1,) int64,
    zero, the threads' meeting count (see ``sync.barrier``).

    Every batch is cut in two fixed halves whose gradients are summed in a
    fixed order, and the update of the parameters is cut in two fixed
    ranges; thread h takes half h (one thread takes both), so the result
    does not depend on the number of threads. Returns (``total`` plus the
    weighted sample losses, added batch by batch, and the last step); the
    sum is complete on worker 0.
    """
    n_layers = sizes.shape[0] - 1
    n_params = params.shape[0]
    n = order.shape[0]
    capacity = keys.shape[1]
    meeting = 0
    for start in range(0, n, batch_size):
        stop = min(start + batch_size, n)
        step += 1
        half = (stop - start + 1) // 2
        for h in range(worker, 2, n_workers):
            lo = min(start + h * half, stop)
            hi = min(lo + half, stop)
            if lo == hi:  # a batch of one row has an empty second half
                grads[h, :] = 0.0
                losses[h] = 0.0
                continue
            losses[h] = slice_grad(X, data, indices, indptr, sparse, Y, sw, order, lo,
                                   hi - lo, params, grads[h], sizes, offsets, A[h],
                                   Z[h], D[h], keys[h], capacity, activation, keep,
                                   seed, loss, epsilon)  # fmt: skip
        meeting += 1
        barrier(counter, n_workers, meeting)
        total += losses[0] + losses[1]
        # one optimiser step, parameters cut in two ranges; biases are not penalised
        eta = step_size(opt, lr, schedule, power_t, beta_1, beta_2, step)
        grad_scale = weight_scale / (stop - start)
        for h in range(worker, 2, n_workers):
            lo, hi = h * n_params // 2, (h + 1) * n_params // 2
            for layer in range(n_layers):  # each layer's part of [lo, hi), maybe empty
                w_at = offsets[layer]
                b_at = w_at + sizes[layer] * sizes[layer + 1]
                end = b_at + sizes[layer + 1]
                update_range(params, grads[0], grad_scale, m, v, max(w_at, lo),
                             min(b_at, hi), opt, eta, momentum, nesterov, beta_1,
                             beta_2, eps, a1, a2, grads[1])  # fmt: skip
                update_range(params, grads[0], grad_scale, m, v, max(b_at, lo),
                             min(end, hi), opt, eta, momentum, nesterov, beta_1,
                             beta_2, eps, 0.0, 0.0, grads[1])  # fmt: skip
        meeting += 1
        barrier(counter, n_workers, meeting)
    return total, step
