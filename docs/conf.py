"""Sphinx configuration of the skbigmodel documentation.

Build with ``make -C docs html`` (warnings are errors, examples executed).
"""

import importlib
import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE / "sphinxext"))

# Kernels compiled while the examples run are cached next to the package as
# usual; the figures are drawn without a display.
os.environ.setdefault("MPLBACKEND", "agg")

import skbigmodel  # noqa: E402

project = "skbigmodel"
author = "the skbigmodel developers"
copyright = "the skbigmodel developers"  # noqa: A001
release = skbigmodel.__version__
version = release

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "sphinx.ext.viewcode",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
]

# MathJax shipped by the sphinx-mathjax-offline package (in the "docs" extra),
# so that the formulas render without a network; without the package, the
# pages load MathJax from its CDN when they are viewed.
try:
    importlib.import_module("sphinx-mathjax-offline")
    extensions.append("sphinx-mathjax-offline")
except ImportError:
    pass

templates_path = ["_templates"]
exclude_patterns = ["_build", "Thumbs.db", ".DS_Store"]
default_role = "literal"
nitpicky = False
# Pages that index.rst lists but that are written with the integrations; one
# that does not exist yet is left out of the toctree (see ``setup``).
OPTIONAL_PAGES = ["scaling_out", "deploy_onnx", "reliability"]

# -- Intersphinx ------------------------------------------------------------
# Links to NumPy, SciPy and scikit-learn need their objects.inv inventories,
# downloaded at build time. The build machines reach no documentation site,
# and a failed download is a warning (an error under -W), so the links are
# opt-in: SKBIGMODEL_DOCS_INTERSPHINX=1 make -C docs html. Without it,
# references such as :class:`~sklearn.pipeline.Pipeline` render as code.
INTERSPHINX = os.environ.get("SKBIGMODEL_DOCS_INTERSPHINX", "") not in ("", "0")
if INTERSPHINX:
    extensions.append("sphinx.ext.intersphinx")
    intersphinx_mapping = {
        "python": ("https://docs.python.org/3", None),
        "numpy": ("https://numpy.org/doc/stable/", None),
        "scipy": ("https://docs.scipy.org/doc/scipy/", None),
        "sklearn": ("https://scikit-learn.org/stable/", None),
        "matplotlib": ("https://matplotlib.org/stable/", None),
        "dask_ml": ("https://ml.dask.org/", None),
    }

# The docstrings of the methods our estimators inherit from scikit-learn
# (score, get_metadata_routing, set_*_request) refer to labels and glossary
# terms of scikit-learn's own documentation, which only its inventory knows.
# Without intersphinx they render as plain text instead of failing the build
# (see ``setup``); any other unresolved label still fails it.
SKLEARN_LABELS = {"metadata_routing", "r2_score", "accuracy_score", "meta-estimator"}

# -- autodoc, autosummary and numpydoc -------------------------------------
autosummary_generate = True
autodoc_typehints = "none"
autodoc_member_order = "groupwise"
numpydoc_show_class_members = False  # the class template lists the methods
numpydoc_class_members_toctree = False
# Parameter types link to NumPy, Python... only through intersphinx (numpydoc's
# default aliases are intersphinx labels, which are undefined offline).
numpydoc_xref_param_type = INTERSPHINX
numpydoc_xref_aliases = {
    "estimator": "sklearn.base.BaseEstimator",
    "ndarray": "numpy.ndarray",
    "sparse matrix": "scipy.sparse.csr_matrix",
    "RandomState": "numpy.random.RandomState",
}
numpydoc_xref_ignore = {
    "of",
    "shape",
    "or",
    "default",
    "optional",
    "n_samples",
    "n_features",
    "n_outputs",
    "n_classes",
    "n_features_in_",
    "n_in",
    "n_out",
    "in",
    "int",
    "float",
    "bool",
    "str",
    "dict",
    "list",
    "tuple",
    "object",
    "None",
    "instance",
    "array-like",
    "callable",
    "function",
    "type",
    "iterable",
}

# -- sphinx-gallery -----------------------------------------------------------
sphinx_gallery_conf = {
    "examples_dirs": "../examples",
    "gallery_dirs": "auto_examples",
    # Run every example, not only plot_*.py (the quick start is quickstart.py,
    # the README's first command).
    "filename_pattern": r"\.py$",
    "ignore_pattern": r"__init__\.py",
    "within_subsection_order": "gallery_order.ExampleOrder",
    "doc_module": ("skbigmodel",),
    "backreferences_dir": "gen_modules/backreferences",
    "abort_on_example_error": True,
    "remove_config_comments": True,
    "show_memory": False,
    "min_reported_time": 1,
    "download_all_examples": False,
}

# -- HTML -------------------------------------------------------------------
html_theme = "pydata_sphinx_theme"
html_static_path = ["_static"]
html_title = f"skbigmodel {release}"
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
    "secondary_sidebar_items": ["page-toc", "sourcelink"],
}
html_show_sourcelink = True


def setup(app):
    """Draw the benchmark figure and tables from benchmarks/results_*.md."""
    import benchmark_results

    def from_results(app):
        benchmark_results.draw(HERE / "_static" / "benchmarks.png")
        benchmark_results.write_tables(HERE / "_includes")

    app.connect("builder-inited", from_results)

    def drop_missing_pages(app, docname, source):
        if docname != "index":
            return
        for page in OPTIONAL_PAGES:
            if not (HERE / f"{page}.rst").exists():
                source[0] = source[0].replace(f"\n   {page}\n", "\n")

    app.connect("source-read", drop_missing_pages)
    # index.rst must be read again when one of those pages appears.
    app.connect("env-get-outdated", lambda app, env, *changes: ["index"])

    def sklearn_labels_as_text(app, env, node, contnode):
        if not INTERSPHINX and node.get("reftarget") in SKLEARN_LABELS:
            return contnode  # "resolved" to its own text, without a link
        return None  # unresolved: Sphinx warns as usual

    app.connect("missing-reference", sklearn_labels_as_text)
