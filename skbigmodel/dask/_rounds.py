"""The driver's side of a fit: a round, an L-BFGS evaluation, a validation score.

Each builds one task graph over the partitions and waits for its root.
Only parameters travel: the model goes to the partitions' tasks as one
key, and comes back through a tree of merges in partition order.
"""

import copy

import dask
import numpy as np

from ._cluster import literal
from ._tasks import (
    local_round,
    loss_grad,
    merge_shares,
    merge_validation,
    tree_reduce,
    validation_score,
    validation_sums,
)

__all__ = ["ClusterLoss", "ClusterValidation", "RoundRunner", "rows_of"]

# The base seed of the partitions' streams (other than partition 0's)
SEED_BOUND = 2**32


def rows_of(n_rows):
    """A stand-in for the training rows' indices, of their count but no
    memory: the driver's loop only reads their number."""
    return np.broadcast_to(np.int64(0), (n_rows,))


def _tree(leaves, merge):
    return tree_reduce(leaves, dask.delayed(merge, pure=True))


class RoundRunner:
    """The driver's epoch runner (see ``_training.train``): one call is a
    round, ``epochs`` local epochs on every partition from the current
    model, whose results are averaged by sample weight.

    Partition 0 continues ``rng`` (the estimator's own stream, after the
    network's initialisation) from round to round, so that one partition
    trains exactly as the estimator's own fit; partition i > 0 of round r
    draws from a stream seeded by (base, r, i), ``base`` drawn from ``rng``.
    """

    def __init__(self, client, plan, blocks, epochs, rng):
        self.client, self.blocks, self.epochs = client, blocks, epochs
        self.plan = literal(plan)
        self.stream = ("carried", copy.deepcopy(rng), None)
        self.base = int(rng.randint(SEED_BOUND))
        self.round = 0
        self.model_bytes = 0

    def __call__(self, state, order, step, hyper):
        model = (state.params, state.m, state.v, step, hyper)
        self.model_bytes = sum(a.nbytes for a in model[:3])
        model = literal(model)
        leaves = []
        for index, block in enumerate(self.blocks):
            stream = (
                self.stream if index == 0 else ("seeded", self.base, self.round, index)
            )
            leaf = dask.delayed(local_round, pure=True)
            leaves.append(leaf(self.plan, model, *block, stream, self.epochs))
        share = self.client.compute(_tree(leaves, merge_shares)).result()
        state.params[:] = share.params
        state.m[:], state.v[:] = share.m, share.v
        self.stream = share.stream
        self.round += 1
        return share.loss_sum, step + int(round(share.step))


class ClusterLoss:
    """``_objective.DataLoss`` over the partitions: each evaluation maps
    ``loss_grad`` over them and adds the sums in partition order."""

    def __init__(self, client, plan, blocks, n_rows, total_weight, loss):
        self.client, self.blocks = client, blocks
        self.plan, self.loss = literal(plan), loss
        self.rows, self.total_weight = rows_of(n_rows), total_weight

    def __call__(self, params):
        params = literal(np.array(params, dtype=np.float64))
        leaf = dask.delayed(loss_grad, pure=True)
        leaves = [leaf(self.plan, params, self.loss, *block) for block in self.blocks]
        loss_sum, grad = self.client.compute(_tree(leaves, _add_sums)).result()
        return float(loss_sum), grad


def _add_sums(a, b):
    return a[0] + b[0], a[1] + b[1]


class ClusterValidation:
    """``validate(params) -> score`` on the validation ``Partitions``: accuracy
    or R^2, as the estimator's ``_validation_score``, from sums merged in
    order. It holds ``parts``: persisted partitions live as long as it."""

    def __init__(self, client, plan, parts):
        self.client, self.plan, self.parts = client, literal(plan), parts
        self.blocks = parts.blocks()

    def __call__(self, params):
        params = literal(np.array(params))
        leaf = dask.delayed(validation_sums, pure=True)
        leaves = [leaf(self.plan, params, *block) for block in self.blocks]
        sums = self.client.compute(_tree(leaves, merge_validation)).result()
        return validation_score(sums)
