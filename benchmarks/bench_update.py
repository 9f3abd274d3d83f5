"""Nanoseconds per parameter of one optimiser step (``update_range``).

Run from the repository root::

    python benchmarks/bench_update.py

Every mini-batch of an MLP ends with one step over all its parameters
(59,648 for 100-256-128-10, 235,146 for 784-256-128-10), so this loop is a
fixed share of each batch. It prints the median over 50 calls of one step
over 59,648 parameters, per optimiser and parameter dtype, with and
without an L1 penalty (whose soft-threshold adds work per parameter).
"""

import time

import numpy as np

from skbigmodel._kernels.bundles import Optimizer, Penalty, State
from skbigmodel._kernels.optimizers import ADAM, NESTEROV, RMSPROP, update_range

N_PARAMS = 59_648
CALLS = 50


def time_update(dtype, opt, a1):
    rng = np.random.default_rng(0)
    params = rng.normal(size=N_PARAMS).astype(dtype)
    grad = rng.normal(size=N_PARAMS).astype(dtype)
    state = State(params, np.zeros(N_PARAMS), np.zeros(N_PARAMS))
    optimizer = Optimizer(
        kind=opt,
        lr=1e-3,
        schedule=0,
        power_t=0.5,
        momentum=0.9,
        beta_1=0.9,
        beta_2=0.999,
        eps=1e-8,
    )
    args = (1.0, 0, N_PARAMS, optimizer, 1e-3, Penalty(a1, 1e-4))
    update_range(state, grad, *args)  # compile / load from cache
    times = []
    for _ in range(CALLS):
        start = time.perf_counter()
        update_range(state, grad, *args)
        times.append(time.perf_counter() - start)
    return 1e9 * np.median(times) / N_PARAMS


def main():
    print("| optimiser | dtype | L1 | ns per parameter (median) |")
    print("| --- | --- | --- | ---: |")
    for name, opt in (
        ("sgd (Nesterov)", NESTEROV),
        ("adam", ADAM),
        ("rmsprop", RMSPROP),
    ):
        for dtype in (np.float32, np.float64):
            for a1 in (0.0, 1e-4):
                ns = time_update(dtype, opt, a1)
                l1 = "yes" if a1 else "no"
                print(f"| {name} | {np.dtype(dtype).name} | {l1} | {ns:.2f} |")


if __name__ == "__main__":
    main()
