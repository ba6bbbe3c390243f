"""Expression trees, their symbolic derivatives, and a bytecode stack machine that runs them.

Arbitrary rate laws (from SBML files, or written by hand) reach the kernels as bytecode:
programs in reverse Polish notation stored in plain arrays, run by :func:`run_program`. Every
model uses the same compiled interpreter, so importing a model compiles nothing, and no
string is ever evaluated. Derivatives (for the analytic Jacobian and the parameter
sensitivities) are derived symbolically from the tree and compiled to bytecode too.

Trees
-----
A tree is a nested tuple whose first item names the node:

``("num", value)``
    a constant.
``("sym", name)``
    a symbol, resolved when the tree is compiled.
``("y", i)`` / ``("p", k)``
    a resolved symbol: entry ``i`` of the state, entry ``k`` of the parameter vector.
``(op, a)`` / ``(op, a, b)`` / ``("select", condition, a, b)``
    an operation from :data:`UNARY` or :data:`BINARY`, or a conditional.
``(distribution, a, ...)``
    a random draw from a distribution of :data:`RANDOM` (the functions of SBML's ``distrib``
    package), with its parameters and optionally truncation bounds; evaluated with numba's
    per-thread generator, so only where a value is drawn once (an event assignment).

Booleans are numbers: 1.0 is true, 0.0 is false, and any non-zero value is true.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping

import numpy as np
from numba import njit

from ..errors import ModelError

__all__ = [
    "BINARY",
    "RANDOM",
    "UNARY",
    "Programs",
    "compile_programs",
    "derivative",
    "draw_arities",
    "evaluate",
    "is_random",
    "resolve",
    "run_all",
    "run_program",
    "run_program_with_draws",
    "run_programs",
    "seed_draws",
    "simplify",
    "substitute",
    "symbols",
]

# Opcodes. Each instruction has an opcode, an integer argument and a float argument.
PUSH_Y = 0  # push y[arg]
PUSH_P = 1  # push p[arg]
PUSH_C = 2  # push val
ADD, SUB, MUL, DIV, POW = 3, 4, 5, 6, 7
LT, LE, GT, GE, EQ, NE = 8, 9, 10, 11, 12, 13
AND, OR, XOR = 14, 15, 16
MIN, MAX, REM, QUOTIENT, ATAN2 = 17, 18, 19, 20, 21
NEG, EXP, LN, LOG10, SQRT, ABS, FLOOR, CEIL = 30, 31, 32, 33, 34, 35, 36, 37
SIN, COS, TAN, ASIN, ACOS, ATAN = 38, 39, 40, 41, 42, 43
SINH, COSH, TANH, ASINH, ACOSH, ATANH = 44, 45, 46, 47, 48, 49
NOT, FACTORIAL, SIGN = 50, 51, 52
SELECT = 60  # pops else, then, condition
DRAW = 70  # pops val (as an integer) arguments, pushes a draw from distribution arg

BINARY = {
    "+": ADD,
    "-": SUB,
    "*": MUL,
    "/": DIV,
    "^": POW,
    "lt": LT,
    "le": LE,
    "gt": GT,
    "ge": GE,
    "eq": EQ,
    "ne": NE,
    "and": AND,
    "or": OR,
    "xor": XOR,
    "min": MIN,
    "max": MAX,
    "rem": REM,
    "quotient": QUOTIENT,
    "atan2": ATAN2,
}
UNARY = {
    "neg": NEG,
    "exp": EXP,
    "ln": LN,
    "log10": LOG10,
    "sqrt": SQRT,
    "abs": ABS,
    "floor": FLOOR,
    "ceil": CEIL,
    "sin": SIN,
    "cos": COS,
    "tan": TAN,
    "asin": ASIN,
    "acos": ACOS,
    "atan": ATAN,
    "sinh": SINH,
    "cosh": COSH,
    "tanh": TANH,
    "asinh": ASINH,
    "acosh": ACOSH,
    "atanh": ATANH,
    "not": NOT,
    "factorial": FACTORIAL,
    "sign": SIGN,
}
#: Random draws: distribution -> (its code, number of parameters). Each also takes two more
#: arguments, truncation bounds (in either order); ``laplace`` takes its scale alone too.
RANDOM = {
    "normal": (0, 2),
    "uniform": (1, 2),
    "bernoulli": (2, 1),
    "binomial": (3, 2),
    "cauchy": (4, 2),
    "chisquare": (5, 1),
    "exponential": (6, 1),
    "gamma": (7, 2),
    "laplace": (8, 2),
    "lognormal": (9, 2),
    "poisson": (10, 1),
    "rayleigh": (11, 1),
}
#: Draws outside the truncation bounds are rejected; after this many the draw is NaN.
MAX_REJECTIONS = 1_000_000
_BOOLEAN_OPS = {"lt", "le", "gt", "ge", "eq", "ne", "and", "or", "xor", "not"}
# piecewise constant: derivative zero almost everywhere (factorial: MathML defines it on the
# non-negative integers only, though it is evaluated as gamma(a + 1))
_STEP_OPS = {"floor", "ceil", "factorial", "sign", "quotient"}


# --- the stack machine ----------------------------------------------------------------------
# Not inlined into the interpreter, though a call in its loop stops numba pruning the arrays'
# reference counts (110 ns a program run instead of 1.4 ns): inlined, every kernel that runs
# bytecode grows so much that compiling them all takes three times as long (measured 430 s).
@njit(cache=True, error_model="numpy", nogil=True)
def _unary(o, a):
    if o == NEG:
        return -a
    if o == EXP:
        return math.exp(a)  # inf past overflow (no exception in compiled code)
    if o == LN:
        return math.log(a) if a > 0.0 else (-math.inf if a == 0.0 else math.nan)
    if o == LOG10:
        return math.log10(a) if a > 0.0 else (-math.inf if a == 0.0 else math.nan)
    if o == SQRT:
        return math.sqrt(a) if a >= 0.0 else math.nan
    if o == ABS:
        return abs(a)
    if o == FLOOR:
        return np.floor(a)  # a float: math.floor gives an int64 that wraps past 2**63
    if o == CEIL:
        return np.ceil(a)
    if o == NOT:
        return 1.0 if a == 0.0 else 0.0
    if o == SIGN:
        return 1.0 if a > 0.0 else (-1.0 if a < 0.0 else 0.0)
    if o == FACTORIAL:
        return math.gamma(a + 1.0) if a >= 0.0 else math.nan
    if o == SIN:
        return math.sin(a)
    if o == COS:
        return math.cos(a)
    if o == TAN:
        return math.tan(a)
    if o == ASIN:
        return math.asin(a) if -1.0 <= a <= 1.0 else math.nan
    if o == ACOS:
        return math.acos(a) if -1.0 <= a <= 1.0 else math.nan
    if o == ATAN:
        return math.atan(a)
    if o == SINH:
        return math.sinh(a)
    if o == COSH:
        return math.cosh(a)
    if o == TANH:
        return math.tanh(a)
    if o == ASINH:
        return math.asinh(a)
    if o == ACOSH:
        return math.acosh(a) if a >= 1.0 else math.nan
    if o == ATANH:
        if a <= -1.0 or a >= 1.0:
            return math.copysign(math.inf, a) if abs(a) == 1.0 else math.nan
        return math.atanh(a)
    return math.nan


@njit(cache=True, error_model="numpy", nogil=True)
def _binary(o, a, b):
    if o == POW:
        if a == 0.0 and b < 0.0:
            return math.inf
        if a < 0.0 and b != math.floor(b):
            return math.nan
        return a**b
    if o == LT:
        return 1.0 if a < b else 0.0
    if o == LE:
        return 1.0 if a <= b else 0.0
    if o == GT:
        return 1.0 if a > b else 0.0
    if o == GE:
        return 1.0 if a >= b else 0.0
    if o == EQ:
        return 1.0 if a == b else 0.0
    if o == NE:
        return 1.0 if a != b else 0.0
    if o == AND:
        return 1.0 if (a != 0.0 and b != 0.0) else 0.0
    if o == OR:
        return 1.0 if (a != 0.0 or b != 0.0) else 0.0
    if o == XOR:
        return 1.0 if ((a != 0.0) != (b != 0.0)) else 0.0
    if o == MIN:
        return a if a <= b else b
    if o == MAX:
        return a if a >= b else b
    if o == REM:
        return np.fmod(a, b)  # exact, with the sign of a (MathML rem)
    if o == QUOTIENT:
        return np.trunc(a / b) if b != 0.0 else math.nan
    if o == ATAN2:
        return math.atan2(a, b)
    return math.nan


@njit(cache=True, error_model="numpy", nogil=True)
def seed_draws(seed):
    """Seed the random draws of compiled code on the calling thread (numba's generator)."""
    np.random.seed(seed)


@njit(cache=True, error_model="numpy", nogil=True)
def _sample(code, a, b):
    """One draw from distribution ``code`` of :data:`RANDOM` with parameters ``a``, ``b``."""
    if code == 0:
        return np.random.normal(a, b) if b >= 0.0 else math.nan
    if code == 1:
        return np.random.uniform(a, b) if a <= b else math.nan
    if code == 2:
        return (1.0 if np.random.random() < a else 0.0) if 0.0 <= a <= 1.0 else math.nan
    if code == 3:
        if not (a >= 0.0 and a == math.floor(a) and 0.0 <= b <= 1.0):
            return math.nan
        return float(np.random.binomial(int(a), b))
    if code == 4:
        return a + b * np.random.standard_cauchy() if b > 0.0 else math.nan
    if code == 5:
        return np.random.chisquare(a) if a > 0.0 else math.nan
    if code == 6:
        return np.random.exponential(1.0 / a) if a > 0.0 else math.nan
    if code == 7:
        return np.random.gamma(a, b) if a > 0.0 and b > 0.0 else math.nan
    if code == 8:
        return np.random.laplace(a, b) if b > 0.0 else math.nan
    if code == 9:
        return np.random.lognormal(a, b) if b >= 0.0 else math.nan
    if code == 10:
        return float(np.random.poisson(a)) if a >= 0.0 else math.nan
    if code == 11:
        return np.random.rayleigh(a) if a > 0.0 else math.nan
    return math.nan


@njit(cache=True, error_model="numpy", nogil=True)
def _draw(code, n_args, a, b, c, d):
    """A draw with ``n_args`` arguments ``a, b, c, d`` (unused ones NaN): see :data:`RANDOM`."""
    n_parameters = 1 if code == 2 or code == 5 or code == 6 or code == 10 or code == 11 else 2  # noqa: PLR1714
    if code == 8 and (n_args == 1 or n_args == 3):  # noqa: PLR1714 (laplace(scale[, min, max]))
        a, b, c, d = 0.0, a, b, c
        n_args += 1
    if n_args == n_parameters:
        return _sample(code, a, b)
    lower, upper = (c, d) if n_parameters == 2 else (b, c)
    if lower > upper:
        lower, upper = upper, lower
    if not lower <= upper:  # NaN bounds
        return math.nan
    for _ in range(MAX_REJECTIONS):
        x = _sample(code, a, b)
        if math.isnan(x):
            return x
        if lower <= x <= upper:
            return x
    return math.nan


# inlined: its callers loop over many programs, and a call per program would cost the
# arrays' reference counts each time. ``draws`` is a constant at every call site, so the draw
# branch (whose call would cost the same) is compiled only into run_program_with_draws.
@njit(cache=True, error_model="numpy", nogil=True, inline="always")
def _interpret(op, arg, val, start, stop, y, p, stack, draws):
    top = -1
    for q in range(start, stop):
        o = op[q]
        if o == PUSH_Y:
            top += 1
            stack[top] = y[arg[q]]
        elif o == PUSH_P:
            top += 1
            stack[top] = p[arg[q]]
        elif o == PUSH_C:
            top += 1
            stack[top] = val[q]
        elif o == MUL:
            top -= 1
            stack[top] = stack[top] * stack[top + 1]
        elif o == ADD:
            top -= 1
            stack[top] = stack[top] + stack[top + 1]
        elif o == SUB:
            top -= 1
            stack[top] = stack[top] - stack[top + 1]
        elif o == DIV:
            top -= 1
            stack[top] = stack[top] / stack[top + 1]
        elif o == SELECT:
            top -= 2
            stack[top] = stack[top + 1] if stack[top] != 0.0 else stack[top + 2]
        elif o < NEG:
            top -= 1
            stack[top] = _binary(o, stack[top], stack[top + 1])
        elif o == DRAW:
            n_args = int(val[q])
            top -= n_args - 1
            if draws:
                a = stack[top]
                b = stack[top + 1] if n_args > 1 else math.nan
                c = stack[top + 2] if n_args > 2 else math.nan
                d = stack[top + 3] if n_args > 3 else math.nan
                stack[top] = _draw(arg[q], n_args, a, b, c, d)
            else:
                stack[top] = math.nan
        else:
            stack[top] = _unary(o, stack[top])
    return stack[0]


@njit(cache=True, error_model="numpy", nogil=True, inline="always")
def run_program(op, arg, val, start, stop, y, p, stack):
    """Run instructions ``start:stop`` on state ``y`` and parameters ``p``; return the value.

    ``stack`` is a work array at least as deep as the program needs (see :class:`Programs`).
    Arithmetic follows IEEE rules (a division by zero gives an infinity, never an exception).
    Random draws give NaN here: they belong in :func:`run_program_with_draws`.
    """
    return _interpret(op, arg, val, start, stop, y, p, stack, False)


@njit(cache=True, error_model="numpy", nogil=True, inline="always")
def run_program_with_draws(op, arg, val, start, stop, y, p, stack):
    """:func:`run_program` that also draws random numbers (numba's per-thread generator)."""
    return _interpret(op, arg, val, start, stop, y, p, stack, True)


# --- trees ----------------------------------------------------------------------------------
def num(value: float) -> tuple:
    """A constant node."""
    return ("num", float(value))


ZERO = num(0.0)
ONE = num(1.0)


def symbols(tree: tuple) -> set[str]:
    """Names of the unresolved symbols in ``tree``."""
    if tree[0] == "sym":
        return {tree[1]}
    if tree[0] in ("num", "y", "p"):
        return set()
    found: set[str] = set()
    for child in tree[1:]:
        found |= symbols(child)
    return found


def resolve(tree: tuple, states: Mapping[str, int], parameters: Mapping[str, int], where: str) -> tuple:
    """``tree`` with each symbol replaced by its state ``("y", i)`` or parameter ``("p", k)``.

    Raises
    ------
    ModelError
        For a symbol that is neither, naming it and ``where`` it was read.
    """

    def leaf(node: tuple) -> tuple | None:
        if node[0] != "sym":
            return None
        name = node[1]
        if name in states:
            return ("y", states[name])
        if name in parameters:
            return ("p", parameters[name])
        raise ModelError(f"{where} reads {name!r}, which is neither a species nor a parameter")

    return substitute(tree, leaf)


def leaves(tree: tuple) -> set[tuple]:
    """The resolved leaves ``("y", i)`` and ``("p", k)`` of ``tree``."""
    if tree[0] in ("y", "p"):
        return {tree}
    if tree[0] in ("num", "sym"):
        return set()
    found: set[tuple] = set()
    for child in tree[1:]:
        found |= leaves(child)
    return found


def substitute(tree: tuple, replace: Callable[[tuple], tuple | None] | Mapping[str, tuple]) -> tuple:
    """A copy of ``tree`` with leaves replaced.

    ``replace`` maps symbol names to trees, or is a function from a leaf node to its
    replacement (``None`` keeps the leaf).
    """
    if isinstance(replace, Mapping):
        mapping = replace

        def replace(node):
            return mapping.get(node[1]) if node[0] == "sym" else None

    def walk(node: tuple) -> tuple:
        if node[0] in ("num", "sym", "y", "p"):
            new = replace(node)
            return node if new is None else new
        return (node[0], *(walk(child) for child in node[1:]))

    return walk(tree)


def _is_num(node: tuple, value: float | None = None) -> bool:
    return node[0] == "num" and (value is None or node[1] == value)


def draw_arities(name: str) -> tuple[int, ...]:
    """The numbers of arguments the draw ``name`` of :data:`RANDOM` takes."""
    n_parameters = RANDOM[name][1]
    return (1, 2, 3, 4) if name == "laplace" else (n_parameters, n_parameters + 2)


def is_random(tree: tuple) -> bool:
    """Whether ``tree`` draws a random number anywhere."""
    if tree[0] in RANDOM:
        return True
    return tree[0] not in ("num", "sym", "y", "p") and any(is_random(child) for child in tree[1:])


def simplify(tree: tuple) -> tuple:
    """Fold constants and drop identities (``x + 0``, ``1 * x``, ``x ^ 1``, ...).

    Random draws are never folded: each evaluation draws anew.
    """
    head = tree[0]
    if head in ("num", "sym", "y", "p"):
        return tree
    children = tuple(simplify(child) for child in tree[1:])
    if head in RANDOM:
        return (head, *children)
    if all(_is_num(c) for c in children):
        return num(evaluate((head, *children), {}))
    if head == "select":
        condition, then, other = children
        if _is_num(condition):
            return then if condition[1] != 0.0 else other
        if then == other:
            return then
        return ("select", condition, then, other)
    if head in UNARY:
        (a,) = children
        if head == "neg" and a[0] == "neg":
            return a[1]
        return (head, a)
    a, b = children
    if head == "+":
        if _is_num(a, 0.0):
            return b
        if _is_num(b, 0.0):
            return a
        if b[0] == "neg":
            return simplify(("-", a, b[1]))
    elif head == "-":
        if _is_num(b, 0.0):
            return a
        if _is_num(a, 0.0):
            return simplify(("neg", b))
        if a == b:
            return ZERO
    elif head == "*":
        if _is_num(a, 0.0) or _is_num(b, 0.0):
            return ZERO
        if _is_num(a, 1.0):
            return b
        if _is_num(b, 1.0):
            return a
        if _is_num(a, -1.0):
            return simplify(("neg", b))
        if _is_num(b, -1.0):
            return simplify(("neg", a))
    elif head == "/":
        if _is_num(a, 0.0):
            return ZERO
        if _is_num(b, 1.0):
            return a
    elif head == "^":
        if _is_num(b, 1.0):
            return a
        if _is_num(b, 0.0):
            return ONE
    return (head, a, b)


def derivative(tree: tuple, var: tuple) -> tuple:
    """The symbolic derivative of ``tree`` with respect to the leaf ``var``, simplified.

    ``var`` is a leaf such as ``("y", 2)`` or ``("sym", "k")``. Comparisons, logic and
    step functions have derivative zero (almost everywhere); a conditional differentiates
    branch by branch.
    """
    return simplify(_d(tree, var))


def _d(t: tuple, var: tuple) -> tuple:
    head = t[0]
    if head in ("num", "sym", "y", "p"):
        return ONE if t == var else ZERO
    if var not in _all_leaves(t):
        return ZERO
    if head == "select":
        return ("select", t[1], _d(t[2], var), _d(t[3], var))
    if head in _BOOLEAN_OPS or head in _STEP_OPS:
        return ZERO
    if head in RANDOM:
        raise ModelError(f"a random draw ({head}) has no derivative")
    if head in UNARY:
        a = t[1]
        da = _d(a, var)
        outer = {
            "neg": num(-1.0),
            "exp": t,
            "ln": ("/", ONE, a),
            "log10": ("/", ONE, ("*", a, num(math.log(10.0)))),
            "sqrt": ("/", num(0.5), t),
            "abs": ("sign", a),
            "sin": ("cos", a),
            "cos": ("neg", ("sin", a)),
            "tan": ("+", ONE, ("^", t, num(2.0))),
            "asin": ("/", ONE, ("sqrt", ("-", ONE, ("^", a, num(2.0))))),
            "acos": ("neg", ("/", ONE, ("sqrt", ("-", ONE, ("^", a, num(2.0)))))),
            "atan": ("/", ONE, ("+", ONE, ("^", a, num(2.0)))),
            "sinh": ("cosh", a),
            "cosh": ("sinh", a),
            "tanh": ("-", ONE, ("^", t, num(2.0))),
            "asinh": ("/", ONE, ("sqrt", ("+", ("^", a, num(2.0)), ONE))),
            "acosh": ("/", ONE, ("sqrt", ("-", ("^", a, num(2.0)), ONE))),
            "atanh": ("/", ONE, ("-", ONE, ("^", a, num(2.0)))),
        }[head]
        return ("*", outer, da)
    a, b = t[1], t[2]
    da, db = _d(a, var), _d(b, var)
    if head == "+":
        return ("+", da, db)
    if head == "-":
        return ("-", da, db)
    if head == "*":
        return ("+", ("*", da, b), ("*", a, db))
    if head == "/":
        return ("/", ("-", ("*", da, b), ("*", a, db)), ("^", b, num(2.0)))
    if head == "^":
        if var not in _all_leaves(b):
            return ("*", ("*", b, ("^", a, ("-", b, ONE))), da)
        return ("*", t, ("+", ("*", db, ("ln", a)), ("/", ("*", b, da), a)))
    if head == "min":
        return ("select", ("le", a, b), da, db)
    if head == "max":
        return ("select", ("ge", a, b), da, db)
    if head == "rem":
        return ("-", da, ("*", ("quotient", a, b), db))
    if head == "atan2":
        return ("/", ("-", ("*", b, da), ("*", a, db)), ("+", ("^", a, num(2.0)), ("^", b, num(2.0))))
    raise ModelError(f"no derivative for operation {head!r}")


def _all_leaves(tree: tuple) -> set[tuple]:
    if tree[0] in ("y", "p", "sym"):
        return {tree}
    if tree[0] == "num":
        return set()
    found: set[tuple] = set()
    for child in tree[1:]:
        found |= _all_leaves(child)
    return found


# --- compilation ----------------------------------------------------------------------------
class Programs:
    """Bytecode for a list of trees: program ``i`` is ``op[ptr[i]:ptr[i + 1]]``.

    Attributes
    ----------
    ptr : int64[n_programs + 1]
    op, arg : int64[n_instructions]
    val : float64[n_instructions]
    depth : int
        Stack depth the deepest program needs.
    """

    def __init__(self, ptr: np.ndarray, op: np.ndarray, arg: np.ndarray, val: np.ndarray, depth: int):
        self.ptr, self.op, self.arg, self.val, self.depth = ptr, op, arg, val, depth


def _emit(tree: tuple, code: list[tuple[int, int, float]]) -> int:
    """Append ``tree``'s instructions to ``code``; return the stack depth it needs."""
    head = tree[0]
    if head == "num":
        code.append((PUSH_C, 0, float(tree[1])))
        return 1
    if head == "y":
        code.append((PUSH_Y, int(tree[1]), 0.0))
        return 1
    if head == "p":
        code.append((PUSH_P, int(tree[1]), 0.0))
        return 1
    if head == "sym":
        raise ModelError(f"unresolved symbol {tree[1]!r} in an expression")
    if head == "select":
        depths = [_emit(child, code) + i for i, child in enumerate(tree[1:])]
        code.append((SELECT, 0, 0.0))
        return max(depths)
    if head in UNARY:
        depth = _emit(tree[1], code)
        code.append((UNARY[head], 0, 0.0))
        return depth
    if head in RANDOM:
        n_args = len(tree) - 1
        allowed = draw_arities(head)
        if n_args not in allowed:
            raise ModelError(f"{head} takes {' or '.join(map(str, allowed))} arguments, got {n_args}")
        depths = [_emit(child, code) + i for i, child in enumerate(tree[1:])]
        code.append((DRAW, RANDOM[head][0], float(n_args)))
        return max(depths)
    if head in BINARY:
        depth = max(_emit(tree[1], code), _emit(tree[2], code) + 1)
        code.append((BINARY[head], 0, 0.0))
        return depth
    raise ModelError(f"unknown operation {head!r} in an expression")


def compile_programs(trees: Iterable[tuple]) -> Programs:
    """Compile resolved trees (leaves ``num``, ``y``, ``p`` only) to bytecode."""
    code: list[tuple[int, int, float]] = []
    ptr = [0]
    depth = 0
    for tree in trees:
        depth = max(depth, _emit(tree, code))
        ptr.append(len(code))
    return Programs(
        np.array(ptr, dtype=np.int64),
        np.array([c[0] for c in code], dtype=np.int64),
        np.array([c[1] for c in code], dtype=np.int64),
        np.array([c[2] for c in code], dtype=np.float64),
        depth,
    )


def evaluate(tree: tuple, values: Mapping[str, float]) -> float:
    """Value of ``tree`` with its symbols taken from ``values`` (through the stack machine).

    Raises
    ------
    ModelError
        If a symbol has no value.
    """
    names = sorted(symbols(tree))
    missing = [n for n in names if n not in values]
    if missing:
        raise ModelError(f"no value for {missing[0]!r} in an expression")
    index = {n: k for k, n in enumerate(names)}
    resolved = substitute(tree, lambda node: ("p", index[node[1]]) if node[0] == "sym" else None)
    p = np.array([float(values[n]) for n in names], dtype=np.float64)
    return float(run_all(compile_programs([resolved]), np.zeros((1, 1)), p)[0, 0])


def to_infix(tree: tuple, name: Callable[[tuple], str] = lambda leaf: str(leaf[1])) -> str:
    """A readable infix form of ``tree`` (for display and for SBML's formula syntax)."""
    head = tree[0]
    if head == "num":
        value = tree[1]
        return repr(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)
    if head in ("sym", "y", "p"):
        return name(tree)
    args = [to_infix(child, name) for child in tree[1:]]
    if head in ("+", "-", "*", "/", "^"):
        return f"({args[0]} {head} {args[1]})"
    if head == "neg":
        return f"(-{args[0]})"
    if head == "select":
        return f"piecewise({args[1]}, {args[0]}, {args[2]})"
    return f"{head}({', '.join(args)})"


@njit(cache=True, error_model="numpy", nogil=True)
def run_programs(ptr, op, arg, val, depth, rows, p, out):
    """Run every program on every row of states: ``out[r, k]`` = program ``k`` at ``rows[r]``."""
    stack = np.empty(max(depth, 1))
    for r in range(rows.shape[0]):
        y = rows[r]
        for k in range(ptr.shape[0] - 1):
            out[r, k] = run_program_with_draws(op, arg, val, ptr[k], ptr[k + 1], y, p, stack)


def run_all(programs: Programs, rows: np.ndarray, p: np.ndarray) -> np.ndarray:
    """Every program of ``programs`` at every row of ``rows`` (2-D), as ``(n_rows, n_programs)``."""
    rows = np.ascontiguousarray(np.atleast_2d(rows), dtype=np.float64)
    out = np.empty((rows.shape[0], programs.ptr.shape[0] - 1))
    run_programs(programs.ptr, programs.op, programs.arg, programs.val, programs.depth, rows, p, out)
    return out
