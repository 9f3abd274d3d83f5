"""
Quick start: a drop-in for SGDClassifier and SGDRegressor
=========================================================

:class:`~skbigmodel.LogisticClassifier` and :class:`~skbigmodel.LinearRegressor`
take the place of scikit-learn's ``SGDClassifier(loss="log_loss")`` and
``SGDRegressor`` inside an existing :class:`~sklearn.pipeline.Pipeline` and
:class:`~sklearn.model_selection.GridSearchCV`: same parameter names
(``penalty``, ``alpha``, ``random_state``, ...), same ``fit`` / ``predict`` /
``score``.

Below, the same grid over the penalty and its strength is searched for both,
on the digits data (10-class classification) and on the diabetes data
(regression), both shipped with scikit-learn. We print the best parameters,
the score on a held-out test set and the wall-clock time of each grid search.
"""

# %%
# Data and the grid
# -----------------
# Each data set is split once into a training set, on which ``GridSearchCV``
# runs a 3-fold cross-validation, and a test set that is only used at the end.
# The grid is the same for all four models: three penalties times three
# values of ``alpha``.

import time
import warnings

from sklearn.datasets import load_diabetes, load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import SGDClassifier, SGDRegressor
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from skbigmodel import LinearRegressor, LogisticClassifier

X_digits, y_digits = load_digits(return_X_y=True)
X_diabetes, y_diabetes = load_diabetes(return_X_y=True)
digits = train_test_split(X_digits, y_digits, stratify=y_digits, random_state=0)
diabetes = train_test_split(X_diabetes, y_diabetes, random_state=0)

param_grid = {
    "model__penalty": ["l2", "l1", "elasticnet"],
    "model__alpha": [1e-4, 1e-3, 1e-2],
}

# %%
# Compile the kernels once
# ------------------------
# skbigmodel's kernels are compiled by Numba the first time they run (and
# cached on disk for later processes). Fit each estimator once on a small
# slice so that this one-time compilation is not counted in the timings.
# Five epochs are far from convergence: silence that warning here only.

with warnings.catch_warnings():
    warnings.simplefilter("ignore", ConvergenceWarning)
    warm_up = dict(max_iter=5, random_state=0)
    LogisticClassifier(**warm_up).fit(X_digits[:100], y_digits[:100])
    LinearRegressor(**warm_up).fit(X_diabetes[:100], y_diabetes[:100])

# %%
# Run the grid searches
# ---------------------
# Every model sits in the same two-step pipeline, so only the last step
# changes. ``GridSearchCV`` runs its 27 fits (plus the refit) one after the
# other; skbigmodel's kernels use all the cores within each fit
# (``n_jobs=None``). ``max_iter`` counts epochs, 1000 at most as in
# ``SGDClassifier``; training stops earlier once the loss stops improving.


def search(model, data):
    """Grid-search ``model`` behind a StandardScaler; return a result row."""
    X_train, X_test, y_train, y_test = data
    pipe = Pipeline([("scale", StandardScaler()), ("model", model)])
    grid = GridSearchCV(pipe, param_grid, cv=3)
    start = time.perf_counter()
    grid.fit(X_train, y_train)
    seconds = time.perf_counter() - start
    best = grid.best_params_
    params = f"{best['model__penalty']}, alpha={best['model__alpha']:g}"
    return type(model).__name__, params, grid.score(X_test, y_test), seconds


rows = [
    search(LogisticClassifier(random_state=0), digits),
    search(SGDClassifier(loss="log_loss", random_state=0), digits),
    search(LinearRegressor(random_state=0), diabetes),
    search(SGDRegressor(random_state=0), diabetes),
]

# %%
# Results
# -------
# The test score is the accuracy for the classifiers and R^2 for the
# regressors.

header = ("model", "best penalty, alpha", "test score", "grid fit (s)")
print(f"{header[0]:<20} {header[1]:<24} {header[2]:>10} {header[3]:>12}")
for name, params, score, seconds in rows:
    print(f"{name:<20} {params:<24} {score:>10.3f} {seconds:>12.2f}")
