"""Plain NumPy versions of the kernels, written for clarity, not speed.

They take the kernels' bundles (``skbigmodel._kernels.bundles``) and codes,
nothing else of the package.
"""

import math

import numpy as np
import scipy.sparse as sp

from skbigmodel._kernels.losses import (
    EPSILON_INSENSITIVE,
    HUBER,
    LOG_LOSS,
    MULTILABEL,
    SQUARED_ERROR,
)
from skbigmodel._kernels.optimizers import ADAM, INVSCALING, NESTEROV, SGD
from skbigmodel._penalties import soft_threshold  # noqa: F401 (also used by tests)


def loss_grad(loss, Z, Y):
    """Per-sample losses (n,) and gradients (n, k) for raw outputs Z (n, k);
    ``loss`` a ``Loss`` bundle."""
    kind, epsilon = loss.kind, loss.param
    if kind == SQUARED_ERROR:
        R = Z - Y
        return 0.5 * (R**2).sum(axis=1), R
    if kind == HUBER:
        R = Z - Y
        small = np.abs(R) <= epsilon
        values = np.where(small, 0.5 * R**2, epsilon * (np.abs(R) - 0.5 * epsilon))
        return values.sum(axis=1), np.clip(R, -epsilon, epsilon)
    if kind == EPSILON_INSENSITIVE:
        R = Z - Y
        outside = np.abs(R) > epsilon
        values = np.where(outside, np.abs(R) - epsilon, 0.0)
        return values.sum(axis=1), np.where(outside, np.sign(R), 0.0)
    if kind == MULTILABEL:
        values = (np.logaddexp(0.0, Z) - Y * Z).sum(axis=1)
        return values, 1.0 / (1.0 + np.exp(-Z)) - Y
    if kind == LOG_LOSS:
        t, y = Z[:, 0], Y[:, 0]
        values = np.logaddexp(0.0, t) - y * t
        return values, (1.0 / (1.0 + np.exp(-t)) - y)[:, None]
    # multinomial
    labels = Y[:, 0].astype(int)
    log_norm = np.logaddexp.reduce(Z, axis=1)
    values = log_norm - Z[np.arange(len(Z)), labels]
    G = np.exp(Z - log_norm[:, None])
    G[np.arange(len(Z)), labels] -= 1.0
    return values, G


def step_size(optimizer, t):
    """Step of optimiser step ``t`` (1-based), Adam's bias correction included."""
    eta = optimizer.lr
    if optimizer.schedule == INVSCALING:
        eta = optimizer.lr / t**optimizer.power_t
    if optimizer.kind == ADAM:
        eta *= np.sqrt(1.0 - optimizer.beta_2**t) / (1.0 - optimizer.beta_1**t)
    return eta


def penalty_scale(optimizer, v):
    """The factor the optimiser's state applies to a step (L1 threshold, lazy steps)."""
    if optimizer.kind in (SGD, NESTEROV):
        return np.full_like(v, 1.0 / (1.0 - optimizer.momentum))
    return 1.0 / (np.sqrt(v) + optimizer.eps)


def optimizer_step(optimizer, w, g, m, v, eta, a1, a2):
    """Vectorised optimiser step + L1 proximal step; returns new (w, m, v)."""
    o = optimizer
    g = g + a2 * w
    if o.kind in (SGD, NESTEROV):
        m = o.momentum * m - eta * g
        w = w + (o.momentum * m - eta * g if o.kind == NESTEROV else m)
    elif o.kind == ADAM:
        m = o.beta_1 * m + (1 - o.beta_1) * g
        v = o.beta_2 * v + (1 - o.beta_2) * g**2
        w = w - eta * m / (np.sqrt(v) + o.eps)
    else:  # RMSprop: beta_2 is rho
        v = o.beta_2 * v + (1 - o.beta_2) * g**2
        w = w - eta * g / (np.sqrt(v) + o.eps)
    if a1 > 0:
        w = soft_threshold(w, eta * penalty_scale(o, v) * a1)
    return w, m, v


def penalty_steps(w, etas, scale, a1, a2):
    """Penalty-only steps of sizes ``etas``, as an absent feature would take
    them one by one with its optimiser state frozen (scale fixed)."""
    for eta in etas:
        w = soft_threshold(w * (1.0 - eta * scale * a2), eta * scale * a1)
    return w


