"""Expression trees: the stack machine against ``math``, symbolic derivatives against finite
differences, simplification, bytecode stack depth, and expression rate laws in networks."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats as sps
from stats import Z, chi_square_pvalue, se_mean, se_variance

import workbench as wb
from workbench.core import expression as ex
from workbench.core import kinetics
from workbench.core.ensemble import run_cle, run_ssa, stochastic_arrays
from workbench.core.ratelaws import Expression, Hill, MichaelisMenten
from workbench.errors import ModelError

X = ("sym", "x")
Y = ("sym", "y")
NAN = math.nan
INF = math.inf
PROPERTY = settings(max_examples=100, deadline=None, derandomize=True, database=None)


def num(value):
    return ("num", float(value))


def sym(name):
    return ("sym", name)


def resolve(tree):
    """``x`` and ``y`` become state entries 0 and 1, as a network resolves species."""
    return ex.substitute(tree, {"x": ("y", 0), "y": ("y", 1)})


def run_at(tree, points):
    """Value of ``tree`` at each row ``(x, y)`` of ``points``, through compiled bytecode."""
    programs = ex.compile_programs([resolve(tree)])
    rows = np.atleast_2d(np.asarray(points, dtype=np.float64))
    if rows.shape[1] == 1:
        rows = np.hstack([rows, np.zeros_like(rows)])
    return ex.run_all(programs, rows, np.zeros(1))[:, 0]


def same(got, expected, rtol=1e-15):
    """Equal as IEEE values: both nan, the same infinity, or equal to ``rtol``."""
    if math.isnan(expected):
        return math.isnan(got)
    if math.isinf(expected) or expected == 0.0:
        return got == expected
    return abs(got - expected) <= rtol * abs(expected)


def stack_height(programs, k):
    """Deepest stack program ``k`` reaches, found by simulating its pushes and pops."""
    top = height = 0
    for q in range(programs.ptr[k], programs.ptr[k + 1]):
        o = programs.op[q]
        if o in (ex.PUSH_Y, ex.PUSH_P, ex.PUSH_C):
            top += 1
        elif o == ex.SELECT:
            top -= 2
        elif o < ex.NEG:
            top -= 1
        height = max(height, top)
    assert top == 1
    return height


def nodes(tree):
    yield tree
    if tree[0] not in ("num", "sym", "y", "p"):
        for child in tree[1:]:
            yield from nodes(child)


# --- 1. the stack machine against Python's math ------------------------------------------------


def _factorial(a):
    return float(math.factorial(int(a))) if a.is_integer() else math.gamma(a + 1.0)


def _truth(a):
    return a != 0.0  # nan is non-zero: true


UNARY_CASES = {
    "neg": (lambda a: -a, [-2.5, 0.0, 3.0, 1e300, -INF]),
    "exp": (math.exp, [-745.0, -700.0, -1.5, 0.0, 1.0, 20.0, 700.0]),
    "ln": (math.log, [5e-324, 1e-300, 0.5, 1.0, math.e, 1e300]),
    "log10": (math.log10, [1e-5, 0.3, 1.0, 1000.0, 1e300]),
    "sqrt": (math.sqrt, [0.0, 0.25, 2.0, 1e300]),
    "abs": (math.fabs, [-3.5, 0.0, 2.0, -INF]),
    "floor": (math.floor, [-2.5, -2.0, 0.3, 7.9, 1e15 + 0.5, -4503599627370495.5]),
    "ceil": (math.ceil, [-2.5, -2.0, 0.3, 7.9, 1e15 + 0.5, -4503599627370495.5]),
    "sin": (math.sin, [-10.0, -1.0, 0.0, 0.5, 100.0]),
    "cos": (math.cos, [-10.0, -1.0, 0.0, 0.5, 100.0]),
    "tan": (math.tan, [-1.5, -1.0, 0.0, 0.5, 1.5]),
    "asin": (math.asin, [-1.0, -0.5, 0.0, 0.9, 1.0]),
    "acos": (math.acos, [-1.0, -0.5, 0.0, 0.9, 1.0]),
    "atan": (math.atan, [-1e10, -1.0, 0.0, 3.0, INF]),
    "sinh": (math.sinh, [-700.0, -2.0, 0.0, 0.5, 700.0]),
    "cosh": (math.cosh, [-700.0, -2.0, 0.0, 0.5, 700.0]),
    "tanh": (math.tanh, [-30.0, -1.0, 0.0, 0.5, 30.0]),
    "asinh": (math.asinh, [-1e5, -1.0, 0.0, 2.0]),
    "acosh": (math.acosh, [1.0, 1.5, 10.0, 1e10]),
    "atanh": (math.atanh, [-0.99, -0.5, 0.0, 0.3, 0.999]),
    "not": (lambda a: 0.0 if _truth(a) else 1.0, [0.0, -0.0, 1.0, -2.5, 1e-300, INF, NAN]),
    "factorial": (_factorial, [0.0, 1.0, 5.0, 10.0, 12.0, 20.0, 0.5, 3.7]),
    "sign": (lambda a: 0.0 if a == 0.0 else math.copysign(1.0, a), [-3.0, -1e-300, 0.0, -0.0, 2.0, INF]),
}

_PAIRS = [(1.0, 2.0), (2.0, 1.0), (2.0, 2.0), (-0.0, 0.0), (-3.5, 1e-300), (NAN, 1.0), (1.0, NAN)]
_TRUTHS = [(0.0, 0.0), (0.0, 2.5), (-1.0, 0.0), (-1e-300, 3.0), (NAN, 0.0), (0.0, -INF), (7.0, -7.0)]

BINARY_CASES = {
    "+": (lambda a, b: a + b, [(1.0, 2.0), (-1.5, 1e-17), (1e308, 1e308), (0.1, 0.2)]),
    "-": (lambda a, b: a - b, [(1.0, 2.0), (-1.5, 1e-17), (-1e308, 1e308), (0.3, 0.1)]),
    "*": (lambda a, b: a * b, [(3.0, -2.0), (0.1, 0.3), (1e200, 1e200), (1e-200, 1e-200)]),
    "/": (lambda a, b: a / b, [(1.0, 3.0), (-7.0, 2.0), (1e-300, 1e300), (2.0, 1e-310)]),
    "^": (
        math.pow,
        [(2.0, 10.0), (2.0, 0.5), (-2.0, 3.0), (-2.0, -2.0), (0.0, 0.0), (0.0, 2.0), (1e-3, -2.0), (1.5, 2.5)],
    ),
    "lt": (lambda a, b: float(a < b), _PAIRS),
    "le": (lambda a, b: float(a <= b), _PAIRS),
    "gt": (lambda a, b: float(a > b), _PAIRS),
    "ge": (lambda a, b: float(a >= b), _PAIRS),
    "eq": (lambda a, b: float(a == b), _PAIRS),
    "ne": (lambda a, b: float(a != b), _PAIRS),
    "and": (lambda a, b: float(_truth(a) and _truth(b)), _TRUTHS),
    "or": (lambda a, b: float(_truth(a) or _truth(b)), _TRUTHS),
    "xor": (lambda a, b: float(_truth(a) != _truth(b)), _TRUTHS),
    "min": (min, [(1.0, 2.0), (2.0, 1.0), (-3.0, -3.0), (-INF, 0.0), (1e-300, -1e-300)]),
    "max": (max, [(1.0, 2.0), (2.0, 1.0), (-3.0, -3.0), (-INF, 0.0), (1e-300, -1e-300)]),
    "rem": (math.fmod, [(7.0, 3.0), (-7.0, 3.0), (7.0, -3.0), (7.5, 2.0), (-0.5, 0.2), (1.0, 1e9)]),
    # SBML's quotient: the integer part of a / b, found here from fmod's exact remainder
    "quotient": (
        lambda a, b: (a - math.fmod(a, b)) / b,
        [(7.0, 2.0), (-7.0, 2.0), (7.0, -2.0), (9.5, 3.0), (1.0, 3.0)],
    ),
    "atan2": (math.atan2, [(1.0, 1.0), (1.0, -1.0), (-1.0, -1.0), (0.0, -1.0), (0.0, 0.0), (3.0, 0.0)]),
}


def test_every_operation_has_a_reference():
    """The tables below cover every opcode the module declares (a new one needs a case)."""
    assert set(UNARY_CASES) == set(ex.UNARY)
    assert set(BINARY_CASES) == set(ex.BINARY)


@pytest.mark.parametrize("op", sorted(UNARY_CASES))
def test_unary_matches_math(op):
    """Each unary opcode gives math's value, via evaluate (parameters) and run_all (states)."""
    reference, args = UNARY_CASES[op]
    compiled = run_at((op, X), [[a] for a in args])
    for a, got in zip(args, compiled, strict=True):
        expected = float(reference(a))
        assert same(ex.evaluate((op, X), {"x": a}), expected), (op, a)
        assert same(float(got), expected), (op, a)


