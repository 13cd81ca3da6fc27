"""Atomic counters for kernels that share work between threads.

engine.py runs one kernel call per thread on the same arguments; the
threads claim row chunks from a shared int64 array (`fetch_add`), count
the chunks done, and wait for a count (`wait_for`) where a phase needs the
sums of the one before.  Threads that never arrive, or arrive late, leave
their chunks to the others: which thread ran a chunk never shows in a
result, since each chunk writes its own slot and slots are added in order.

Waiting spins (a woken thread costs 30-80 us on a virtual machine, more
than a phase) and yields the CPU after a while, so that waiting threads
never keep a descheduled one off it.  A helper thread that has done its
part waits for the next call the same way (`wait_post`), for a while
(engine.HELP_NS), so that calls in a row find it awake.
"""
import platform

from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic

from ._jit import jit

# Spins before each wait starts yielding the CPU (sched_yield).
SPINS = 2000


def _slot(context, builder, aryty, ary, idx):
    a = context.make_array(aryty)(context, builder, ary)
    return cgutils.get_item_pointer(context, builder, aryty, a, [idx])


def _int64_array(arr):
    return isinstance(arr, types.Array) and arr.dtype == types.int64 and arr.ndim == 1


@intrinsic
def fetch_add(typingctx, arr, idx, val):
    """arr[idx] += val, atomically (sequentially consistent); the old value."""
    if not _int64_array(arr):
        return None
    sig = types.int64(arr, types.intp, types.int64)

    def codegen(context, builder, signature, args):
        ptr = _slot(context, builder, signature.args[0], args[0], args[1])
        return builder.atomic_rmw("add", ptr, args[2], "seq_cst")
    return sig, codegen


@intrinsic
def load(typingctx, arr, idx):
    """arr[idx], read atomically (acquire: what was written before the
    matching release is seen)."""
    if not _int64_array(arr):
        return None
    sig = types.int64(arr, types.intp)

    def codegen(context, builder, signature, args):
        ptr = _slot(context, builder, signature.args[0], args[0], args[1])
        return builder.load_atomic(ptr, "acquire", 8)
    return sig, codegen


@intrinsic
def _yield_cpu(typingctx):
    """sched_yield(): linked by name, so a cached kernel finds it in any process."""
    sig = types.void()

    def codegen(context, builder, signature, args):
        fnty = ir.FunctionType(ir.IntType(32), [])
        builder.call(cgutils.get_or_insert_function(builder.module, fnty, "sched_yield"), [])
        return context.get_dummy_value()
    return sig, codegen


_X86 = platform.machine().lower() in ("x86_64", "amd64", "i386", "i686")


@intrinsic
def pause(typingctx):
    """The CPU's spin-wait hint (x86 pause, ARM yield): a spinning thread
    leaves the core's resources to others and saves power."""
    sig = types.void()

    def codegen(context, builder, signature, args):
        if _X86:
            fn = cgutils.get_or_insert_function(builder.module, ir.FunctionType(ir.VoidType(), []),
                                                "llvm.x86.sse2.pause")
            builder.call(fn, [])
        elif platform.machine().lower() in ("aarch64", "arm64"):
            builder.asm(ir.FunctionType(ir.VoidType(), []), "yield", "", [], True)
        return context.get_dummy_value()
    return sig, codegen


@intrinsic
def now_ns(typingctx, clock):
    """clock_gettime(clock) in nanoseconds (clock: time.CLOCK_MONOTONIC)."""
    if not isinstance(clock, types.Integer):
        return None
    sig = types.int64(clock)

    def codegen(context, builder, signature, args):
        i64 = ir.IntType(64)
        ts = cgutils.alloca_once(builder, ir.ArrayType(i64, 2))
        fnty = ir.FunctionType(ir.IntType(32), [ir.IntType(32), ts.type])
        fn = cgutils.get_or_insert_function(builder.module, fnty, "clock_gettime")
        builder.call(fn, [builder.trunc(args[0], ir.IntType(32)), ts])
        sec = builder.load(cgutils.gep_inbounds(builder, ts, 0, 0))
        nsec = builder.load(cgutils.gep_inbounds(builder, ts, 0, 1))
        return builder.add(builder.mul(sec, i64(1_000_000_000)), nsec)
    return sig, codegen


@jit()
def wait_post(box, idx, seen, budget_ns, clock):
    """Until box[idx] != seen (a new call is posted: True) or budget_ns
    have passed (False)."""
    end = now_ns(clock) + budget_ns
    spins = 0
    while load(box, idx) == seen:
        spins += 1
        if spins > SPINS:
            _yield_cpu()
        else:
            pause()
        if spins % 64 == 0 and now_ns(clock) > end:
            return False
    return True


@jit()
def wait_for(arr, idx, value):
    """Until arr[idx] >= value."""
    spins = 0
    while load(arr, idx) < value:
        spins += 1
        if spins > SPINS:
            _yield_cpu()
        else:
            pause()
