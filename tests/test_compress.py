"""skbigmodel.compress: distillation, pruning, int8 quantisation, comparison."""

import io as stdlib_io
import pickle
import warnings

import numpy as np
import onnxruntime
import pytest
from onnx import numpy_helper
from sklearn.base import clone
from sklearn.datasets import make_classification, make_regression
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import SGDClassifier
from sklearn.model_selection import KFold, check_cv, cross_val_predict
from sklearn.naive_bayes import GaussianNB
from sklearn.neighbors import KNeighborsClassifier
from sklearn.svm import LinearSVC

from skbigmodel import (
    LinearRegressor,
    LogisticClassifier,
    MLPClassifier,
    MLPRegressor,
)
from skbigmodel._kernels.bundles import Loss
from skbigmodel._kernels.losses import outputs_grad
from skbigmodel._losses import DISTILLATION_LOSSES
from skbigmodel.compress import (
    DistilledClassifier,
    DistilledRegressor,
    compare,
    prune,
    prune_schedule,
)
from skbigmodel.compress._distill_base import SoftTargets, tempered
from skbigmodel.compress._prune import _kept_units, _unit_scores
from skbigmodel.io import dump, load
from skbigmodel.onnx import to_onnx


@pytest.fixture(autouse=True)
def _quiet():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        yield


def _data(n_classes=3, n_samples=300, seed=0):
    X, y = make_classification(
        n_samples=n_samples,
        n_features=8,
        n_informative=5,
        n_classes=n_classes,
        random_state=seed,
    )
    return X.astype(np.float32), y


def _mlp(**kwargs):
    return MLPClassifier((12,), max_iter=8, random_state=0, **kwargs)


@pytest.fixture(scope="module")
def teacher():
    X, y = _data()
    return MLPClassifier((32,), max_iter=30, random_state=0).fit(X, y)


@pytest.fixture(scope="module")
def fitted():
    X, y = _data()
    return MLPClassifier((16, 12), max_iter=15, random_state=0).fit(X, y)


def _same(a, b):
    return len(a) == len(b) and all(np.array_equal(u, v) for u, v in zip(a, b))


# -- the soft-target losses of the kernels ----------------------------------


def _soft_problem(name, rng, n=30, temperature=2.5):
    k = 1 if name == "binary" else 4
    Z = rng.uniform(-3, 3, (n, k))
    labels = rng.integers(0, max(k, 2), (n, 1)).astype(float)
    weights = np.column_stack([rng.uniform(0, 1, n), rng.uniform(0, 1, n)])
    weights[:3] = [[0.0, 1.0], [1.0, 0.0], [0.3, 0.7]]  # soft only, hard only
    proba = tempered(rng.dirichlet(np.ones(max(k, 2)), n), temperature)
    proba = proba[:, 1:] if k == 1 else proba
    return Z, np.hstack([labels, weights, proba])