@pytest.mark.parametrize("op", sorted(BINARY_CASES))
def test_binary_matches_math(op):
    """Each binary opcode gives math's value, via evaluate (parameters) and run_all (states)."""
    reference, args = BINARY_CASES[op]
    compiled = run_at((op, X, Y), args)
    for (a, b), got in zip(args, compiled, strict=True):
        expected = float(reference(a, b))
        assert same(ex.evaluate((op, X, Y), {"x": a, "y": b}), expected), (op, a, b)
        assert same(float(got), expected), (op, a, b)


@pytest.mark.parametrize("condition", [1.0, 0.0, -0.0, -2.5, 1e-300, NAN, INF])
def test_select_takes_the_branch_of_any_nonzero_condition(condition):
    """select(c, a, b) is a for any non-zero c (nan included) and b for a zero c."""
    tree = ("select", sym("c"), X, Y)
    expected = 3.0 if condition != 0.0 else -4.0
    assert ex.evaluate(tree, {"c": condition, "x": 3.0, "y": -4.0}) == expected
    programs = ex.compile_programs([ex.substitute(tree, {"c": ("y", 0), "x": ("y", 1), "y": ("y", 2)})])
    assert ex.run_all(programs, np.array([[condition, 3.0, -4.0]]), np.zeros(1))[0, 0] == expected


def test_select_guards_an_undefined_branch():
    """Both branches run, but the nan of the branch not taken does not leak into the result."""
    guarded = ("select", ("gt", X, num(0.0)), ("ln", X), num(0.0))
    assert list(run_at(guarded, [[-1.0], [0.0], [math.e]])) == [0.0, 0.0, 1.0]


