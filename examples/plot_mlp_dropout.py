"""
An MLP on digits, with and without dropout
==========================================

:class:`~skbigmodel.MLPClassifier` has ``dropout``, which scikit-learn's
``MLPClassifier`` lacks: at every training step each hidden unit of each
sample is dropped with that probability (and the kept ones are scaled up, so
that nothing changes at prediction time). It is a regulariser: it fights the
memorisation of a small training set by a wide network.

We train the same network on 300 digits images with ``dropout`` 0, 0.3 and
0.5, and follow the training loss and the accuracy on the held-out images
after every epoch.
"""

# %%
# Data and models
# ---------------
# The 8x8 images have pixel values 0 to 16; dividing by 16 brings them to
# [0, 1]. 300 images train the network, the other 1,497 measure it. No L2
# penalty (``alpha=0``), so that dropout is the only regulariser.
#
# Passing ``X_val`` and ``y_val`` to ``fit`` records ``validation_scores_``
# (the accuracy on them after each epoch), and the model keeps the epoch
# with the best score. ``tol=0`` with ``n_iter_no_change`` as large as
# ``max_iter`` lets all 60 epochs run, so that the curves can be compared
# epoch by epoch; the warning that the loss is still moving is expected.

import warnings

import matplotlib.pyplot as plt
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split

from skbigmodel import MLPClassifier
from skbigmodel.plotting import TrainingCurveDisplay

X, y = load_digits(return_X_y=True)
X_train, X_val, y_train, y_val = train_test_split(
    X / 16, y, train_size=300, stratify=y, random_state=0
)

EPOCHS = 60
models = {}
for dropout in (0.0, 0.3, 0.5):
    model = MLPClassifier(
        hidden_layer_sizes=(256,),
        dropout=dropout,
        alpha=0.0,
        batch_size=30,
        learning_rate_init=3e-3,
        max_iter=EPOCHS,
        tol=0.0,
        n_iter_no_change=EPOCHS,
        random_state=0,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        models[dropout] = model.fit(X_train, y_train, X_val=X_val, y_val=y_val)

for dropout, model in models.items():
    print(
        f"dropout={dropout}: best validation accuracy "
        f"{model.best_validation_score_:.3f}, final training loss "
        f"{model.loss_curve_[-1]:.4f}"
    )

# %%
# Learning curves
# ---------------
# Without dropout the training loss keeps falling towards zero: the network
# learns the 300 images by heart. With dropout it stays higher, since every
# step sees a randomly thinned network (the loss is measured during
# training, with dropout on). On the held-out images the curves end close
# together: digits is an easy problem for this network, and the differences
# printed above are the measure of what dropout buys here.

fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4), layout="constrained")
for dropout, model in models.items():
    label = f"dropout={dropout}"
    left.plot(model.loss_curve_, label=label)
    right.plot(model.validation_scores_, label=label)
left.set_yscale("log")
left.set_xlabel("epoch")
left.set_ylabel("training loss (log scale)")
left.set_title("Training loss")
left.legend()
right.set_xlabel("epoch")
right.set_ylabel("accuracy on the 1,497 held-out images")
right.set_title("Validation accuracy")
right.legend()
plt.show()

# %%
# One model's curves in scikit-learn's Display style
# --------------------------------------------------
# :class:`skbigmodel.plotting.TrainingCurveDisplay` draws the loss and the
# validation score of one fitted estimator on twin axes, and marks the epoch
# whose parameters the model kept (the best validation score).

fig, ax = plt.subplots(figsize=(7, 4), layout="constrained")
TrainingCurveDisplay.from_estimator(models[0.5], ax=ax, name="dropout=0.5")
plt.show()
