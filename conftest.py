"""Root conftest: settings that must exist before scipy and numba are imported."""

import atexit
import os
import shutil
import tempfile

# scikit-learn's array-API estimator checks run only with this set.
os.environ.setdefault("SCIPY_ARRAY_API", "1")

# The suite compiles the kernels into a cache of its own, so that it checks
# cold compilation and never loads machine code a previous version of the
# kernels left in the user's cache. A developer who sets NUMBA_CACHE_DIR
# keeps that cache between runs (fast iteration). Numba reads the variable
# when it is imported; subprocesses started by the tests inherit it.
if not os.environ.get("NUMBA_CACHE_DIR"):
    _NUMBA_CACHE_DIR = tempfile.mkdtemp(prefix="skbigmodel-numba-cache-")
    os.environ["NUMBA_CACHE_DIR"] = _NUMBA_CACHE_DIR
    atexit.register(shutil.rmtree, _NUMBA_CACHE_DIR, ignore_errors=True)