OUTSIDE_DOMAIN = [
    ("ln", (-1.0,), NAN),
    ("ln", (0.0,), -INF),
    ("ln", (-INF,), NAN),
    ("log10", (-1.0,), NAN),
    ("log10", (0.0,), -INF),
    ("/", (1.0, 0.0), INF),
    ("/", (-1.0, 0.0), -INF),
    ("/", (0.0, 0.0), NAN),
    ("sqrt", (-1.0,), NAN),
    ("^", (0.0, -1.0), INF),
    ("^", (0.0, -0.5), INF),
    ("^", (-8.0, 1.0 / 3.0), NAN),
    ("^", (10.0, 400.0), INF),
    ("acos", (2.0,), NAN),
    ("asin", (-1.5,), NAN),
    ("acosh", (0.5,), NAN),
    ("atanh", (2.0,), NAN),
    ("atanh", (1.0,), INF),
    ("atanh", (-1.0,), -INF),
    ("factorial", (-1.0,), NAN),
    ("exp", (1000.0,), INF),
    ("sinh", (1000.0,), INF),
    ("sinh", (-1000.0,), -INF),
    ("cosh", (-1000.0,), INF),
    ("floor", (INF,), INF),
    ("ceil", (-INF,), -INF),
    ("floor", (NAN,), NAN),
    ("rem", (1.0, 0.0), NAN),
    ("quotient", (1.0, 0.0), NAN),
    ("rem", (INF, 2.0), NAN),
    ("*", (1e300, 1e300), INF),
    ("sin", (INF,), NAN),
]


@pytest.mark.parametrize(("op", "args", "expected"), OUTSIDE_DOMAIN, ids=[f"{o}{a}" for o, a, _ in OUTSIDE_DOMAIN])
def test_outside_the_domain_gives_nan_or_inf_without_raising(op, args, expected):
    """Undefined or overflowing operations give IEEE nan/inf (Python's math would raise)."""
    tree = (op, *[sym(f"a{i}") for i in range(len(args))])
    assert same(ex.evaluate(tree, {f"a{i}": a for i, a in enumerate(args)}), expected)
    assert same(float(run_at((op, *[X, Y][: len(args)]), [list(args)])[0]), expected)


LARGE_AND_NAN = [
    pytest.param("exp", (709.5,), math.exp(709.5)),
    pytest.param("sinh", (710.2,), math.sinh(710.2)),
    pytest.param("cosh", (710.2,), math.cosh(710.2)),
    pytest.param("exp", (NAN,), NAN),
    pytest.param("sinh", (NAN,), NAN),
    pytest.param("cosh", (NAN,), NAN),
    pytest.param("floor", (1e19,), 1e19),
    pytest.param("ceil", (-1e300,), -1e300),
    pytest.param("quotient", (1e19, 1.0), 1e19),
    pytest.param("rem", (1e300, 3.0), math.fmod(1e300, 3.0)),
    pytest.param("rem", (1e17, 3.0), 1.0),
]


@pytest.mark.parametrize(("op", "args", "expected"), LARGE_AND_NAN)
def test_large_and_nan_arguments_match_math(op, args, expected):
    """Arguments near overflow, beyond 2**63, or nan give math's (finite or nan) value."""
    tree = (op, *[sym(f"a{i}") for i in range(len(args))])
    assert same(ex.evaluate(tree, {f"a{i}": a for i, a in enumerate(args)}), expected)


# --- 2. derivatives against central finite differences ---------------------------------------

UNARY_DOMAINS = {
    "neg": (-5.0, 5.0),
    "exp": (-5.0, 5.0),
    "ln": (0.1, 10.0),
    "log10": (0.1, 10.0),
    "sqrt": (0.1, 10.0),
    "abs": (-3.0, 3.0),
    "sin": (-5.0, 5.0),
    "cos": (-5.0, 5.0),
    "tan": (-1.3, 1.3),
    "asin": (-0.9, 0.9),
    "acos": (-0.9, 0.9),
    "atan": (-5.0, 5.0),
    "sinh": (-3.0, 3.0),
    "cosh": (-3.0, 3.0),
    "tanh": (-3.0, 3.0),
    "asinh": (-5.0, 5.0),
    "acosh": (1.1, 5.0),
    "atanh": (-0.9, 0.9),
}
BINARY_DOMAINS = {
    "+": ((-3.0, 3.0), (-3.0, 3.0)),
    "-": ((-3.0, 3.0), (-3.0, 3.0)),
    "*": ((-3.0, 3.0), (-3.0, 3.0)),
    "/": ((-3.0, 3.0), (0.5, 3.0)),
    "^": ((0.2, 3.0), (-2.0, 2.0)),
    "min": ((-3.0, 3.0), (-3.0, 3.0)),
    "max": ((-3.0, 3.0), (-3.0, 3.0)),
    "rem": ((-5.0, 5.0), (0.5, 2.0)),
    "atan2": ((-3.0, 3.0), (-3.0, 3.0)),
}
STEP_UNARY = {"floor", "ceil", "sign", "not"}
STEP_BINARY = {"lt", "le", "gt", "ge", "eq", "ne", "and", "or", "xor", "quotient"}


