"""C = alpha op(A) op(B) + beta C for the kernels: BLAS dgemm on row-major
arrays with explicit leading dimensions.

np.dot in numba makes a new array or writes a whole one, needs both
operands C-ordered (else another compiled variant), and expands into a
large body at every call site.  The kernels want transposed operands (X'S
without packing X' in every tile), column blocks of a packed tile, and
products added into a chunk's sums; and every line compiled is paid on a
cold first call.  So they call numba's own BLAS binding, numba_xxgemm (the
function np.dot itself calls: SciPy's BLAS, loaded on first use), directly.

Row-major C (m x n) = op(A) op(B) is column-major C' = op(B)' op(A)', so
the operands swap and the transposition flags stay.
"""
from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic

_CHAR = ir.IntType(8)
_VOIDP = ir.IntType(8).as_pointer()


@intrinsic
def gemm(typingctx, ta, tb, m, n, k, alpha, A, lda, B, ldb, beta, C, ldc):
    """C[:m, :n] = alpha op(A) op(B) + beta C for float64 arrays in row-major
    order with leading dimensions lda, ldb, ldc (elements per row); op(X) is
    X' where tX is true.  A, B, C are the arrays whose first element starts
    each matrix (a slot C[c] of a 3-D array, a packed tile's first columns)."""
    for a in (A, B, C):
        if not (isinstance(a, types.Array) and a.dtype == types.float64):
            return None
    sig = types.void(types.boolean, types.boolean, types.intp, types.intp, types.intp,
                     types.float64, A, types.intp, B, types.intp, types.float64, C, types.intp)

    def codegen(context, builder, signature, args):
        from numba.np.linalg import ensure_blas
        ensure_blas()
        ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc = args
        intp = context.get_value_type(types.intp)
        fnty = ir.FunctionType(ir.IntType(32), [
            _CHAR, _CHAR, _CHAR, intp, intp, intp, _VOIDP, _VOIDP, intp, _VOIDP, intp, _VOIDP,
            _VOIDP, intp])
        fn = cgutils.get_or_insert_function(builder.module, fnty, "numba_xxgemm")

        def data(i, value):
            return builder.bitcast(context.make_array(signature.args[i])(
                context, builder, value).data, _VOIDP)

        def flag(t):
            return builder.select(t, ir.Constant(_CHAR, ord("t")), ir.Constant(_CHAR, ord("n")))
        pa = cgutils.alloca_once_value(builder, alpha)
        pb = cgutils.alloca_once_value(builder, beta)
        builder.call(fn, (ir.Constant(_CHAR, ord("d")), flag(tb), flag(ta), n, m, k,
                          builder.bitcast(pa, _VOIDP), data(8, b), ldb, data(6, a), lda,
                          builder.bitcast(pb, _VOIDP), data(11, c), ldc))
        return context.get_dummy_value()
    return sig, codegen
