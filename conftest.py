"""Root conftest: settings that must exist before scipy is imported."""

import os

# scikit-learn's array-API estimator checks run only with this set.
os.environ.setdefault("SCIPY_ARRAY_API", "1")