@pytest.mark.parametrize("name", DISTILLATION_LOSSES)
def test_soft_target_gradients_match_finite_differences(name):
    """The kernels' gradient of h CE(z, y) + s T^2 CE(z / T, q) against
    central differences of the kernels' own loss values."""
    temperature = 2.5
    entry = DISTILLATION_LOSSES[name]
    Z, Y = _soft_problem(name, np.random.default_rng(0), temperature=temperature)
    n, k = Z.shape
    loss = Loss(entry.code, temperature)
    sw = np.random.default_rng(1).uniform(0.5, 2.0, n)
    order = np.arange(n, dtype=np.int64)

    def evaluate(Z):
        G, grad_b = np.empty_like(Z), np.empty(k)
        value = outputs_grad(Z.copy(), Y, sw, order, 0, n, loss, G, grad_b)
        return value, G, grad_b

    _, G, grad_b = evaluate(Z)
    h = 1e-6
    for r in range(n):
        for c in range(k):
            step = np.zeros_like(Z)
            step[r, c] = h
            numeric = (evaluate(Z + step)[0] - evaluate(Z - step)[0]) / (2 * h)
            assert G[r, c] == pytest.approx(numeric, rel=1e-6, abs=1e-7)
    np.testing.assert_allclose(grad_b, G.sum(axis=0), rtol=1e-12)
    values, grads = entry.reference(Z, Y, temperature)
    np.testing.assert_allclose(G, sw[:, None] * grads, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("n_classes", [2, 3])
@pytest.mark.parametrize(
    "student", [_mlp(), LogisticClassifier(max_iter=5, random_state=0)]
)
def test_soft_weight_zero_is_the_plain_fit(n_classes, student):
    X, y = _data(n_classes)
    teacher = LogisticClassifier(max_iter=10, random_state=0).fit(X, y)
    plain = clone(student).fit(X, y)
    distilled = DistilledClassifier(student, teacher, soft_weight=0.0).fit(X, y)
    got = distilled.student_
    if hasattr(plain, "coefs_"):
        assert _same(plain.coefs_, got.coefs_)
        assert _same(plain.intercepts_, got.intercepts_)
    else:
        assert np.array_equal(plain.coef_, got.coef_)
    assert plain.loss_curve_ == got.loss_curve_


@pytest.mark.parametrize("n_classes", [2, 3])
def test_kernel_with_no_soft_term_has_the_plain_bits(n_classes):
    """Soft targets of weight (1, 0) through the distillation kernels: the
    bits of the plain log-loss kernels (the hard part is computed alike)."""
    X, y = _data(n_classes)
    plain = _mlp().fit(X, y)
    student = _mlp()
    proba = np.full((len(y), n_classes), 1.0 / n_classes)[:, (n_classes == 2) :]
    student._soft_targets = SoftTargets(np.tile([1.0, 0.0], (len(y), 1)), proba, 3.0)
    student.fit(X, y)
    assert student._loss().code in {e.code for e in DISTILLATION_LOSSES.values()}
    assert _same(plain.coefs_, student.coefs_)
    assert plain.loss_curve_ == student.loss_curve_


def test_distillation_pulls_the_student_to_the_teacher(teacher):
    X, y = _data()
    proba = teacher.predict_proba(X)
    gaps = []
    for soft_weight in (0.0, 1.0):
        student = MLPClassifier((12,), max_iter=60, batch_size=32, random_state=0)
        distilled = DistilledClassifier(
            student, teacher, temperature=1.0, soft_weight=soft_weight
        ).fit(X, y)
        gaps.append(np.abs(distilled.predict_proba(X) - proba).mean())
        assert distilled.predict(X).shape == y.shape
        assert np.array_equal(distilled.classes_, teacher.classes_)
    assert gaps[1] < 0.7 * gaps[0]


def test_unlabelled_transfer_set_and_partial_fit(teacher):
    X, y = _data()
    X_more, _ = _data(seed=1)
    plain = DistilledClassifier(_mlp(), teacher).fit(X, y)
    more = DistilledClassifier(_mlp(), teacher).fit(X, y, X_unlabelled=X_more)
    assert more.student_.t_ == 2 * plain.student_.t_
    assert not _same(plain.student_.coefs_, more.student_.coefs_)
    online = DistilledClassifier(_mlp(), teacher)
    for _ in range(3):
        for half in (slice(0, 150), slice(150, 300)):
            online.partial_fit(X[half], y[half])
    assert online.student_.t_ == 3 * len(y)
    assert online.student_.n_iter_ == 6
    curve = online.student_.loss_curve_
    assert curve[-2] < curve[0] and curve[-1] < curve[1]  # epochs of each half


def test_unfitted_teacher_is_fitted_on_the_same_data():
    X, y = _data()
    distilled = DistilledClassifier(_mlp(), LogisticClassifier(max_iter=5)).fit(X, y)
    assert distilled.teacher_ is not distilled.teacher
    assert not hasattr(distilled.teacher, "coef_")
    assert distilled.teacher_.coef_.shape == (3, 8)


class _RecordingStudent(MLPClassifier):
    """An MLP student that keeps the soft targets it was trained on."""

    def fit(self, X, y, sample_weight=None):
        super().fit(X, y, sample_weight=sample_weight)
        self.soft_targets_seen_ = getattr(self, "_soft_targets", None)
        return self


def _recording():
    return _RecordingStudent((12,), max_iter=8, random_state=0)


def _knn_shares(X, y, train, test, n_neighbors=5, n_classes=3):
    """Class shares of each test row's nearest training rows, by hand."""
    X = X.astype(np.float64)
    distances = ((X[test, None, :] - X[None, train, :]) ** 2).sum(axis=2)
    nearest = y[train][np.argsort(distances, axis=1)[:, :n_neighbors]]
    return np.stack([(nearest == c).mean(axis=1) for c in range(n_classes)], axis=1)


def test_cv_none_distils_the_in_sample_probabilities(teacher):
    """The default: the soft targets are the fitted teacher's probabilities of
    the training rows, and the student is the one trained on them by hand."""
    X, y = _data()
    distilled = DistilledClassifier(_mlp(), teacher, temperature=3.0, cv=None)
    distilled.fit(X, y)
    by_hand = _mlp()
    by_hand._soft_targets = SoftTargets(
        np.tile([0.5, 0.5], (len(y), 1)), tempered(teacher.predict_proba(X), 3.0), 3.0
    )
    by_hand.fit(X, y)
    assert _same(by_hand.coefs_, distilled.student_.coefs_)
    assert by_hand.loss_curve_ == distilled.student_.loss_curve_


@pytest.mark.parametrize("cv", [3, KFold(4, shuffle=True, random_state=0)])
def test_cv_soft_targets_come_from_teachers_that_did_not_see_the_row(cv):
    """A 5-nearest-neighbour teacher, whose probabilities are computed here
    by hand: with cv, each row's soft targets are the class shares of its
    neighbours among the other folds' rows, tempered."""
    X, y = _data()
    knn = KNeighborsClassifier(n_neighbors=5)
    distilled = DistilledClassifier(_recording(), knn, temperature=2.0, cv=cv)
    distilled.fit(X, y)
    expected = np.empty((len(y), 3))
    for train, test in check_cv(cv, y, classifier=True).split(X, y):
        expected[test] = _knn_shares(X, y, train, test)
    seen = distilled.student_.soft_targets_seen_
    np.testing.assert_allclose(seen.proba, tempered(expected, 2.0), rtol=1e-12)
    library = cross_val_predict(knn, X, y, cv=cv, method="predict_proba")
    np.testing.assert_allclose(seen.proba, tempered(library, 2.0), rtol=1e-12)
    assert distilled.teacher_.n_samples_fit_ == len(y)  # still fitted on all
    in_sample = tempered(distilled.teacher_.predict_proba(X), 2.0)
    assert np.abs(in_sample - seen.proba).max() > 0.5


def test_cv_fold_teachers_get_the_sample_weights():
    """Gaussian naive Bayes fitted with a weight of zero on some rows is the
    one fitted without them (up to its variance floor): the fold teachers
    must be those."""
    X, y = _data()
    weights = np.where(np.arange(len(y)) % 4 == 0, 0.0, 1.0)
    distilled = DistilledClassifier(_recording(), GaussianNB(), cv=3)
    distilled.fit(X, y, sample_weight=weights)
    expected = np.empty((len(y), 3))
    for train, test in check_cv(3, y, classifier=True).split(X, y):
        kept = train[weights[train] > 0]
        expected[test] = GaussianNB().fit(X[kept], y[kept]).predict_proba(X[test])
    seen = distilled.student_.soft_targets_seen_
    np.testing.assert_allclose(seen.proba, tempered(expected, 2.0), atol=1e-6)


def test_cv_with_a_fitted_teacher_refits_clones_and_keeps_it():
    """A fitted teacher is kept as teacher_ and labels the transfer set; the
    training rows' soft targets come from unfitted clones on the folds."""
    X, y = _data()
    X_other, y_other = _data(seed=1)
    given = KNeighborsClassifier(n_neighbors=5).fit(X_other, y_other)
    before = given.predict_proba(X)
    distilled = DistilledClassifier(_recording(), given, cv=3)
    distilled.fit(X, y, X_unlabelled=X_other[:50])
    assert distilled.teacher_ is given
    assert np.array_equal(given.predict_proba(X), before)
    seen, n = distilled.student_.soft_targets_seen_, len(y)
    out_of_fold = cross_val_predict(
        KNeighborsClassifier(n_neighbors=5), X, y, cv=3, method="predict_proba"
    )
    np.testing.assert_allclose(seen.proba[:n], tempered(out_of_fold, 2.0))
    transfer = tempered(given.predict_proba(X_other[:50]), 2.0)
    np.testing.assert_allclose(seen.proba[n:], transfer)
    assert np.array_equal(seen.weights[n:], np.tile([0.0, 1.0], (50, 1)))


def test_distilled_regressor_mixes_the_targets():
    X, y = make_regression(n_samples=200, n_features=6, noise=5.0, random_state=0)
    teacher = LinearRegressor(max_iter=20, random_state=0).fit(X, y)
    student = MLPRegressor(hidden_layer_sizes=(8,), max_iter=10, random_state=0)
    plain = clone(student).fit(X, y)
    zero = DistilledRegressor(student, teacher, soft_weight=0.0).fit(X, y)
    assert _same(plain.coefs_, zero.student_.coefs_)
    half = DistilledRegressor(student, teacher, soft_weight=0.5).fit(X, y)
    mixed = clone(student).fit(X, 0.5 * teacher.predict(X) + 0.5 * y)
    assert _same(mixed.coefs_, half.student_.coefs_)
    half.partial_fit(X, y)
    assert half.student_.n_iter_ == mixed.n_iter_ + 1
    assert half.predict(X).shape == y.shape


# -- bad input: clear errors, models left as they were -------------------------


def test_teacher_without_predict_proba_is_refused(teacher):
    X, y = _data()
    distilled = DistilledClassifier(_mlp(), teacher).fit(X, y)
    before = [W.copy() for W in distilled.student_.coefs_]
    distilled.set_params(teacher=LinearSVC())
    with pytest.raises(ValueError, match="teacher.*predict_proba"):
        distilled.fit(X, y)
    assert _same(before, distilled.student_.coefs_)
    assert distilled.teacher_ is teacher


def test_teacher_of_other_classes_is_refused(teacher):
    X, y = _data()
    distilled = DistilledClassifier(_mlp(), teacher).fit(X, y)
    before = [W.copy() for W in distilled.student_.coefs_]
    two = y < 2
    with pytest.raises(ValueError, match=r"teacher's classes \[0, 1, 2\] differ"):
        distilled.fit(X[two], y[two])
    with pytest.raises(ValueError, match="teacher's classes"):
        distilled.partial_fit(X, y, classes=[0, 1, 2, 3])
    assert _same(before, distilled.student_.coefs_)
    assert list(distilled.classes_) == [0, 1, 2]


@pytest.mark.parametrize(
    "cv, match",
    [
        (1, "'cv' parameter"),
        (2.5, "'cv' parameter"),
        ("five", "'cv' parameter"),
        ([(np.arange(150), np.arange(150, 300))], "only works for partitions"),
        (KFold(400), "n_splits=400 greater than the number of samples"),
    ],
)
def test_bad_cv_is_refused_and_the_model_kept(cv, match):
    X, y = _data()
    distilled = DistilledClassifier(_mlp(), KNeighborsClassifier(), cv=3).fit(X, y)
    before = [W.copy() for W in distilled.student_.coefs_]
    teacher_before = distilled.teacher_
    distilled.set_params(cv=cv)
    with pytest.raises(ValueError, match=match):
        distilled.fit(X, y)
    assert _same(before, distilled.student_.coefs_)
    assert distilled.teacher_ is teacher_before


def test_partial_fit_refuses_cv(teacher):
    X, y = _data()
    distilled = DistilledClassifier(_mlp(), teacher).fit(X, y)
    before = [W.copy() for W in distilled.student_.coefs_]
    distilled.set_params(cv=3)
    with pytest.raises(ValueError, match="cv=3 is for fit"):
        distilled.partial_fit(X, y)
    assert _same(before, distilled.student_.coefs_)
    assert distilled.student_.n_iter_ == 8


def test_student_must_be_a_log_loss_classifier(teacher):
    X, y = _data()
    with pytest.raises(ValueError, match="'student' parameter .* 'predict_proba'"):
        DistilledClassifier(MLPRegressor(), teacher).fit(X, y)
    with pytest.raises(ValueError, match="student must be a skbigmodel classifier"):
        DistilledClassifier(SGDClassifier(loss="log_loss"), teacher).fit(X, y)


@pytest.mark.parametrize("amount", [-0.1, 1.0, 1.5, "half", True])
def test_prune_amount_outside_the_unit_interval(fitted, amount):
    before = [W.copy() for W in fitted.coefs_]
    with pytest.raises(ValueError, match=r"amount must be a number in \[0, 1\)"):
        prune(fitted, amount)
    assert _same(before, fitted.coefs_)
    assert not hasattr(fitted, "masks_")


def test_prune_refuses_what_it_cannot_prune(fitted):
    with pytest.raises(TypeError, match="needs a fitted skbigmodel MLP"):
        prune(LogisticClassifier(), 0.5)
    with pytest.raises(ValueError, match="not fitted"):
        prune(MLPClassifier(), 0.5)
    with pytest.raises(ValueError, match="scope must be"):
        prune(fitted, 0.5, scope="row")


def test_static_quantisation_needs_calibration(fitted):
    X, _ = _data()
    with pytest.raises(ValueError, match="quantize='static' needs calibration"):
        to_onnx(fitted, X, quantize="static")
    with pytest.raises(ValueError, match="quantize must be None"):
        to_onnx(fitted, X, quantize="int4")
    with pytest.raises(ValueError, match="needs a float32 graph"):
        to_onnx(fitted, X.astype(np.float64), quantize="dynamic")
    with pytest.raises(ValueError, match=r"calibration must have shape \(n_samples, 8"):
        to_onnx(fitted, X, quantize="static", calibration=X[:, :3])


# -- pruning --------------------------------------------------------------------


def _sparsity(est):
    return sum((W == 0).sum() for W in est.coefs_) / sum(W.size for W in est.coefs_)


@pytest.mark.parametrize("scope", ["global", "layer"])
def test_prune_zeroes_the_smallest_weights(fitted, scope):
    pruned = prune(fitted, 0.6, scope=scope)
    assert not hasattr(fitted, "masks_")  # a copy
    assert _sparsity(pruned) == pytest.approx(0.6, abs=3e-3)
    for W, W0, mask in zip(pruned.coefs_, fitted.coefs_, pruned.masks_):
        assert np.array_equal(W, np.where(mask, W0, 0))
        if scope == "layer":
            assert (~mask).mean() == pytest.approx(0.6, abs=0.02)
    if scope == "global":
        kept = np.concatenate(
            [np.abs(W)[m] for W, m in zip(fitted.coefs_, pruned.masks_)]
        )
        dropped = np.concatenate(
            [np.abs(W)[~m] for W, m in zip(fitted.coefs_, pruned.masks_)]
        )
        assert dropped.max() <= kept.min()
    again = prune(pruned, 0.8)
    assert _sparsity(again) == pytest.approx(0.8, abs=3e-3)
    assert all((~m0 <= ~m1).all() for m0, m1 in zip(pruned.masks_, again.masks_))


def _masked_zero(est):
    return all(
        not W[~mask].any() and mask.shape == W.shape
        for W, mask in zip(est.coefs_, est.masks_)
    )


def test_masks_survive_partial_fit_and_warm_start(fitted):
    """Adam's momentum and both penalties would move a zero weight; the mask
    keeps it at zero. (One solver: each is a kernel specialisation to compile,
    and the mask is applied after the step of any.)"""
    X, y = _data()
    pruned = prune(fitted, 0.7)
    pruned.set_params(penalty="elasticnet", alpha=1e-3)
    for _ in range(3):
        pruned.partial_fit(X, y)
        assert _masked_zero(pruned)
    assert not pruned._opt_state.m[~pruned._network.mask].any()
    dense_part = pruned.coefs_[0][pruned.masks_[0]]
    assert not np.array_equal(dense_part, fitted.coefs_[0][pruned.masks_[0]])
    pruned.set_params(warm_start=True, max_iter=3)
    pruned.fit(X, y)
    assert _masked_zero(pruned)
    assert _sparsity(pruned) >= 0.7 - 1e-3


def test_masks_survive_lbfgs_warm_start(fitted):
    X, y = _data()
    pruned = prune(fitted, 0.5).set_params(solver="lbfgs", warm_start=True, max_iter=5)
    pruned.fit(X, y)
    assert _masked_zero(pruned)


def test_fit_without_warm_start_trains_a_dense_model(fitted):
    X, y = _data()
    pruned = prune(fitted, 0.5).fit(X, y)
    assert not hasattr(pruned, "masks_")
    assert pruned._network.mask is None


def test_masks_survive_pickle_skops_and_onnx(fitted, tmp_path):
    X, y = _data()
    pruned = prune(fitted, 0.8)
    path = tmp_path / "pruned.skops"
    dump(pruned, path)
    for copy in (pickle.loads(pickle.dumps(pruned)), load(path)):
        assert _same(copy.masks_, pruned.masks_)
        assert np.array_equal(copy._network.mask, pruned._network.mask)
        copy.partial_fit(X, y)
        assert _masked_zero(copy)
    onx = to_onnx(pruned, X)
    weights = [
        numpy_helper.to_array(t) for t in onx.graph.initializer if len(t.dims) == 2
    ]
    assert len(weights) == 3
    for W, mask in zip(weights, pruned.masks_):
        assert np.array_equal(W == 0, ~mask | (W == 0)) and not W[~mask].any()
    session = onnxruntime.InferenceSession(onx.SerializeToString())
    assert np.array_equal(session.run(None, {"X": X})[0], pruned.predict(X))


def test_io_refuses_a_mask_that_does_not_fit(fitted, tmp_path):
    pruned = prune(fitted, 0.5)
    pruned._network.mask = pruned._network.mask[:-3]
    path = tmp_path / "bad.skops"
    dump(pruned, path)
    with pytest.raises(ValueError, match="pruning mask does not match"):
        load(path)


@pytest.mark.parametrize("scope", ["global", "layer"])
def test_structured_pruning_equals_zeroed_units(fitted, scope):
    X, y = _data()
    smaller = prune(fitted, 0.5, scope=scope, structured=True)
    kept = _kept_units(_unit_scores(fitted._network.coefs), 0.5, scope)
    assert smaller.hidden_layer_sizes == tuple(k.size for k in kept)
    assert sum(smaller.hidden_layer_sizes) == 14  # half of 16 + 12
    assert [W.shape for W in smaller.coefs_] == [
        (8, kept[0].size),
        *[(a.size, b.size) for a, b in zip(kept, kept[1:])],
        (kept[-1].size, 3),
    ]
    zeroed = prune(fitted, 0.0)  # a mask of ones: then zero the removed units
    for layer, units in enumerate(kept):
        gone = np.setdiff1d(np.arange(fitted.coefs_[layer].shape[1]), units)
        mask = zeroed._network.masks
        mask[layer][:, gone] = False
        mask[layer + 1][gone, :] = False
    zeroed = prune(zeroed, 0.0)  # applies the mask to the weights
    np.testing.assert_allclose(
        smaller.predict_proba(X), zeroed.predict_proba(X), rtol=1e-6, atol=1e-7
    )
    assert np.array_equal(smaller.predict(X), zeroed.predict(X))
    smaller.partial_fit(X, y)  # a consistent network: training goes on
    assert smaller.n_iter_ == fitted.n_iter_ + 1
    assert len(to_onnx(smaller, X).SerializeToString()) < len(
        to_onnx(fitted, X).SerializeToString()
    )


def test_prune_schedule_reaches_the_last_amount(fitted):
    X, y = _data()
    pruned = prune_schedule(fitted, X, y, [0.3, 0.6], epochs=2)
    assert _sparsity(pruned) >= 0.6 - 1e-3
    assert pruned.n_iter_ == fitted.n_iter_ + 4
    assert _masked_zero(pruned)


# -- quantisation and comparison ---------------------------------------------


@pytest.mark.parametrize("quantize", ["dynamic", "static"])
def test_quantised_graphs_are_smaller_and_agree(quantize):
    X, y = make_classification(
        n_samples=600, n_features=60, n_informative=10, n_classes=3, random_state=0
    )
    X = X.astype(np.float32)
    clf = MLPClassifier((64,), max_iter=20, random_state=0).fit(X, y)
    float_model = to_onnx(clf, X)
    int8 = to_onnx(clf, X, quantize=quantize, calibration=X[:200])
    ops = {node.op_type for node in int8.graph.node}
    assert ("DequantizeLinear" if quantize == "static" else "MatMulInteger") in ops
    buffer = stdlib_io.BytesIO(int8.SerializeToString())
    session = onnxruntime.InferenceSession(buffer.getvalue())
    label, proba = session.run(None, {"X": X})
    assert (label == clf.predict(X)).mean() > 0.95
    assert np.abs(proba - clf.predict_proba(X)).max() < 0.2
    rows = compare(clf, {"float32": float_model, quantize: int8}, X, y, repeats=2)
    assert [row["model"] for row in rows] == ["estimator", "float32", quantize]
    assert rows[2]["size_bytes"] < 0.5 * rows[1]["size_bytes"]
    assert rows[1]["score"] == pytest.approx(clf.score(X, y))
    assert all(row["latency_ms"] > 0 for row in rows)
