"""A barrier for kernels that run on several Python threads at once.

The kernels run one compiled epoch per thread (Python threads, each in
nogil code), so that they use the cores without starting Numba's threading
layer: a started GNU OpenMP layer was measured to slow PyTorch in the same
process 2-3x. The threads meet twice per mini-batch; a meeting costs about
0.1 microsecond when both run, and a waiting thread yields its core after a
short spin so that a descheduled partner can run.
"""

import platform

from llvmlite import ir
from numba.core import cgutils, types
from numba.extending import intrinsic

from .._jit import jit
from .memory import item_pointer

SPINS_BEFORE_YIELD = 2000
_PAUSE = platform.machine().lower() in ("x86_64", "amd64", "i686", "x86")


@intrinsic
def atomic_add(typingctx, array, index, value):
    """array[index] += value atomically (int64); returns the previous value."""

    def codegen(context, builder, signature, args):
        pointer = item_pointer(context, builder, signature, args)
        return builder.atomic_rmw("add", pointer, args[2], "seq_cst")

    if isinstance(array, types.Array) and array.dtype == types.int64:
        return types.int64(array, types.intp, types.int64), codegen
    return None


@intrinsic
def atomic_load(typingctx, array, index):
    """array[index] (int64), read atomically with acquire ordering."""

    def codegen(context, builder, signature, args):
        pointer = item_pointer(context, builder, signature, args)
        return builder.load_atomic(pointer, "acquire", 8)

    if isinstance(array, types.Array) and array.dtype == types.int64:
        return types.int64(array, types.intp), codegen
    return None


@intrinsic
def spin_pause(typingctx):
    """The x86 ``pause`` hint in a spin loop (nothing elsewhere): it keeps a
    spinning thread from starving a sibling hyperthread and the loop's exit
    from flushing the pipeline."""

    def codegen(context, builder, signature, args):
        if _PAUSE:
            function_type = ir.FunctionType(ir.VoidType(), [])
            function = cgutils.get_or_insert_function(
                builder.module, function_type, "llvm.x86.sse2.pause"
            )
            builder.call(function, [])
        return context.get_dummy_value()

    return types.void(), codegen


@intrinsic
def yield_cpu(typingctx):
    """sched_yield(2): let another thread have this core."""

    def codegen(context, builder, signature, args):
        function_type = ir.FunctionType(ir.IntType(32), [])
        function = cgutils.get_or_insert_function(
            builder.module, function_type, "sched_yield"
        )
        builder.call(function, [])
        return context.get_dummy_value()

    return types.void(), codegen


@jit
def barrier(counter, n_threads, meeting):
    """Wait until all ``n_threads`` threads reach meeting number ``meeting``.

    counter : (>= 1,) int64, zero before the threads' first meeting; each
    thread counts its meetings 1, 2, 3... and passes the count.
    """
    if n_threads == 1:
        return
    atomic_add(counter, 0, 1)
    target = meeting * n_threads
    spins = 0
    while atomic_load(counter, 0) < target:
        spins += 1
        if spins > SPINS_BEFORE_YIELD:
            yield_cpu()
        else:
            spin_pause()
