"""Ctrl-C during fit ends training cleanly, keeps the last parameters and warns."""

import signal
import subprocess
import sys
import textwrap
import time

import pytest

FIT_UNTIL_INTERRUPTED = textwrap.dedent(
    """
    import sys, warnings
    import numpy as np
    from skbigmodel import {name}
    rng = np.random.default_rng(0)
    X = rng.standard_normal((20000, 50))
    y = (X[:, 0] > 0).astype(int)
    est = {name}(max_iter=100000, tol=0.0, n_iter_no_change=10**9, random_state=0)
    est.set_params(max_iter=2).fit(X[:500], y[:500])  # compile first
    est.set_params(max_iter=100000)
    print("fitting", flush=True)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        est.fit(X, y)
    params = est.coefs_[0] if hasattr(est, "coefs_") else est.coef_
    print(est.n_iter_, bool(np.isfinite(params).all()), est.score(X, y))
    print(any("interrupted" in str(w.message) for w in caught))
    """
)


@pytest.mark.parametrize("name", ["LogisticClassifier", "MLPClassifier"])
def test_ctrl_c_keeps_the_last_good_model(name):
    process = subprocess.Popen(
        [sys.executable, "-c", FIT_UNTIL_INTERRUPTED.format(name=name)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout.readline().strip() == "fitting"
        time.sleep(1.5)
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=120)
    finally:
        process.kill()
    assert process.returncode == 0, err
    n_iter, finite, score, warned = out.split()
    assert 0 < int(n_iter) < 100000 and finite == "True" and warned == "True"
    assert float(score) > 0.9