def check_derivative(tree, points):
    """d tree / dx and d tree / dy against central differences with h = 1e-6 max(1, |x|).

    The tolerance is rtol 1e-6 and atol 1e-8 (scaled by |f| where f is large, since the
    difference quotient's rounding error grows as eps |f| / h).
    """
    points = np.asarray(points, dtype=np.float64)
    f = run_at(tree, points)
    assert np.all(np.isfinite(f))
    for i, var in enumerate((X, Y)):
        exact = run_at(ex.derivative(tree, var), points)
        h = 1e-6 * np.maximum(1.0, np.abs(points[:, i]))
        up, down = points.copy(), points.copy()
        up[:, i] += h
        down[:, i] -= h
        fd = (run_at(tree, up) - run_at(tree, down)) / (2.0 * h)
        atol = 1e-8 * np.maximum(1.0, np.abs(f))
        assert np.all(np.abs(exact - fd) <= atol + 1e-6 * np.abs(fd)), (tree, var, points, exact, fd)


def uniform_points(rng, x_range, y_range, n=8):
    return np.column_stack([rng.uniform(*x_range, n), rng.uniform(*y_range, n)])


def test_every_operation_is_classified_for_derivatives():
    """Every opcode is either differentiable (checked below) or a step with derivative zero."""
    assert set(UNARY_DOMAINS) | STEP_UNARY | {"factorial"} == set(ex.UNARY)
    assert set(BINARY_DOMAINS) | STEP_BINARY == set(ex.BINARY)


@pytest.mark.parametrize("op", sorted(UNARY_DOMAINS))
def test_unary_derivative_matches_finite_differences(op):
    """d/dx op(x) and the chain rule d/dx op(x + 0.1 sin x) agree with finite differences."""
    rng = np.random.default_rng(sum(map(ord, op)))
    points = uniform_points(rng, UNARY_DOMAINS[op], (0.0, 1.0))
    check_derivative((op, X), points)
    check_derivative((op, ("+", X, ("*", num(0.1), ("sin", X)))), points)


@pytest.mark.parametrize("op", sorted(BINARY_DOMAINS))
def test_binary_derivative_matches_finite_differences(op):
    """d/dx and d/dy of op(x, y) agree with finite differences."""
    rng = np.random.default_rng(100 + sum(map(ord, op)))
    check_derivative((op, X, Y), uniform_points(rng, *BINARY_DOMAINS[op]))


COMPOSITES = {
    "product": ("*", ("*", X, Y), ("sin", X)),
    "quotient": ("/", ("+", ("^", X, num(2.0)), Y), ("+", num(1.0), ("*", ("*", X, X), ("*", Y, Y)))),
    "variable exponent": ("^", X, Y),
    "x to the x": ("^", X, X),
    "exponent of a sum": ("^", ("+", num(1.0), ("^", X, num(2.0))), ("sin", Y)),
    "constant base": ("^", num(2.5), ("*", X, Y)),
    "nested": ("*", ("exp", ("sin", ("^", X, num(2.0)))), ("ln", ("+", num(1.0), ("^", Y, num(2.0))))),
    "nested roots": ("sqrt", ("+", num(1.0), ("^", ("tanh", ("*", X, Y)), num(2.0)))),
    "select": ("select", ("gt", X, Y), ("*", ("^", X, num(2.0)), Y), ("-", ("sin", X), Y)),
    "select of logic": ("select", ("and", ("gt", X, num(1.0)), ("lt", Y, num(0.0))), ("exp", Y), ("cos", X)),
    "min": ("min", ("^", X, num(2.0)), Y),
    "max": ("max", ("sin", X), ("*", Y, Y)),
    "atan2 of composites": ("atan2", ("*", X, Y), ("+", num(1.0), ("^", X, num(2.0)))),
    "rem of composites": ("rem", ("*", X, ("exp", Y)), ("+", num(0.7), ("^", Y, num(2.0)))),
    "step times smooth": ("*", ("floor", ("*", num(3.0), X)), ("sin", Y)),
}


@pytest.mark.parametrize("name", sorted(COMPOSITES))
def test_composite_derivative_matches_finite_differences(name):
    """Products, quotients, powers with variable exponents, compositions, select, min/max."""
    rng = np.random.default_rng(200 + sum(map(ord, name)))
    check_derivative(COMPOSITES[name], uniform_points(rng, (0.2, 2.0), (-2.0, 2.0), n=16))


def test_select_derivative_follows_each_branch():
    """At points on either side of the switch the derivative is that of the branch taken."""
    tree = ("select", ("gt", X, num(1.0)), ("^", X, num(3.0)), ("*", num(-2.0), X))
    d = ex.derivative(tree, X)
    assert list(run_at(d, [[2.0], [0.5]])) == [12.0, -2.0]


@pytest.mark.parametrize("op", sorted(STEP_UNARY))
def test_unary_step_functions_have_derivative_zero(op):
    """floor, ceil, sign and not differentiate to the constant 0, inside any composition."""
    assert ex.derivative((op, ("*", X, ("sin", X))), X) == ("num", 0.0)
    # d/dx [op(x) * x] = op(x): only the product rule's other term remains
    product = ex.derivative(("*", (op, X), X), X)
    points = np.array([[-1.7], [0.3], [2.5]])
    assert np.array_equal(run_at(product, points), run_at((op, X), points))


@pytest.mark.parametrize("op", sorted(STEP_BINARY))
def test_comparisons_logic_and_quotient_have_derivative_zero(op):
    """Comparisons, logic and quotient differentiate to the constant 0 in both arguments."""
    tree = (op, ("*", X, Y), ("exp", X))
    assert ex.derivative(tree, X) == ("num", 0.0)
    assert ex.derivative(tree, Y) == ("num", 0.0)


