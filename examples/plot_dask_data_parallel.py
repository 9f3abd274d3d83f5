"""
Training on every Dask worker at once with ``DataParallel``
===========================================================

:class:`skbigmodel.dask.DataParallel` trains one model on a Dask array
partitioned by rows, on all the workers at the same time: each round, every
partition's task trains the current model on its own rows (the estimator's
compiled epoch loop), and the models come back averaged, weighted by the
partitions' sample weights. Only the parameters travel; the rows stay
where they are. ``mode="lbfgs"`` instead sums the loss and gradient over
the partitions for SciPy's L-BFGS-B: the optimum of the estimator's own
``solver="lbfgs"`` on all the rows.

The cluster here is a :class:`distributed.LocalCluster` of one worker in
this process, on the loopback interface; on a real cluster only the
``Client`` line changes. This needs the ``dask`` extra:
``pip install "skbigmodel[dask]"``.
"""

# %%
# A cluster and data made on it
# -----------------------------
# Each partition of 20,000 rows is made by a task on the worker, from a
# random logistic "teacher", and kept there (``persist``): nothing travels
# from this process. A fresh partition, made here, tests the models.

import dask
import dask.array as da
import matplotlib.pyplot as plt
import numpy as np
from distributed import Client, LocalCluster

from skbigmodel import LogisticClassifier
from skbigmodel.dask import DataParallel

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

N_PARTS, ROWS, N_FEATURES = 4, 20_000, 20
TEACHER = np.random.default_rng(0).normal(size=N_FEATURES)


def make_part(seed):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(ROWS, N_FEATURES))
    y = (X @ TEACHER + rng.logistic(size=ROWS) > 0).astype(int)
    return X, y


parts = [dask.delayed(make_part, nout=2)(seed) for seed in range(N_PARTS)]
X = da.concatenate([da.from_delayed(p[0], (ROWS, N_FEATURES), float) for p in parts])
y = da.concatenate([da.from_delayed(p[1], (ROWS,), int) for p in parts])
X, y = client.persist([X, y])
X_test, y_test = make_part(seed=N_PARTS)
print(X)

# %%
# Rounds of local epochs
# ----------------------
# ``max_rounds`` rounds of ``local_epochs`` epochs each. ``estimator_`` is a
# plain fitted ``LogisticClassifier``: predict with it, save it with
# ``skbigmodel.io``, export it with ``skbigmodel.onnx``. The meta-estimator
# itself predicts Dask arrays partition by partition.

model = DataParallel(LogisticClassifier(random_state=0, tol=None), max_rounds=8)
model.fit(X, y)
print(f"{model.n_rounds_} rounds, test accuracy {model.score(X_test, y_test):.4f}")
print(model.predict(X))

# The same estimator, trained by itself on all the rows in this process.
X_all, y_all = client.compute([X, y], sync=True)
plain = LogisticClassifier(random_state=0, tol=None, max_iter=8).fit(X_all, y_all)
print(f"plain fit, 8 epochs: test accuracy {plain.score(X_test, y_test):.4f}")

# %%
# Exact, with L-BFGS
# ------------------
# Each L-BFGS iteration sums the loss and gradient over the partitions in
# their order: the final objective is the single-machine one.

exact = DataParallel(LogisticClassifier(alpha=1e-4), mode="lbfgs").fit(X, y)
alone = LogisticClassifier(solver="lbfgs", alpha=1e-4).fit(X_all, y_all)
print(f"objective, DataParallel: {exact.loss_curve_[-1]:.12f}")
print(f"objective, one machine:  {alone.loss_curve_[-1]:.12f}")

# %%
# The loss after each round of DataParallel (each an epoch on every
# partition) and after each epoch of the plain fit: one round is worth
# about one epoch here, and runs on all the workers at once.

fig, ax = plt.subplots(figsize=(6, 3.5), layout="constrained")
rounds = np.arange(1, model.n_rounds_ + 1)
ax.plot(rounds, model.loss_curve_, marker="o", label="DataParallel, per round")
ax.plot(rounds, plain.loss_curve_, marker="s", label="plain fit, per epoch")
ax.axhline(alone.loss_curve_[-1], color="k", ls="--", lw=1, label="L-BFGS optimum")
ax.set_xlabel("round / epoch")
ax.set_ylabel("training objective")
ax.legend()
plt.show()

client.close()
cluster.close()
