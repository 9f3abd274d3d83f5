"""Epoch kernel of multilayer perceptrons: one call runs one whole epoch.

Layer l has weights W_l (sizes[l], sizes[l + 1]) row-major, then biases b_l
(sizes[l + 1],); the layers follow each other in one flat parameter vector
and ``offsets[l]`` is where W_l starts. ``sizes`` holds the widths
(n_features, hidden..., n_outputs).

A mini-batch goes forward and backward through BLAS products on
C-contiguous blocks of three scratch vectors: ``A`` (the input rows and
hidden activations), ``Z`` (pre-activations) and ``D`` (two delta blocks,
used in turn). Bias, activation and dropout are fused in one sweep per
layer (``activations.py``, ``dropout.py``).
"""

import numpy as np
from numba.extending import overload

from .._jit import KERNEL_OPTIONS, jit
from .activations import activate_block, activation_grad_block
from .bundles import DENSE_INPUT, Penalty
from .dropout import draw_keys, drop
from .losses import outputs_grad
from .memory import PREFETCH_ROWS, prefetch_row
from .optimizers import step_size, update_range
from .sync import barrier

NO_PENALTY = Penalty(0.0, 0.0)  # biases are not penalised


@jit
def apply_mask(mask, state, lo, hi):
    """Zero the pruned parameters in [lo, hi) of ``state`` (a ``State``) and
    their optimiser moments, after a step: masked weights stay exactly zero
    whatever the optimiser's momentum or the penalty. ``mask`` is None for a
    network that was never pruned: Numba prunes the branch on the argument's
    type, and this compiles to nothing. (A plain function: with an inlined
    overload, a cold ``MLPClassifier().fit`` measured about 1 s slower in 3
    of 4 paired runs; with this one, no difference beyond the noise.)"""
    if mask is None:
        return
    params, m, v = state.params, state.m, state.v
    for q in range(lo, hi):
        if not mask[q]:
            params[q] = 0.0
            m[q] = 0.0
            v[q] = 0.0


def first_layer(source, order, start, mb, W, out, inputs):
    """out = X[order[start:start + mb]] @ W, X the input of ``source`` (an
    ``MLPData``); dense rows are gathered into inputs. Compiled code only:
    the input's layout is a type, and only its function is compiled."""


def first_layer_grad(source, order, start, mb, delta, inputs, grad_W):
    """grad_W = X[order[start:start + mb]].T @ delta (see ``first_layer``)."""


def _dense_first_layer(source, order, start, mb, W, out, inputs):
    X = source.X
    for r in range(min(PREFETCH_ROWS, mb)):
        prefetch_row(X, order[start + r])
    for r in range(mb):
        if r + PREFETCH_ROWS < mb:
            prefetch_row(X, order[start + r + PREFETCH_ROWS])
        i = order[start + r]
        for j in range(X.shape[1]):  # not the slower slice copy (see dense_rows_grad)
            inputs[r, j] = X[i, j]
    np.dot(inputs, W, out)


def _sparse_first_layer(source, order, start, mb, W, out, inputs):
    data, indices, indptr = source.data, source.indices, source.indptr
    out[:] = 0.0
    for r in range(mb):
        i = order[start + r]
        for q in range(indptr[i], indptr[i + 1]):
            j = indices[q]
            x = data[q]
            for c in range(W.shape[1]):
                out[r, c] += x * W[j, c]


def _dense_first_layer_grad(source, order, start, mb, delta, inputs, grad_W):
    np.dot(inputs.T, delta, grad_W)


def _sparse_first_layer_grad(source, order, start, mb, delta, inputs, grad_W):
    data, indices, indptr = source.data, source.indices, source.indptr
    grad_W[:] = 0.0
    for r in range(mb):
        i = order[start + r]
        for q in range(indptr[i], indptr[i + 1]):
            j = indices[q]
            x = data[q]
            for c in range(grad_W.shape[1]):
                grad_W[j, c] += x * delta[r, c]


def is_dense(source):
    """In an overload: whether an ``MLPData`` type holds dense X."""
    layout = source.types[source.fields.index("layout")]
    return layout.instance_class is type(DENSE_INPUT)


# Functions of their own, compiled with the kernels' options (``_jit.py``).
@overload(first_layer, jit_options=KERNEL_OPTIONS)
def _first_layer(source, order, start, mb, W, out, inputs):
    return _dense_first_layer if is_dense(source) else _sparse_first_layer


@overload(first_layer_grad, jit_options=KERNEL_OPTIONS)
def _first_layer_grad(source, order, start, mb, delta, inputs, grad_W):
    return _dense_first_layer_grad if is_dense(source) else _sparse_first_layer_grad


