"""
Training on a Dask array with ``Incremental``
=============================================

:class:`dask_ml.wrappers.Incremental` trains an estimator on a Dask array
block by block: it sends each block of rows to a worker and calls the
estimator's ``partial_fit`` on it, continuing from the model the previous
block left. Only one block has to be in a worker's memory at a time. Every
skbigmodel estimator has ``partial_fit`` (one epoch over the block it is
given), so it works under ``Incremental`` unchanged.

The cluster here is a :class:`distributed.LocalCluster` of one worker inside
this process, listening on the loopback interface only; on a real cluster
only the ``Client`` line changes. This needs the ``dask`` extra:
``pip install "skbigmodel[dask]"``. The user guide page on scaling out also
covers grid searches on a cluster.
"""

# %%
# A cluster and a chunked array
# -----------------------------
# The data is made where it is used: each block of 10,000 rows is produced
# by a task on the worker (here from a random "teacher" model with three
# classes), so no array travels from this process. 12 blocks train the
# model; one more block, made here with NumPy, tests it.

import dask
import dask.array as da
import matplotlib.pyplot as plt
import numpy as np
from dask_ml.wrappers import Incremental
from distributed import Client, LocalCluster

from skbigmodel import LogisticClassifier

cluster = LocalCluster(
    processes=False,
    n_workers=1,
    threads_per_worker=2,
    host="127.0.0.1",
    protocol="tcp",
    dashboard_address=None,
    # the scheduler still serves /health: on a free loopback port
    scheduler_kwargs={"dashboard_address": "127.0.0.1:0"},
)
client = Client(cluster)

N_BLOCKS, BLOCK_ROWS, N_FEATURES, N_CLASSES = 12, 10_000, 30, 3
TEACHER = np.random.default_rng(0).normal(size=(N_FEATURES, N_CLASSES))


def make_block(seed):
    """Rows with standard normal features; the class is the teacher's
    largest logit after Gumbel noise (a multinomial logistic model)."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(BLOCK_ROWS, N_FEATURES))
    logits = X @ TEACHER + rng.gumbel(size=(BLOCK_ROWS, N_CLASSES))
    return X, logits.argmax(axis=1)


blocks = [dask.delayed(make_block, nout=2)(seed) for seed in range(N_BLOCKS)]
X = da.concatenate(
    [da.from_delayed(b[0], (BLOCK_ROWS, N_FEATURES), float) for b in blocks]
)
y = da.concatenate([da.from_delayed(b[1], (BLOCK_ROWS,), int) for b in blocks])
X, y = client.persist([X, y])  # made once on the worker, kept there
X_test, y_test = make_block(seed=N_BLOCKS)
print(X)

# %%
# Passes over the blocks
# ----------------------
# Each call to ``Incremental.partial_fit`` is one pass over all the blocks,
# in an order drawn from ``Incremental``'s own ``random_state``. As for any
# ``partial_fit`` of a classifier, the first call must name all the
# classes. ``inc.estimator_`` is a plain fitted ``LogisticClassifier``.

inc = Incremental(LogisticClassifier(random_state=0), random_state=0)
scores = []
for n_pass in range(5):
    inc.partial_fit(X, y, classes=np.arange(N_CLASSES))
    scores.append(inc.estimator_.score(X_test, y_test))
    print(f"pass {n_pass + 1}: test accuracy {scores[-1]:.4f}")

model = inc.estimator_
print(type(model).__name__, model.coef_.shape, f"{model.t_} samples seen")

# %%
# One pass is already 12 x 40 = 480 Adam steps, and the later passes change
# the accuracy by hundredths of a point. The dashed line is the accuracy of
# the teacher itself (the argmax of its noiseless logits), the best that any
# model can do on this data.

best = np.mean((X_test @ TEACHER).argmax(axis=1) == y_test)
fig, ax = plt.subplots(figsize=(6, 3.5), layout="constrained")
ax.plot(np.arange(1, len(scores) + 1), scores, marker="o", label="LogisticClassifier")
ax.axhline(best, color="k", ls="--", lw=1, label="the teacher")
ax.set_ylim(best - 0.1, best + 0.02)
ax.legend(loc="lower right")
ax.set_xlabel("passes over the 12 blocks")
ax.set_ylabel("test accuracy")
ax.set_title("Incremental(LogisticClassifier) on a Dask array")
plt.show()

client.close()
cluster.close()