def test_derivative_by_an_absent_variable_is_zero():
    """A tree that does not mention the variable has derivative exactly 0."""
    assert ex.derivative(("*", ("exp", X), ("sin", X)), Y) == ("num", 0.0)
    assert ex.derivative(X, X) == ("num", 1.0)


def test_derivative_of_a_parameter_leaf():
    """Resolved leaves differentiate too: d/dp0 (p0 * y0^2) = y0^2 (what network_dfdp runs)."""
    tree = ("*", ("p", 0), ("^", ("y", 0), num(2.0)))
    d = ex.compile_programs([ex.derivative(tree, ("p", 0)), ex.derivative(tree, ("y", 0))])
    assert list(ex.run_all(d, np.array([[3.0]]), np.array([0.5]))[0]) == [9.0, 3.0]


# a small grammar of trees that stay finite and smooth for x, y in [-1, 1]
LEAVES = st.sampled_from([X, Y, num(0.5), num(2.0), num(-1.5), num(0.0), num(1.0)])


def _smooth(children):
    pairs = st.tuples(children, children)
    return st.one_of(
        st.tuples(st.sampled_from(["+", "-", "*", "min", "max"]), children, children),
        st.tuples(st.sampled_from(["neg", "sin", "cos", "atan", "tanh", "asinh"]), children),
        children.map(lambda t: ("exp", ("sin", t))),
        children.map(lambda t: ("ln", ("+", num(1.0), ("^", t, num(2.0))))),
        children.map(lambda t: ("sqrt", ("+", num(1.0), ("*", t, t)))),
        children.map(lambda t: ("^", t, num(2.0))),
        pairs.map(lambda ab: ("/", ab[0], ("+", num(1.5), ("cos", ab[1])))),
        pairs.map(lambda ab: ("^", ("+", num(1.0), ("^", ab[0], num(2.0))), ("sin", ab[1]))),
        st.tuples(st.sampled_from(["lt", "le", "gt", "ge"]), children, children, children, children).map(
            lambda c: ("select", (c[0], c[1], c[2]), c[3], c[4])
        ),
    )


SMOOTH_TREES = st.recursive(LEAVES, _smooth, max_leaves=12)
SEEDS = st.integers(0, 2**32 - 1)


@PROPERTY
@given(tree=SMOOTH_TREES, seed=SEEDS)
def test_random_tree_derivatives_match_finite_differences(tree, seed):
    """For random composite trees, d/dx and d/dy agree with finite differences at random points."""
    check_derivative(tree, np.random.default_rng(seed).uniform(-1.0, 1.0, (3, 2)))


# --- 3. simplification keeps the value --------------------------------------------------------

IDENTITIES = [
    (("+", X, num(0.0)), X),
    (("+", num(0.0), X), X),
    (("-", X, num(0.0)), X),
    (("-", num(0.0), X), ("neg", X)),
    (("-", ("sin", X), ("sin", X)), num(0.0)),
    (("*", num(1.0), X), X),
    (("*", X, num(1.0)), X),
    (("*", num(0.0), X), num(0.0)),
    (("*", X, num(0.0)), num(0.0)),
    (("*", num(-1.0), X), ("neg", X)),
    (("/", X, num(1.0)), X),
    (("/", num(0.0), X), num(0.0)),
    (("^", X, num(1.0)), X),
    (("^", X, num(0.0)), num(1.0)),
    (("neg", ("neg", X)), X),
    (("+", X, ("neg", Y)), ("-", X, Y)),
    (("+", num(2.0), num(3.0)), num(5.0)),
    (("*", ("+", num(1.0), num(2.0)), X), ("*", num(3.0), X)),
    (("exp", ("-", num(1.0), num(1.0))), num(1.0)),
    (("select", ("gt", num(2.0), num(1.0)), X, Y), X),
    (("select", ("lt", num(2.0), num(1.0)), X, Y), Y),
    (("select", ("gt", X, Y), ("sin", X), ("sin", X)), ("sin", X)),
    (("+", ("*", num(0.0), ("exp", Y)), ("^", ("*", num(1.0), X), ("-", num(3.0), num(2.0)))), X),
]


@pytest.mark.parametrize(("tree", "expected"), IDENTITIES, ids=[ex.to_infix(t) for t, _ in IDENTITIES])
def test_simplify_drops_identities_and_folds_constants(tree, expected):
    """x + 0 -> x, 1 * x -> x, x ^ 1 -> x, 0 * x -> 0, constant subtrees -> one number, ..."""
    assert ex.simplify(tree) == expected


# a wider grammar, rich in the constants the identities look for, whose every subtree stays
# finite for x, y in [-2, 2]: simplify's 0 * x -> 0 and x - x -> 0 hold for finite x only
CONSTANTS = st.sampled_from([num(0.0), num(1.0), num(-1.0), num(2.0), num(0.5), num(-3.0)])
EXPONENTS = st.sampled_from([num(0.0), num(1.0), num(2.0), num(3.0)])
DIVISORS = st.sampled_from([num(1.0), num(-1.0), num(2.0), num(0.5)])


