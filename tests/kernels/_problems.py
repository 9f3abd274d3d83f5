"""Small problems and bundles for the kernel tests, and a direct kernel call."""

import numpy as np
import scipy.sparse as sp

from skbigmodel._kernels.bundles import (
    Hyper,
    Loss,
    Optimizer,
    Penalty,
    Segment,
    State,
    Team,
)
from skbigmodel._kernels.losses import (
    EPSILON_INSENSITIVE,
    HUBER,
    LOG_LOSS,
    MULTILABEL,
    MULTINOMIAL,
    SQUARED_ERROR,
)
from skbigmodel._kernels.optimizers import ADAM, CONSTANT, NESTEROV, RMSPROP, SGD
from skbigmodel._network import LinearNetwork
from skbigmodel._threads import run_parts

KINDS = {
    SQUARED_ERROR: "regression",
    HUBER: "regression",
    EPSILON_INSENSITIVE: "regression",
    LOG_LOSS: "binary",
    MULTINOMIAL: "multiclass",
    MULTILABEL: "multilabel",
}
LOSSES = list(KINDS)
N_OUTPUTS = {"regression": 2, "binary": 1, "multiclass": 4, "multilabel": 3}
OPTIMIZERS = [SGD, ADAM, RMSPROP]
PENALTIES = {
    "none": (0.0, 0.0),
    "l2": (0.0, 0.05),
    "l1": (0.02, 0.0),
    "elasticnet": (0.01, 0.03),
}
EPSILON = 0.3  # Huber's and the insensitive loss's


def targets(loss, rng, n, k):
    """Targets (n, 1 or k) of the kind that ``loss`` takes."""
    kind = KINDS[loss]
    if kind == "regression":
        return rng.standard_normal((n, k))
    if kind == "binary":
        return rng.integers(0, 2, (n, 1)).astype(float)
    if kind == "multiclass":
        return rng.integers(0, k, (n, 1)).astype(float)
    return rng.integers(0, 2, (n, k)).astype(float)


def make_problem(loss, n=90, p=7, k=None, seed=0, dtype=np.float64):
    """Dense X (n, p), targets, sample weights (some zero) and n_outputs."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p)).astype(dtype)
    k = N_OUTPUTS[KINDS[loss]] if k is None else k
    Y = targets(loss, rng, n, k)
    sw = rng.uniform(0.2, 2.0, n)
    sw[::9] = 0.0
    return X, Y, sw, k


def sparse_problem(loss, seed=0):
    """make_problem's data with most entries absent, a few stored zeros, and a
    feature absent from every row."""
    X, Y, sw, k = make_problem(loss, seed=seed)
    rng = np.random.default_rng(seed + 10)
    X[rng.random(X.shape) < 0.6] = 0.0
    X[:, 3] = 0.0
    X = sp.csr_matrix(X)
    X.data[::11] = 0.0  # stored zeros: present, with a zero gradient
    return X, Y, sw, k


def make_hyper(
    loss,
    opt,
    a1,
    a2,
    *,
    sw,
    lr=0.05,
    schedule=CONSTANT,
    momentum=0.9,
    nesterov=True,
    epsilon=EPSILON,
    beta_2=0.99,
):
    """A kernel ``Hyper`` bundle, every field of the type the estimators give."""
    opt = NESTEROV if opt == SGD and nesterov else opt  # Nesterov: a kind of its own
    optimizer = Optimizer(
        kind=opt,
        lr=float(lr),
        schedule=schedule,
        power_t=0.5,
        momentum=float(momentum),
        beta_1=0.9,
        beta_2=float(beta_2),
        eps=1e-8,
    )
    return Hyper(
        loss=Loss(loss, float(epsilon)),
        penalty=Penalty(float(a1), float(a2)),
        optimizer=optimizer,
        weight_scale=float(len(sw) / sw.sum()),
        fit_intercept=True,
    )


def initial_params(k, p, seed=3, scale=0.1):
    return np.random.default_rng(seed).standard_normal(k * (p + 1)) * scale


def run_kernel(runner, state, order, hyper, workers=1, cuts=(), step=0):
    """Run ``runner``'s epoch kernel on ``state`` directly: the rows ``order``
    as segments cut at the rows ``cuts`` (multiples of the batch size), each
    on ``workers`` threads. The runner only supplies data and scratch.
    Returns (summed loss, last step)."""
    kernel, scratch = runner.kernel(hyper)
    inputs = runner.inputs()
    bounds = [0, *cuts, order.size]
    total = 0.0
    for lo, hi in zip(bounds, bounds[1:]):
        segment = Segment(
            order[lo:hi],
            runner.batch_size,
            step,
            total,
            lo // runner.batch_size,
            hi == order.size,
        )
        counter = np.zeros(1, dtype=np.int64)

        def part(worker):
            team = Team(worker, workers, counter)
            return kernel(*inputs, segment, hyper, state, scratch, team)

        total, step = run_parts(part, workers)
    return total, step


def linear_epoch(X, Y, sw, k, hyper, order, batch_size, params0, workers=1, cuts=()):
    """One epoch of the linear kernel that X calls for (dense or CSR) from
    ``params0`` and zero moments; returns (State, summed loss, step, runner)."""
    net = LinearNetwork(X.shape[1], k, X.dtype, params0.astype(X.dtype))
    state = State(net.params, np.zeros(net.params.size), np.zeros(net.params.size))
    runner = net.epoch_runner(X, Y, sw, batch_size, n_jobs=1)
    total, step = run_kernel(runner, state, order, hyper, workers, cuts)
    return state, total, step, runner
