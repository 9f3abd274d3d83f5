"""The bundles that the epoch kernels take: a few named groups of arguments.

Module-level namedtuples: Numba types one as the tuple of its fields' types
and caches the kernels that take it. Field types must stay the same from
call to call (Python ``int``, ``float``, ``bool``, arrays of one dtype), or
the kernel compiles once more. Every epoch kernel takes

    kernel(data, [layers,] segment, hyper, state, scratch, team)

so that a new hyperparameter is one field of one bundle, filled in one
place (``skbigmodel._optimizers``, ``_losses``, ``_penalties``).
"""

from collections import namedtuple

from numba.core import types

__all__ = [
    "CSR_INPUT",
    "DENSE_INPUT",
    "Average",
    "ChunkSums",
    "CSRData",
    "CSRScratch",
    "DenseData",
    "DenseScratch",
    "Hyper",
    "Layers",
    "Loss",
    "ONE_OUTPUT",
    "SEVERAL_OUTPUTS",
    "MLPData",
    "MLPScratch",
    "Optimizer",
    "PassiveAggressive",
    "Penalty",
    "Segment",
    "State",
    "Team",
    "kind_of",
    "kinds",
]

# -- kinds: a loss or an optimiser as a type, so kernels compile one branch ---


def kinds(namespace, *names):
    """One marker per name, each an instance of a namedtuple class of its own.

    Numba types each marker differently, so a kernel that gets one compiles
    the branch of that kind only (``kind_of`` in an ``@overload``), and
    caches it: its class is bound in ``namespace`` (a module's globals),
    where the cache's pickles find it. ``marker.code`` is its number.
    """
    markers = []
    for code, name in enumerate(names):
        cls = namedtuple(name, "code", module=namespace["__name__"])
        namespace[name] = cls
        markers.append(cls(code))
    return markers


def kind_of(bundle):
    """In an ``@overload``: the marker class of a bundle's ``kind`` field."""
    if not isinstance(bundle, types.BaseNamedTuple):
        return None
    return bundle.types[bundle.fields.index("kind")].instance_class


# -- what is learned: the loss, the penalty and the optimiser ---------------

Loss = namedtuple("Loss", "kind param outputs", defaults=(None,))
Loss.__doc__ = """A loss kind (``losses.py``) and its parameter: epsilon (Huber,
the insensitive losses), the margin's threshold (hinge: 1, perceptron: 0,
squared hinge: 1) or the quantile; and the model's outputs as a kind,
``ONE_OUTPUT`` or ``SEVERAL_OUTPUTS``, so that a kernel compiles the loss's
path for that count only (None: chosen per call, both compiled)."""
ONE_OUTPUT, SEVERAL_OUTPUTS = kinds(globals(), "OneOutput", "SeveralOutputs")

Penalty = namedtuple("Penalty", "a1 a2")
Penalty.__doc__ = """The penalty a1 * |w|_1 + a2 / 2 * |w|_2^2 on the weights."""

Optimizer = namedtuple(
    "Optimizer",
    "kind lr schedule power_t momentum beta_1 beta_2 eps t0",
    defaults=(1.0,),
)
Optimizer.__doc__ = """An optimiser kind (``optimizers.py``) and its hyperparameters.

lr is the base step, schedule its schedule code (power_t: "invscaling"'s
exponent, t0: "optimal"'s offset, in samples); momentum belongs to SGD (with or without Nesterov: two kinds),
beta_1 and beta_2 to Adam
(beta_2 is rho for RMSprop), eps to Adam and RMSprop."""

PassiveAggressive = namedtuple("PassiveAggressive", "cap offset lr")
PassiveAggressive.__doc__ = """The passive-aggressive step of each row (``passive_aggressive.py``):
tau = min(cap, loss / (|x|^2 + offset)), cap = C and offset = 0 for PA-I,
cap = inf and offset = 1 / (2 C) for PA-II; lr the optimiser's (constant)
step, which the row's gradient factor tau / lr divides out."""

Hyper = namedtuple(
    "Hyper", "loss penalty optimizer weight_scale fit_intercept pa", defaults=(None,)
)
Hyper.__doc__ = """Everything a kernel needs to know of the objective and the step.

weight_scale turns summed sample weights into a mean: the number of
training rows over their total weight. pa a ``PassiveAggressive`` bundle
("pa1", "pa2"), or None: then no passive-aggressive code is compiled."""

