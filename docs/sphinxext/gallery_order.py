"""The order of the examples in the gallery: from first steps to deployment."""

ORDER = [
    "quickstart.py",
    "plot_text_classification.py",
    "plot_out_of_core.py",
    "plot_l1_feature_selection.py",
    "plot_mlp_dropout.py",
    "plot_onnx_export.py",
    "plot_dask_data_parallel.py",
    "plot_dask_incremental.py",
]


class ExampleOrder:
    """Sort key for sphinx-gallery's ``within_subsection_order``.

    Listed files come in the order above; any other example comes after them,
    by file name.
    """

    def __init__(self, src_dir):
        self.src_dir = src_dir

    def __call__(self, filename):
        if filename in ORDER:
            return (ORDER.index(filename), filename)
        return (len(ORDER), filename)

    def __repr__(self):
        return "<ExampleOrder>"