def _wide(children):
    return st.one_of(
        _smooth(children),
        st.tuples(st.just("^"), children, EXPONENTS),
        st.tuples(st.just("/"), children, DIVISORS),
        st.tuples(st.sampled_from(["floor", "abs", "sign", "not"]), children),
        st.tuples(st.sampled_from(["and", "or", "xor", "eq", "ne"]), children, children),
        st.tuples(children, children, children).map(lambda c: ("select", *c)),
    )


WIDE_TREES = st.recursive(st.one_of(LEAVES, CONSTANTS), _wide, max_leaves=14)
# constant operands simplify removes: x + 0, 0 + x, x - 0, 0 - x, 0 * x, 1 * x, -1 * x, x / 1, 0 / x, x ^ 0, x ^ 1
LEFT_IDENTITY = {"+": {0.0}, "-": {0.0}, "*": {0.0, 1.0, -1.0}, "/": {0.0}, "^": set()}
RIGHT_IDENTITY = {"+": {0.0}, "-": {0.0}, "*": {0.0, 1.0, -1.0}, "/": {1.0}, "^": {0.0, 1.0}}


@PROPERTY
@given(tree=WIDE_TREES, seed=SEEDS)
def test_simplify_keeps_the_value_of_random_trees(tree, seed):
    """simplify(t) evaluates to exactly t's value, and leaves no foldable constant or identity."""
    points = np.random.default_rng(seed).uniform(-2.0, 2.0, (3, 2))
    simple = ex.simplify(tree)
    assert np.array_equal(run_at(simple, points), run_at(tree, points))
    for x, y in points:
        assert ex.evaluate(simple, {"x": x, "y": y}) == ex.evaluate(tree, {"x": x, "y": y})
    for node in nodes(simple):
        if node[0] in ("num", "sym"):
            continue
        assert not all(child[0] == "num" for child in node[1:]), node
        assert not (node[0] == "neg" and node[1][0] == "neg"), node
        if node[0] in LEFT_IDENTITY:
            a, b = node[1], node[2]
            assert not (a[0] == "num" and a[1] in LEFT_IDENTITY[node[0]]), node
            assert not (b[0] == "num" and b[1] in RIGHT_IDENTITY[node[0]]), node


# --- 4. bytecode and stack depth --------------------------------------------------------------


def test_deep_sums_compute_in_order_with_the_depth_they_need():
    """A 200-term sum nested to the left needs a stack of 2, nested to the right one of 200."""
    n = 200
    values = np.random.default_rng(4).normal(size=n) * 10.0 ** np.random.default_rng(5).integers(-8, 8, n)
    left = ("y", 0)
    for i in range(1, n):
        left = ("+", left, ("y", i))
    right = ("y", n - 1)
    for i in reversed(range(n - 1)):
        right = ("+", ("y", i), right)
    expected_left = 0.0
    for v in values:
        expected_left += v
    expected_right = values[-1]
    for v in values[-2::-1]:
        expected_right = v + expected_right
    for tree, depth, expected in ((left, 2, expected_left), (right, n, expected_right)):
        programs = ex.compile_programs([tree])
        assert programs.depth == depth == stack_height(programs, 0)
        assert ex.run_all(programs, values, np.zeros(1))[0, 0] == expected
    both = ex.compile_programs([left, right])
    assert both.depth == n
    assert list(ex.run_all(both, values, np.zeros(1))[0]) == [expected_left, expected_right]
    assert ex.derivative(right, ("y", 17)) == ("num", 1.0)


def test_select_and_unary_depths():
    """select stacks condition, then and else (depth 3); a unary chain reuses one slot."""
    assert ex.compile_programs([("select", ("y", 0), ("y", 1), ("y", 2))]).depth == 3
    chain = ("y", 0)
    for _ in range(50):
        chain = ("sin", chain)
    assert ex.compile_programs([chain]).depth == 1
    expected = 0.3
    for _ in range(50):
        expected = math.sin(expected)
    assert ex.run_all(ex.compile_programs([chain]), np.array([0.3]), np.zeros(1))[0, 0] == expected


@PROPERTY
@given(tree=WIDE_TREES)
def test_declared_depth_is_the_deepest_stack_the_program_reaches(tree):
    """For random trees compile_programs' depth equals the simulated maximum stack height."""
    programs = ex.compile_programs([resolve(tree), resolve(ex.simplify(tree))])
    assert programs.depth == max(stack_height(programs, 0), stack_height(programs, 1))


def test_unresolved_or_unknown_nodes_are_refused():
    """Compiling a bare symbol or an unknown operation, or evaluating without a value, raises."""
    with pytest.raises(ModelError, match="unresolved symbol 'x'"):
        ex.compile_programs([("+", X, num(1.0))])
    with pytest.raises(ModelError, match="unknown operation 'cbrt'"):
        ex.compile_programs([("cbrt", ("y", 0))])
    with pytest.raises(ModelError, match="no value for 'y'"):
        ex.evaluate(("*", X, Y), {"x": 1.0})


def test_to_infix():
    """The infix form shows operators, functions and piecewise(value, condition, otherwise)."""
    tree = ("select", ("gt", X, num(2.0)), ("*", X, ("neg", Y)), ("ln", num(0.5)))
    assert ex.to_infix(tree) == "piecewise((x * (-y)), gt(x, 2), ln(0.5))"


# --- 5. expression rate laws in networks ------------------------------------------------------


