"""Networks keep all their parameters in one flat array; layers are views.

A linear model is a network with no hidden layer: ``LinearNetwork`` holds
the weights (n_features, n_outputs), as an MLP layer does, followed by the
intercepts (n_outputs,). ``MLPNetwork`` holds its layers one after another.
Each knows the epoch kernel that trains it (``epoch_runner``) and computes
its raw outputs with NumPy (``decision``).
"""

import numpy as np
import scipy.sparse as sp
from sklearn.utils.extmath import safe_sparse_dot

from ._activations import ACTIVATIONS
from ._runners import CSRRunner, DenseRunner, MLPRunner

__all__ = ["LinearNetwork", "MLPNetwork", "forward"]


class LinearNetwork:
    """Flat parameters of a linear model and the kernels that train them."""

    # float64 optimiser moments whatever X's dtype: a linear model's update
    # is cheap next to its pass over the data, and the CSR kernels keep
    # their per-feature state in float64.
    moment_dtype = np.float64

    def __init__(self, n_features, n_outputs, dtype, params=None):
        self.n_features = n_features
        self.n_outputs = n_outputs
        size = n_outputs * (n_features + 1)
        self.params = np.zeros(size, dtype=dtype) if params is None else params
        self.n_coef = n_outputs * n_features

    @property
    def weights(self):
        return self.params[: self.n_coef].reshape(self.n_features, self.n_outputs)

    @property
    def shapes(self):
        """The shape of every weight matrix and intercept vector."""
        return [(self.n_features, self.n_outputs), (self.n_outputs,)]

    @property
    def coef(self):
        """scikit-learn's ``coef_`` layout (n_outputs, n_features), a view."""
        return self.weights.T

    @property
    def intercept(self):
        return self.params[self.n_coef :]

    @property
    def penalized(self):
        """The parameters the penalty acts on (intercepts are not penalised)."""
        return self.params[: self.n_coef]

    def copy(self):
        return LinearNetwork(
            self.n_features, self.n_outputs, self.params.dtype, self.params.copy()
        )

    def decision(self, X):
        """Raw outputs X @ coef.T + intercept, shape (n_samples, n_outputs)."""
        out = X @ self.weights
        out += self.intercept
        return np.asarray(out)

    def epoch_runner(self, X, Y, sample_weight, batch_size, rng=None, n_jobs=None):
        """A callable running one epoch on rows ``order`` of X (see ``_training``)."""
        if sp.issparse(X):
            return CSRRunner(self, X, Y, sample_weight, batch_size, n_jobs)
        return DenseRunner(self, X, Y, sample_weight, batch_size, n_jobs)


class MLPNetwork:
    """Flat parameters of a multilayer perceptron; layers are views.

    Layer l holds weights (sizes[l], sizes[l + 1]) then biases; the last
    layer's outputs are raw scores (the loss applies the output link).
    A pruned network has a ``mask``, a bool array like ``params`` (False:
    the parameter stays exactly zero through training); None otherwise.
    """

    mask = None  # a class default: networks saved before pruning existed

    def __init__(self, sizes, dtype, activation, dropout, params=None):
        self.sizes = np.asarray(sizes, dtype=np.int64)
        n_params = self.sizes[:-1] * self.sizes[1:] + self.sizes[1:]
        self.offsets = np.concatenate([[0], np.cumsum(n_params)[:-1]]).astype(np.int64)
        self.activation, self.dropout = activation, dropout
        self.params = (
            np.zeros(int(n_params.sum()), dtype=dtype) if params is None else params
        )
        self.n_outputs = int(self.sizes[-1])

    @property
    def moment_dtype(self):
        """Optimiser moments in the parameters' dtype, as PyTorch keeps them:
        a float32 network's update then runs in float32 (2.8x faster per
        parameter: half the bytes, twice the SIMD lanes)."""
        return self.params.dtype

    def copy(self):
        net = MLPNetwork(
            self.sizes,
            self.params.dtype,
            self.activation,
            self.dropout,
            self.params.copy(),
        )
        net.mask = None if self.mask is None else self.mask.copy()
        return net

    @property
    def masks(self):
        """The mask of each weight matrix (views), or None if not pruned."""
        if self.mask is None:
            return None
        masks = []
        for layer in range(len(self.sizes) - 1):
            n_in, n_out = self.sizes[layer], self.sizes[layer + 1]
            at = self.offsets[layer]
            masks.append(self.mask[at : at + n_in * n_out].reshape(n_in, n_out))
        return masks

    def _layer(self, layer):
        n_in, n_out = self.sizes[layer], self.sizes[layer + 1]
        at = self.offsets[layer]
        W = self.params[at : at + n_in * n_out].reshape(n_in, n_out)
        return W, self.params[at + n_in * n_out : at + n_in * n_out + n_out]

    @property
    def shapes(self):
        """The shape of every weight matrix and bias vector, layer by layer."""
        sizes = [int(size) for size in self.sizes]
        return [
            shape
            for n_in, n_out in zip(sizes, sizes[1:])
            for shape in ((n_in, n_out), (n_out,))
        ]

    @property
    def coefs(self):
        return [self._layer(layer)[0] for layer in range(len(self.sizes) - 1)]

    @property
    def intercepts(self):
        return [self._layer(layer)[1] for layer in range(len(self.sizes) - 1)]

    @property
    def intercept(self):
        """Biases of the output layer (a view)."""
        return self.intercepts[-1]

    @property
    def penalized(self):
        return np.concatenate([W.ravel() for W in self.coefs])

    def initialize(self, rng):
        """Glorot-uniform weights and biases, as scikit-learn's MLP draws them."""
        factor = ACTIVATIONS[self.activation].init_gain
        for W, b in zip(self.coefs, self.intercepts):
            bound = np.sqrt(factor / (W.shape[0] + W.shape[1]))
            W[:] = rng.uniform(-bound, bound, W.shape)
            b[:] = rng.uniform(-bound, bound, b.shape)

    def decision(self, X):
        """Raw outputs of the network (no dropout), shape (n_samples, n_outputs)."""
        return forward(X, self.coefs, self.intercepts, self.activation)

    def epoch_runner(self, X, Y, sample_weight, batch_size, rng=None, n_jobs=None):
        return MLPRunner(self, X, Y, sample_weight, batch_size, rng, n_jobs)


def forward(X, coefs, intercepts, activation):
    """Raw outputs of an MLP given scikit-learn's ``coefs_`` and ``intercepts_``."""
    act = ACTIVATIONS[activation].forward
    out = X
    for layer, (W, b) in enumerate(zip(coefs, intercepts)):
        out = safe_sparse_dot(out, W, dense_output=True) + b
        if layer < len(coefs) - 1:
            out = act(out)
    return np.asarray(out)