def dense_epoch(X, Y, sw, order, batch_size, state, hyper, step=0):
    """One epoch on W (n_features, n_outputs) then b in ``state.params``, in place."""
    params, m, v = state.params, state.m, state.v
    p = X.shape[1]
    k = params.size // (p + 1)
    n_coef = p * k
    a1, a2 = hyper.penalty
    total = 0.0
    for start in range(0, len(order), batch_size):
        rows = order[start : start + batch_size]
        W, b = params[:n_coef].reshape(p, k), params[n_coef:]
        values, G = loss_grad(hyper.loss, X[rows] @ W + b, Y[rows])
        w = sw[rows]
        total += float(w @ values)
        grad = np.concatenate([(X[rows].T @ (G * w[:, None])).ravel(), w @ G])
        grad *= hyper.weight_scale / len(rows)
        step += 1
        eta = step_size(hyper.optimizer, step)
        coef = slice(0, n_coef)
        params[coef], m[coef], v[coef] = optimizer_step(
            hyper.optimizer, params[coef], grad[coef], m[coef], v[coef], eta, a1, a2
        )
        if hyper.fit_intercept:
            b = slice(n_coef, None)
            params[b], m[b], v[b] = optimizer_step(
                hyper.optimizer, params[b], grad[b], m[b], v[b], eta, 0.0, 0.0
            )
    return total, step


def lazy_csr_epoch(X, Y, sw, order, batch_size, state, hyper, step=0):
    """NumPy version of the lazy CSR epoch, in place.

    A feature with a stored entry in a weighted row of the batch takes the
    optimiser step; the others keep their moments and only owe the penalty
    steps they skip, paid in closed form (L2 as exponential decay, then L1
    as one soft-threshold by the summed step) before the feature is next
    used and at the end of the epoch.
    """
    params, m, v = state.params, state.m, state.v
    X = sp.csr_matrix(X)
    p = X.shape[1]
    k = params.size // (p + 1)
    n_coef = p * k
    opt = hyper.optimizer
    a1, a2 = hyper.penalty
    W, M, V = (a[:n_coef].reshape(p, k) for a in (params, m, v))
    owed = np.zeros(p)  # summed steps each feature skipped since its last step

    def catch_up(features):
        total_eta = owed[features, None] * penalty_scale(opt, V[features])
        W[features] *= np.exp(-total_eta * a2)
        W[features] = soft_threshold(W[features], total_eta * a1)
        owed[features] = 0.0

    total = 0.0
    for start in range(0, len(order), batch_size):
        rows = order[start : start + batch_size]
        present = np.unique(X[rows[sw[rows] > 0]].indices)
        catch_up(present)
        Xb, w = X[rows], sw[rows]
        values, G = loss_grad(hyper.loss, Xb @ W + params[n_coef:], Y[rows])
        total += float(w @ values)
        scale = hyper.weight_scale / len(rows)
        grad_W = np.asarray(Xb.T @ (G * w[:, None])) * scale
        step += 1
        eta = step_size(opt, step)
        W[present], M[present], V[present] = optimizer_step(
            opt, W[present], grad_W[present], M[present], V[present], eta, a1, a2
        )
        owed[np.setdiff1d(np.arange(p), present)] += eta
        if hyper.fit_intercept:
            b = slice(n_coef, None)
            params[b], m[b], v[b] = optimizer_step(
                opt, params[b], w @ G * scale, m[b], v[b], eta, 0.0, 0.0
            )
    catch_up(np.arange(p))
    return total, step


ACTIVATIONS = {
    "relu": lambda z: np.maximum(z, 0.0),
    "leaky_relu": lambda z: np.where(z > 0, z, 0.01 * z),
    "gelu": lambda z: 0.5 * z * (1.0 + np.vectorize(math.erf)(z / np.sqrt(2.0))),
    "silu": lambda z: z / (1.0 + np.exp(-z)),
    "tanh": np.tanh,
    "logistic": lambda z: 1.0 / (1.0 + np.exp(-z)),
    "identity": lambda z: z,
}


def mlp_outputs(X, params, sizes, activation):
    """Raw outputs of an MLP whose layers (W then b) follow each other in params."""
    out, at = X, 0
    for layer in range(len(sizes) - 1):
        n_in, n_out = sizes[layer], sizes[layer + 1]
        W = params[at : at + n_in * n_out].reshape(n_in, n_out)
        b = params[at + n_in * n_out : at + n_in * n_out + n_out]
        at += n_in * n_out + n_out
        out = out @ W + b
        if layer < len(sizes) - 2:
            out = ACTIVATIONS[activation](out)
    return out


def finite_difference_gradient(objective, params, h=1e-6):
    """Central differences of ``objective`` at ``params``, one coordinate at a time."""
    gradient = np.empty_like(params)
    for q in range(params.size):
        up, down = params.copy(), params.copy()
        up[q] += h
        down[q] -= h
        gradient[q] = (objective(up) - objective(down)) / (2 * h)
    return gradient