def _network(reactions, **kwargs):
    return wb.ReactionNetwork(reactions=reactions, **kwargs)


# Each case: the network's declaration, the built-in reaction, and the same law as an
# expression. Built-in rates are per volume (multiplied by the reaction's compartment volume W,
# here not the species' volume V); an Expression rate is amount per time, so it carries W itself.
XN = ("^", sym("X"), sym("n"))
NETWORK_CASES = {
    "hill": (
        dict(
            species={"X": wb.Species(1.2, "c"), "P": wb.Species(0.0, "c")},
            parameters={"vmax": 1.5, "K": 0.8, "n": 2.5, "kx": 0.3, "V": 2.0, "W": 0.4},
            compartments={"c": "V", "r": "W"},
        ),
        [("X ->", "kx")],
        wb.Reaction("-> P", Hill("vmax", "K", "n", regulator="X"), compartment="r"),
        (
            "-> P",
            ("*", sym("W"), ("/", ("*", sym("vmax"), XN), ("+", ("^", sym("K"), sym("n")), XN))),
        ),
    ),
    "michaelis-menten": (
        dict(
            species={"S": wb.Species(5.0, "c"), "P": wb.Species(0.0, "c")},
            parameters={"vmax": 2.0, "km": 1.5, "kp": 0.2, "V": 3.0, "W": 0.4},
            compartments={"c": "V", "r": "W"},
        ),
        [("P ->", "kp")],
        wb.Reaction("S -> P", MichaelisMenten("vmax", "km"), compartment="r"),
        ("S -> P", ("*", sym("W"), ("/", ("*", sym("vmax"), sym("S")), ("+", sym("km"), sym("S"))))),
    ),
    "mass action": (
        dict(
            species={"A": wb.Species(2.0, "c"), "B": wb.Species(1.5, "c"), "C": wb.Species(0.1, "c")},
            parameters={"k": 0.7, "kr": 0.05, "V": 2.5, "W": 0.6},
            compartments={"c": "V", "r": "W"},
        ),
        [("C -> A + 2 B", "kr")],
        wb.Reaction("A + 2 B -> C", "k", compartment="r"),
        ("A + 2 B -> C", ("*", sym("W"), ("*", ("*", sym("k"), sym("A")), ("^", sym("B"), num(2.0))))),
    ),
}


def _pair(case):
    declaration, common, builtin, (equation, tree) = NETWORK_CASES[case]
    expression = wb.Reaction(equation, Expression(tree), compartment=builtin.compartment)
    return _network([*common, builtin], **declaration), _network([*common, expression], **declaration)


def _dfdp(net, y):
    p = net.parameter_vector()
    n = y.size
    out = np.empty((n, p.size))
    kinetics.network_dfdp(net.arrays, p, np.zeros(n), y, np.empty(len(net.reactions)), np.empty(n), out)
    return out


@pytest.mark.parametrize("case", sorted(NETWORK_CASES))
def test_expression_law_equals_the_builtin_law(case):
    """rhs, Jacobian and d(rhs)/dp of an Expression law equal the built-in law's (rtol 1e-12)."""
    builtin, expression = _pair(case)
    assert expression.arrays.kind[-1] == kinetics.EXPRESSION
    assert builtin.arrays.kind[-1] != kinetics.EXPRESSION
    assert np.array_equal(builtin.parameter_vector(), expression.parameter_vector())
    rng = np.random.default_rng(7)
    for _ in range(5):
        y = rng.uniform(0.2, 4.0, len(builtin.species))
        np.testing.assert_allclose(expression.rates(y), builtin.rates(y), rtol=1e-12)
        np.testing.assert_allclose(expression.rhs(y), builtin.rhs(y), rtol=1e-12)
        jac = builtin.jacobian(y)
        np.testing.assert_allclose(expression.jacobian(y), jac, rtol=1e-12, atol=1e-12 * np.abs(jac).max())
        dfdp = _dfdp(builtin, y)
        assert np.any(dfdp[:, builtin.parameter_names.index("W")] != 0.0)  # the reaction volume counts
        np.testing.assert_allclose(_dfdp(expression, y), dfdp, rtol=1e-12, atol=1e-12 * np.abs(dfdp).max())


def test_only_expression_networks_carry_bytecode():
    """Built-in networks compile to a tuple without the ex_* fields (each costs every kernel
    call); networks with an Expression law to one with NetworkArrays' fields, then the bytecode."""
    builtin, expression = _pair("mass action")
    assert type(builtin.arrays) is kinetics.NetworkArrays
    assert type(expression.arrays) is kinetics.ExpressionNetworkArrays
    assert not [f for f in kinetics.NetworkArrays._fields if f.startswith("ex_")]
    assert all(f.startswith("ex_") for f in kinetics.EXPRESSION_FIELDS)
    assert kinetics.ExpressionNetworkArrays._fields == (*kinetics.NetworkArrays._fields, *kinetics.EXPRESSION_FIELDS)


def _as_expression_arrays(arrays):
    """A built-in network's arrays as the expression type, with no programs."""
    none = np.zeros(0, dtype=np.int64)
    ptr = np.zeros(len(arrays.kind) + 1, dtype=np.int64)
    return kinetics.ExpressionNetworkArrays(
        *arrays, ex_ptr=np.zeros(1, dtype=np.int64), ex_op=none, ex_arg=none, ex_val=np.zeros(0),
        ex_depth=np.zeros(1, dtype=np.int64), ex_dep_ptr=ptr, ex_dep_var=none, ex_dep_prog=none,
    )  # fmt: skip


