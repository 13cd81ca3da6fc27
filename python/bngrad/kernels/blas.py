"""C = alpha op(A) op(B) + beta C for the kernels: BLAS dgemm on row-major
arrays with explicit leading dimensions; dsyrk, op(A) op(A)' in half
dgemm's work (the Bayesian fit's J'J); and dgemv, op(A) x, a product with
one column, which dgemm packs both operands for (a tile's H g2 and H'E for
one output: 4.6 and 5.4 us by dgemm, 1.1 by dgemv, at 128 x 64).

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
import llvmlite.binding
from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.extending import get_cython_function_address, intrinsic

_CHAR = ir.IntType(8)
_VOIDP = ir.IntType(8).as_pointer()
_INT = ir.IntType(32)                  # cython_blas's int (LP64)


# numba has no dsyrk of its own (numba_xxgemm is its only BLAS 3), so
# SciPy's, the library numba_xxgemm calls, under a name of ours; dgemv
# the same way, one mechanism for both (numba's numba_xxgemv would do too).  Added to
# LLVM's symbols at import, before any kernel is compiled or loaded: a cached
# kernel refers to it by name, resolved when numba links it.  (numba's cache
# of a kernel checks only its own source file: renaming a symbol needs
# the cached kernels that call it cleared.)
_SYRK, _GEMV = "bngrad_dsyrk", "bngrad_dgemv"
for _name, _f in ((_SYRK, "dsyrk"), (_GEMV, "dgemv")):
    llvmlite.binding.add_symbol(_name, get_cython_function_address("scipy.linalg.cython_blas", _f))


def _data(context, builder, ty, value):
    """The data pointer of an array argument of type ty, as void*."""
    return builder.bitcast(context.make_array(ty)(context, builder, value).data, _VOIDP)


def _fortran(context, builder, signature):
    """(data, ref, int32) for a Fortran BLAS call's arguments, every one by
    reference: data(i, a) the pointer of array argument i, ref(v) a value's
    address, int32(v) an intp's as cython_blas's int."""
    def data(i, value):
        return _data(context, builder, signature.args[i], value)

    def ref(value):
        return builder.bitcast(cgutils.alloca_once_value(builder, value), _VOIDP)

    def int32(value):
        return ref(builder.trunc(value, _INT))
    return data, ref, int32


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
            return _data(context, builder, signature.args[i], value)

        def flag(t):
            return builder.select(t, ir.Constant(_CHAR, ord("t")), ir.Constant(_CHAR, ord("n")))
        pa = cgutils.alloca_once_value(builder, alpha)
        pb = cgutils.alloca_once_value(builder, beta)
        builder.call(fn, (ir.Constant(_CHAR, ord("d")), flag(tb), flag(ta), n, m, k,
                          builder.bitcast(pa, _VOIDP), data(8, b), ldb, data(6, a), lda,
                          builder.bitcast(pb, _VOIDP), data(11, c), ldc))
        return context.get_dummy_value()
    return sig, codegen


@intrinsic
def syrk(typingctx, ta, n, k, alpha, A, lda, beta, C, ldc):
    """The lower triangle of C[:n, :n] = alpha op(A) op(A)' + beta C for
    float64 arrays in row-major order (leading dimensions lda, ldc);
    op(A) is n x k, A' (A k x n) where ta is true.  The strict upper
    triangle is left as it was.  n, k < 2^31 (cython_blas's int)."""
    for a in (A, C):
        if not (isinstance(a, types.Array) and a.dtype == types.float64):
            return None
    sig = types.void(types.boolean, types.intp, types.intp, types.float64, A, types.intp,
                     types.float64, C, types.intp)

    def codegen(context, builder, signature, args):
        ta, n, k, alpha, a, lda, beta, c, ldc = args
        fnty = ir.FunctionType(ir.VoidType(), [_VOIDP] * 10)
        fn = cgutils.get_or_insert_function(builder.module, fnty, _SYRK)

        data, ref, int32 = _fortran(context, builder, signature)
        # row-major C is column-major C' = C: its row-major lower triangle is
        # the column-major upper; row-major op(A) is column-major op(A)'
        trans = builder.select(ta, ir.Constant(_CHAR, ord("N")), ir.Constant(_CHAR, ord("T")))
        builder.call(fn, (ref(ir.Constant(_CHAR, ord("U"))), ref(trans), int32(n), int32(k),
                          ref(alpha), data(4, a), int32(lda), ref(beta), data(7, c),
                          int32(ldc)))
        return context.get_dummy_value()
    return sig, codegen


@intrinsic
def gemv(typingctx, ta, m, n, alpha, A, lda, x, beta, y):
    """y[:m'] = alpha op(A) x + beta y for a row-major float64 A (m x n,
    leading dimension lda) and C-contiguous x and y; op(A) is A' where ta
    is true (y then has n values and x m).  m, n < 2^31 (cython_blas's
    int).  With beta = 0 BLAS need not read y, but some OpenBLAS builds
    have scaled it by 0 (NaN stays NaN): zero it first."""
    for a in (A, x, y):
        if not (isinstance(a, types.Array) and a.dtype == types.float64):
            return None
    if x.layout != "C" or y.layout != "C":    # (incx = incy = 1)
        return None
    sig = types.void(types.boolean, types.intp, types.intp, types.float64, A, types.intp, x,
                     types.float64, y)

    def codegen(context, builder, signature, args):
        ta, m, n, alpha, a, lda, x, beta, y = args
        fnty = ir.FunctionType(ir.VoidType(), [_VOIDP] * 11)
        fn = cgutils.get_or_insert_function(builder.module, fnty, _GEMV)

        data, ref, int32 = _fortran(context, builder, signature)
        one = ref(ir.Constant(_INT, 1))
        # row-major A (m x n) is column-major A' (n x m): op(A) = A is its "T"
        trans = builder.select(ta, ir.Constant(_CHAR, ord("N")), ir.Constant(_CHAR, ord("T")))
        builder.call(fn, (ref(trans), int32(n), int32(m), ref(alpha), data(4, a), int32(lda),
                          data(6, x), one, ref(beta), data(8, y), one))
        return context.get_dummy_value()
    return sig, codegen
