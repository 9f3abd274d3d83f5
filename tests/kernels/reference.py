"""Plain NumPy versions of the kernels, written for clarity, not speed."""

import math

import numpy as np

from skbigmodel._kernels.steps import (
    ADAM,
    EPSILON_INSENSITIVE,
    HUBER,
    INVSCALING,
    LOG_LOSS,
    MULTILABEL,
    SGD,
    SQUARED_ERROR,
)


def loss_grad(loss, epsilon, Z, Y):
    """Per-sample losses (n,) and gradients (n, k) for raw outputs Z (n, k)."""
    if loss == SQUARED_ERROR:
        R = Z - Y
        return 0.5 * (R**2).sum(axis=1), R
    if loss == HUBER:
        R = Z - Y
        small = np.abs(R) <= epsilon
        values = np.where(small, 0.5 * R**2, epsilon * (np.abs(R) - 0.5 * epsilon))
        return values.sum(axis=1), np.clip(R, -epsilon, epsilon)
    if loss == EPSILON_INSENSITIVE:
        R = Z - Y
        outside = np.abs(R) > epsilon
        values = np.where(outside, np.abs(R) - epsilon, 0.0)
        return values.sum(axis=1), np.where(outside, np.sign(R), 0.0)
    if loss == MULTILABEL:
        values = (np.logaddexp(0.0, Z) - Y * Z).sum(axis=1)
        return values, 1.0 / (1.0 + np.exp(-Z)) - Y
    if loss == LOG_LOSS:
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


def step_size(opt, lr, schedule, power_t, beta_1, beta_2, t):
    eta = lr / t**power_t if schedule == INVSCALING else lr
    if opt == ADAM:
        eta *= np.sqrt(1.0 - beta_2**t) / (1.0 - beta_1**t)
    return eta


def soft_threshold(w, threshold):
    return np.sign(w) * np.maximum(np.abs(w) - threshold, 0.0)


def optimizer_step(opt, w, g, m, v, eta, momentum, nesterov, beta_1, beta_2, eps,
                   a1, a2):  # fmt: skip
    """Vectorised optimiser step + L1 proximal step; returns new (w, m, v)."""
    g = g + a2 * w
    if opt == SGD:
        m = momentum * m - eta * g
        w = w + (momentum * m - eta * g if nesterov else m)
        scale = np.full_like(w, 1.0 / (1.0 - momentum))
    elif opt == ADAM:
        m = beta_1 * m + (1 - beta_1) * g
        v = beta_2 * v + (1 - beta_2) * g**2
        scale = 1.0 / (np.sqrt(v) + eps)
        w = w - eta * scale * m
    else:
        v = beta_2 * v + (1 - beta_2) * g**2
        scale = 1.0 / (np.sqrt(v) + eps)
        w = w - eta * scale * g
    if a1 > 0:
        w = soft_threshold(w, eta * scale * a1)
    return w, m, v


def dense_epoch(X, Y, sw, order, batch_size, params, m, v, loss, epsilon, opt, lr,
                schedule, power_t, momentum, nesterov, beta_1, beta_2, eps, a1, a2,
                weight_scale, step, fit_intercept):  # fmt: skip
    """One epoch with W (n_features, n_outputs) then b in ``params``; in place."""
    p = X.shape[1]
    k = params.size // (p + 1)
    total = 0.0
    for start in range(0, len(order), batch_size):
        rows = order[start : start + batch_size]
        W, b = params[: p * k].reshape(p, k), params[p * k :]
        values, G = loss_grad(loss, epsilon, X[rows] @ W + b, Y[rows])
        w = sw[rows]
        total += float(w @ values)
        grad = np.concatenate([(X[rows].T @ (G * w[:, None])).ravel(), w @ G])
        grad *= weight_scale / len(rows)
        step += 1
        eta = step_size(opt, lr, schedule, power_t, beta_1, beta_2, step)
        hyper = (eta, momentum, nesterov, beta_1, beta_2, eps)
        n_coef = p * k
        params[:n_coef], m[:n_coef], v[:n_coef] = optimizer_step(
            opt, params[:n_coef], grad[:n_coef], m[:n_coef], v[:n_coef], *hyper, a1, a2
        )
        if fit_intercept:
            params[n_coef:], m[n_coef:], v[n_coef:] = optimizer_step(
                opt, params[n_coef:], grad[n_coef:], m[n_coef:], v[n_coef:], *hyper,
                0.0, 0.0,
            )  # fmt: skip
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