@pytest.mark.parametrize("case", sorted(NETWORK_CASES))
def test_both_tuple_types_give_identical_results(case):
    """The kernels compiled for each tuple type agree bit for bit on a built-in network:
    rates, rhs, Jacobian, df/dp, SSA (direct and tau-leaping) and CLE ensembles."""
    net, _ = _pair(case)
    p = net.parameter_vector()
    n = len(net.species)
    y = np.random.default_rng(3).uniform(0.2, 4.0, n)
    times = np.linspace(0.0, 2.0, 5)
    common = dict(t0=0.0, n_runs=8, seed=11, volume=20.0, threads=None)
    outputs = []
    for arrays in (net.arrays, _as_expression_arrays(net.arrays)):
        v, dy, jac, dfdp = np.empty(len(net.reactions)), np.empty(n), np.empty((n, n)), np.empty((n, p.size))
        kinetics.network_rhs(arrays, p, np.zeros(n), y, v, dy)
        kinetics.network_jacobian(arrays, p, y, jac)
        kinetics.network_dfdp(arrays, p, np.zeros(n), y, np.empty(len(net.reactions)), np.empty(n), dfdp)
        ssa = [
            run_ssa(arrays, stochastic_arrays(arrays, n), net.species, p, net.initial_vector(), times,
                    method=method, epsilon=0.03, max_events=10**6, **common).counts
            for method in ("direct", "tau_leap")
        ]  # fmt: skip
        cle = run_cle(arrays, net.species, p, net.initial_vector(), times, dt=0.01, **common).counts
        outputs.append([v, dy, jac, dfdp, *ssa, cle])
    for a, b in zip(*outputs, strict=True):
        assert np.array_equal(a, b)


def test_cle_with_an_expression_law_follows_the_builtin_law():
    """The CLE with an Expression law runs like the built-in law (same seed, same noise)."""
    builtin, expression = _pair("michaelis-menten")
    a = builtin.cle(2.0, 5, n_runs=6, seed=4, volume=20.0, dt=0.01)
    b = expression.cle(2.0, 5, n_runs=6, seed=4, volume=20.0, dt=0.01)
    assert np.ptp(a.counts[:, :, 0]) > 1.0  # the copy numbers move
    np.testing.assert_allclose(b.counts, a.counts, rtol=1e-9)


@pytest.mark.parametrize("method", ["dopri5", "rodas4"])
@pytest.mark.parametrize("case", sorted(NETWORK_CASES))
def test_expression_law_simulates_like_the_builtin_law(case, method):
    """Trajectories (explicit, and Rosenbrock with the analytic Jacobian) agree to rtol 1e-9."""
    builtin, expression = _pair(case)
    a = builtin.simulate(10.0, 41, method=method, rtol=1e-8, atol=1e-10)
    b = expression.simulate(10.0, 41, method=method, rtol=1e-8, atol=1e-10)
    assert np.ptp(a.values, axis=0).min() > 0.01  # the trajectories move
    np.testing.assert_allclose(b.values, a.values, rtol=1e-9, atol=1e-12)


def test_expression_with_an_unknown_symbol_is_refused():
    """A rate law naming neither a species nor a parameter raises a ModelError naming it."""
    with pytest.raises(ModelError, match=r"'kcat'.*neither a species nor a parameter"):
        _network([("S ->", Expression(("*", sym("kcat"), sym("S"))))], species={"S": 1.0}, parameters={"k": 1.0})


def test_signed_networks_accept_negative_parameters():
    """signed=True admits a negative parameter into an expression; the default refuses it."""
    declaration = dict(species={"X": 1.0}, parameters={"a": -0.5}, reactions=[("-> X", Expression(sym("a")))])
    with pytest.raises(ModelError, match="'a' must be non-negative"):
        wb.ReactionNetwork(**declaration)
    net = wb.ReactionNetwork(**declaration, signed=True)
    assert list(net.rates()) == [-0.5]
    assert list(net.rhs(np.array([1.0]))) == [-0.5]


# --- 6. the SSA with expression propensities -------------------------------------------------


@pytest.mark.parametrize("volume", [1.0, 3.0])
def test_ssa_birth_death_with_expression_laws_is_poisson(volume):
    """-> X at rate k and X -> at rate g X settle to Poisson(volume k / g) copies."""
    k, g = 6.0, 1.0
    net = wb.ReactionNetwork(
        species={"X": 0.0},
        parameters={"k": k, "g": g},
        reactions=[("-> X", Expression(sym("k"))), ("X ->", Expression(("*", sym("g"), sym("X"))))],
    )
    t_end = 15.0  # the mean is within volume k / g * exp(-15) < 1e-5 of stationary
    final = net.ssa(t=[0.0, t_end], n_runs=4000, seed=2718, volume=volume)["X"][:, -1]
    mean = volume * k / g
    assert abs(final.mean() - mean) < Z * se_mean(final)
    assert abs(final.var(ddof=1) - mean) < Z * se_variance(final)
    counts = final.astype(np.int64)
    assert chi_square_pvalue(np.bincount(counts), sps.poisson(mean).pmf(np.arange(counts.max() + 1))) > 1e-3
