"""
L1 feature selection and the path of exact zeros
================================================

With ``penalty="l1"`` (or ``"elasticnet"``) every optimiser step of
skbigmodel is followed by a soft-thresholding step, so coefficients that the
data does not support become *exactly* zero rather than merely small (see
the user guide, "How L1 gives exact zeros"). ``coef_`` then works as a
feature selector, for instance with
:class:`~sklearn.feature_selection.SelectFromModel`.

The data has 40 features of which only the first 6 carry information about
the class; the other 34 are noise.
"""

# %%
# The regularisation path
# -----------------------
# One :class:`~skbigmodel.LogisticClassifier` per value of ``alpha``, from
# weak to strong. We count the coefficients that are exactly 0.0, and keep
# the coefficients to draw the path.

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import make_classification
from sklearn.feature_selection import SelectFromModel
from sklearn.model_selection import cross_val_score, train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skbigmodel import LogisticClassifier

N_INFORMATIVE = 6
X, y = make_classification(
    n_samples=3000,
    n_features=40,
    n_informative=N_INFORMATIVE,
    n_redundant=0,
    shuffle=False,
    random_state=0,
)
X = StandardScaler().fit_transform(X)
X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)

alphas = np.logspace(-3.5, -0.5, 13)
path, n_zeros, scores = [], [], []
for alpha in alphas:
    clf = LogisticClassifier(penalty="l1", alpha=alpha, random_state=0)
    clf.fit(X_train, y_train)
    path.append(clf.coef_[0])
    n_zeros.append(int(np.sum(clf.coef_ == 0.0)))
    scores.append(clf.score(X_test, y_test))
path = np.array(path)

for alpha, zeros, score in zip(alphas, n_zeros, scores):
    print(
        f"alpha={alpha:.4f}  exact zeros: {zeros:2d} of 40   test accuracy {score:.3f}"
    )

# %%
# The informative features (drawn in colour) are the last to leave the
# model as ``alpha`` grows; the noise features (grey) are set to exactly
# zero first. The right panel counts the exact zeros.

fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4), layout="constrained")
for j in range(path.shape[1]):
    informative = j < N_INFORMATIVE
    left.plot(
        alphas,
        path[:, j],
        color=f"C{j}" if informative else "0.7",
        lw=2 if informative else 1,
        zorder=2 if informative else 1,
        label=f"feature {j}" if informative else None,
    )
left.set_xscale("log")
left.set_xlabel("alpha")
left.set_ylabel("coefficient")
left.set_title("L1 path: LogisticClassifier(penalty='l1')")
left.legend(fontsize=8)

right.plot(alphas, n_zeros, marker="o")
right.axhline(
    40 - N_INFORMATIVE, color="k", ls="--", lw=1, label="number of noise features"
)
right.set_xscale("log")
right.set_xlabel("alpha")
right.set_ylabel("coefficients exactly 0.0 (of 40)")
right.set_title("Exact zeros")
right.legend()
plt.show()

# %%
# Selecting features inside a pipeline
# ------------------------------------
# :class:`~sklearn.feature_selection.SelectFromModel` keeps the features
# whose coefficient is non-zero (``threshold=1e-12``, i.e. above zero); any
# model can follow. Here a second, unpenalised ``LogisticClassifier`` is
# trained on the selected features only.

selector = SelectFromModel(
    LogisticClassifier(penalty="l1", alpha=0.02, random_state=0), threshold=1e-12
)
pipe = make_pipeline(selector, LogisticClassifier(penalty=None, random_state=0))
pipe.fit(X_train, y_train)
kept = np.flatnonzero(pipe[0].get_support())
print("features kept:", kept.tolist())
print(f"test accuracy on {kept.size} features: {pipe.score(X_test, y_test):.3f}")

everything = LogisticClassifier(penalty=None, random_state=0)
print(
    "cross-validated accuracy, all 40 features:  "
    f"{cross_val_score(everything, X, y).mean():.3f}"
)
print(
    f"cross-validated accuracy, selected features: "
    f"{cross_val_score(pipe, X, y).mean():.3f}"
)
