"""Pointers and prefetch hints: memory access the compiler cannot infer.

Rows visited in shuffled order defeat the hardware prefetcher; asking for
the rows a few steps ahead hides most of the memory latency.
"""

from llvmlite import ir
from numba.core import cgutils, types
from numba.extending import intrinsic

from .._jit import jit

PREFETCH_ROWS = 24
CACHE_LINE_FLOATS = 8
PREFETCH_SPARSE_ROWS = 8


def item_pointer(context, builder, signature, args):
    """In an intrinsic's codegen: the pointer to ``args[0][args[1]]`` (1-D array)."""
    array_type = signature.args[0]
    view = context.make_array(array_type)(context, builder, args[0])
    return cgutils.get_item_pointer(context, builder, array_type, view, [args[1]])


@intrinsic
def prefetch(typingctx, array, index):
    """Hint the CPU to load ``array[index]`` (1-D array) into cache."""

    def codegen(context, builder, signature, args):
        pointer = item_pointer(context, builder, signature, args)
        byte_pointer = ir.IntType(8).as_pointer()
        i32 = ir.IntType(32)
        function_type = ir.FunctionType(ir.VoidType(), [byte_pointer, i32, i32, i32])
        function = cgutils.get_or_insert_function(
            builder.module, function_type, "llvm.prefetch.p0"
        )
        # read access, high temporal locality, data cache
        builder.call(
            function, [builder.bitcast(pointer, byte_pointer), i32(0), i32(3), i32(1)]
        )
        return context.get_dummy_value()

    return types.void(array, types.intp), codegen


@jit(inline="always")
def prefetch_row(X, i):
    """Prefetch row i of a C-contiguous 2-D array, one cache line at a time."""
    row = X[i]
    for j in range(0, row.shape[0], CACHE_LINE_FLOATS):
        prefetch(row, j)


@jit(inline="always")
def prefetch_sample(X, Y, sw, i):
    """Prefetch all that training reads of sample i: its row, targets and weight.

    In shuffled order the target and the weight are one random cache miss
    each, as costly as the row's; prefetching them too was measured to cut
    a one-output dense epoch by ~20%.
    """
    prefetch_row(X, i)
    prefetch(Y[i], 0)
    prefetch(sw, i)