# -- what is trained, and on what -------------------------------------------

State = namedtuple("State", "params m v avg", defaults=(None,))
State.__doc__ = """Flat parameters and the optimiser's two moments, updated in place;
avg an ``Average`` (averaged SGD), or None: then no averaging is compiled."""

Average = namedtuple("Average", "params counts start lazy")
Average.__doc__ = """The mean of the parameters after every optimiser step from the
sample ``start`` (a float, 1-based) on, updated in place (``averaging.py``).

params : like ``State.params``. counts : (3,) float64: steps averaged into
params, steps of the current window not yet in it, and the window's sum of
weight scales (the CSR plain-SGD kernel's lazy sums). lazy : (n_coef,)
float64, that kernel's per-feature correction sums, zero between windows."""

DenseData = namedtuple("DenseData", "X Y sw")
DenseData.__doc__ = """C-contiguous X (n_samples, n_features) float32/64, targets Y
(n_samples, n_targets) float64, sample weights sw (n_samples,) float64."""

CSRData = namedtuple("CSRData", "data indices bounds col_cuts Y sw")
CSRData.__doc__ = """CSR X as its data and indices, each row cut at the columns
col_cuts (n_parts + 1,) into bounds (n_rows, n_parts + 1) (see
``csr.csr_parts``); Y and sw as in ``DenseData``."""

MLPData = namedtuple("MLPData", "X data indices indptr layout Y sw")
MLPData.__doc__ = """An MLP's input: dense C-contiguous X (layout ``DENSE_INPUT``),
or CSR arrays data/indices/indptr with X of shape (0, n_features) (layout
``CSR_INPUT``); Y and sw as in ``DenseData``. The layout is a kind: a
kernel compiles the first layer of its input's layout only."""
DENSE_INPUT, CSR_INPUT = kinds(globals(), "DenseInput", "CSRInput")

Layers = namedtuple(
    "Layers", "sizes offsets activation keep seed mask", defaults=(None,)
)
Layers.__doc__ = """An MLP's layout: int64 widths (n_features, hidden..., n_outputs)
and weight offsets, the hidden activation's code, 1 - dropout and the
uint64 seed of this epoch's dropout masks; mask, a pruned network's (n_params,)
bool array (False: the weight stays exactly zero), or None: then no masking
is compiled."""

# -- which rows, and who runs them -------------------------------------------

Segment = namedtuple("Segment", "order batch_size step total first_batch end")
Segment.__doc__ = """A run of consecutive batches of an epoch: the rows ``order``
(int64) in visiting order, cut into batches of ``batch_size``; the
optimiser's step count and the epoch's summed loss so far; the number of
the run's first batch within the epoch and whether the run ends the epoch.
An epoch run as several segments has the bits of one run as one."""

Team = namedtuple("Team", "worker n_workers counter")
Team.__doc__ = """This thread's number among the n_workers threads that run the
kernel at once, and their meeting counter ((1,) int64, zero; see
``sync.barrier``)."""

# -- each kernel family's scratch ---------------------------------------------

DenseScratch = namedtuple("DenseScratch", "partial rows z g losses")
DenseScratch.__doc__ = """Scratch of ``linear_dense.dense_epoch`` (shapes there)."""

CSRScratch = namedtuple(
    "CSRScratch",
    "dots row_grads part_sums alpha_state state fresh fresh_last etas grad_scales "
    "cum_eta",
)
CSRScratch.__doc__ = """Scratch of the CSR kernels (shapes in ``linear_csr_sgd`` and
``linear_csr``); each uses its own fields."""

MLPScratch = namedtuple("MLPScratch", "grads A Z D keys losses")
MLPScratch.__doc__ = """Scratch of ``mlp.mlp_epoch``, one row per half-batch."""

ChunkSums = namedtuple("ChunkSums", "grads losses")
ChunkSums.__doc__ = """The full-batch kernels' output (``full_batch.py``): each fixed
chunk's summed weighted gradient, grads (n_chunks, n_params), and loss,
losses (n_chunks,), both float64."""