@jit
def slice_grad(data, layers, scratch, h, order, start, mb, params, loss):
    """Forward and backward pass of rows order[start:start + mb] of ``data``
    (an ``MLPData``) through the network ``layers`` (a ``Layers``): writes
    the summed weighted gradient into scratch.grads[h] and returns the summed
    weighted loss. Uses row ``h`` of the other scratch arrays, blocks for
    ``capacity`` rows (see ``mlp_epoch``).
    """
    sizes, offsets, activation = layers.sizes, layers.offsets, layers.activation
    keep, seed = layers.keep, layers.seed
    grad, A, Z, D = scratch.grads[h], scratch.A[h], scratch.Z[h], scratch.D[h]
    keys = scratch.keys[h]
    capacity = keys.shape[0]
    n_layers = sizes.shape[0] - 1
    widest = D.shape[0] // (2 * capacity)
    draw_keys(keep, data, order, start, mb, keys)
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
            first_layer(data, order, start, mb, W, out, inputs)
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
            drop(keep, seed, keys, unit_base, act)
            unit_base += n_out
            z_at += capacity * n_out
    # output: weighted loss gradients into the first delta block
    k = sizes[n_layers]
    delta = D[: mb * k].reshape((mb, k))
    total = outputs_grad(
        out, data.Y, data.sw, order, start, mb, loss, delta, out_grad_b
    )
    # backward, layer by layer; deltas alternate between D's two blocks
    turn = 0
    for layer in range(n_layers - 1, -1, -1):
        n_in, n_out = sizes[layer], sizes[layer + 1]
        w_at = offsets[layer]
        grad_W = grad[w_at : w_at + n_in * n_out].reshape((n_in, n_out))
        grad_b = grad[w_at + n_in * n_out : w_at + n_in * n_out + n_out]
        inputs = A[a_at : a_at + mb * n_in].reshape((mb, n_in))
        if layer == 0:
            first_layer_grad(data, order, start, mb, delta, inputs, grad_W)
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
        drop(keep, seed, keys, unit_base, previous)
        delta = previous
        a_at -= capacity * sizes[layer - 1]
    return total


@jit
def mlp_epoch(data, layers, segment, hyper, state, scratch, team):
    """One epoch (or a segment of one) of mini-batch training of an MLP, on
    thread ``team.worker`` of ``team.n_workers`` (1 or 2) that all run this
    function at once. The arguments are bundles (``bundles.py``).

    data : ``MLPData`` (X C-contiguous float32/64, or CSR arrays). layers :
    ``Layers``. state : ``State``, params and moments in X's dtype.
    scratch : ``MLPScratch``, per half of a batch h (0, 1), in X's dtype for
    ``capacity`` = ceil(batch_size / 2) rows: grads[h] (len(params)), A[h] :
    capacity * sum(sizes[:-1]), Z[h] : capacity * sum(sizes[1:]), D[h] : 2 *
    capacity * max(sizes[1:]); keys[h] (capacity,) uint64; losses (2,)
    float64.

    Every batch is cut in two fixed halves whose gradients are summed in a
    fixed order, and the update of the parameters is cut in two fixed
    ranges; thread h takes half h (one thread takes both), so the result
    does not depend on the number of threads. Returns (``segment.total``
    plus the weighted sample losses, added batch by batch, and the last
    step); the sum is complete on worker 0.
    """
    order, batch_size, step, total = (
        segment.order,
        segment.batch_size,
        segment.step,
        segment.total,
    )
    worker, n_workers, counter = team
    grads, losses = scratch.grads, scratch.losses
    sizes, offsets = layers.sizes, layers.offsets
    optimizer = hyper.optimizer
    n_layers = sizes.shape[0] - 1
    n_params = state.params.shape[0]
    n = order.shape[0]
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
            losses[h] = slice_grad(
                data, layers, scratch, h, order, lo, hi - lo, state.params, hyper.loss
            )
        meeting += 1
        barrier(counter, n_workers, meeting)
        total += losses[0] + losses[1]
        # one optimiser step, parameters cut in two ranges; biases are not penalised
        eta = step_size(optimizer, step, batch_size, stop - start, hyper.weight_scale)
        grad_scale = hyper.weight_scale / (stop - start)
        for h in range(worker, 2, n_workers):
            lo, hi = h * n_params // 2, (h + 1) * n_params // 2
            for layer in range(n_layers):  # each layer's part of [lo, hi), maybe empty
                w_at = offsets[layer]
                b_at = w_at + sizes[layer] * sizes[layer + 1]
                end = b_at + sizes[layer + 1]
                update_range(
                    state,
                    grads[0],
                    grad_scale,
                    max(w_at, lo),
                    min(b_at, hi),
                    optimizer,
                    eta,
                    hyper.penalty,
                    grads[1],
                )
                apply_mask(layers.mask, state, max(w_at, lo), min(b_at, hi))
                update_range(
                    state,
                    grads[0],
                    grad_scale,
                    max(b_at, lo),
                    min(end, hi),
                    optimizer,
                    eta,
                    NO_PENALTY,
                    grads[1],
                )
        meeting += 1
        barrier(counter, n_workers, meeting)
    return total, step
