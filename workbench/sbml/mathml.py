"""libsbml's MathML syntax trees to workbench expression trees.

Every construct is translated node by node from libsbml's parsed AST; nothing is evaluated
from a string. Function definitions are inlined where they are called.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import libsbml

from ..core import expression as ex
from ..errors import SBMLError, UnsupportedSBMLError

__all__ = ["TIME", "ast_to_tree"]

#: The symbol standing for simulation time (SBML's csymbol time) in translated trees.
TIME = "\x00time"
#: SBML's csymbol rateOf(x), kept as a node for the reader to resolve: ("rateOf", name).
RATE_OF = "rateOf"

_UNARY = {
    libsbml.AST_FUNCTION_EXP: "exp",
    libsbml.AST_FUNCTION_LN: "ln",
    libsbml.AST_FUNCTION_ABS: "abs",
    libsbml.AST_FUNCTION_FLOOR: "floor",
    libsbml.AST_FUNCTION_CEILING: "ceil",
    libsbml.AST_FUNCTION_FACTORIAL: "factorial",
    libsbml.AST_FUNCTION_SIN: "sin",
    libsbml.AST_FUNCTION_COS: "cos",
    libsbml.AST_FUNCTION_TAN: "tan",
    libsbml.AST_FUNCTION_ARCSIN: "asin",
    libsbml.AST_FUNCTION_ARCCOS: "acos",
    libsbml.AST_FUNCTION_ARCTAN: "atan",
    libsbml.AST_FUNCTION_SINH: "sinh",
    libsbml.AST_FUNCTION_COSH: "cosh",
    libsbml.AST_FUNCTION_TANH: "tanh",
    libsbml.AST_FUNCTION_ARCSINH: "asinh",
    libsbml.AST_FUNCTION_ARCCOSH: "acosh",
    libsbml.AST_FUNCTION_ARCTANH: "atanh",
    libsbml.AST_LOGICAL_NOT: "not",
}
# reciprocal functions: f(x) = 1 / g(x), and inverse ones: f(x) = g(1 / x)
_RECIPROCAL = {
    libsbml.AST_FUNCTION_SEC: "cos",
    libsbml.AST_FUNCTION_CSC: "sin",
    libsbml.AST_FUNCTION_COT: "tan",
    libsbml.AST_FUNCTION_SECH: "cosh",
    libsbml.AST_FUNCTION_CSCH: "sinh",
    libsbml.AST_FUNCTION_COTH: "tanh",
}
_OF_RECIPROCAL = {
    libsbml.AST_FUNCTION_ARCSEC: "acos",
    libsbml.AST_FUNCTION_ARCCSC: "asin",
    libsbml.AST_FUNCTION_ARCCOT: "atan",
    libsbml.AST_FUNCTION_ARCSECH: "acosh",
    libsbml.AST_FUNCTION_ARCCSCH: "asinh",
    libsbml.AST_FUNCTION_ARCCOTH: "atanh",
}
_RELATIONAL = {
    libsbml.AST_RELATIONAL_EQ: "eq",
    libsbml.AST_RELATIONAL_NEQ: "ne",
    libsbml.AST_RELATIONAL_LT: "lt",
    libsbml.AST_RELATIONAL_LEQ: "le",
    libsbml.AST_RELATIONAL_GT: "gt",
    libsbml.AST_RELATIONAL_GEQ: "ge",
}
_BINARY_FUNCTIONS = {
    libsbml.AST_FUNCTION_QUOTIENT: "quotient",
    libsbml.AST_FUNCTION_REM: "rem",
}
_NARY = {
    libsbml.AST_FUNCTION_MAX: "max",
    libsbml.AST_FUNCTION_MIN: "min",
}
#: The ``distrib`` package's draws (csymbols), as :data:`workbench.core.expression.RANDOM` names.
_DISTRIBUTIONS = {getattr(libsbml, f"AST_DISTRIB_FUNCTION_{name.upper()}"): name for name in ex.RANDOM}

#: The value SBML Level 3 fixes for csymbol avogadro (the SBML Test Suite expects it in L3v2 too).
AVOGADRO = 6.02214179e23


def _fold(op: str, args: list[tuple], empty: tuple) -> tuple:
    if not args:
        return empty
    tree = args[0]
    for arg in args[1:]:
        tree = (op, tree, arg)
    return tree


def ast_to_tree(
    node: libsbml.ASTNode,
    functions: Mapping[str, tuple[list[str], tuple]],
    *,
    version: int = 2,
    where: str = "math",
) -> tuple:
    """Translate a libsbml AST into an expression tree.

    Parameters
    ----------
    node : libsbml.ASTNode
    functions : mapping
        Function definitions by id: (argument names, body tree), inlined at each call.
    version : int
        SBML Level 3 version.
    where : str
        Where the math comes from, for error messages.

    Raises
    ------
    UnsupportedSBMLError
        For ``delay`` and for constructs from packages.
    SBMLError
        For malformed math.
    """
    if node is None:
        raise SBMLError(f"{where}: missing math")

    def walk(n: libsbml.ASTNode) -> tuple:
        kind = n.getType()
        kids = [n.getChild(i) for i in range(n.getNumChildren())]
        if kind == libsbml.AST_INTEGER:
            return ex.num(n.getInteger())
        if kind in (libsbml.AST_REAL, libsbml.AST_REAL_E):
            return ex.num(n.getReal())
        if kind == libsbml.AST_RATIONAL:
            return ex.num(n.getNumerator() / n.getDenominator())
        if kind == libsbml.AST_NAME:
            return ("sym", n.getName())
        if kind == libsbml.AST_NAME_TIME:
            return ("sym", TIME)
        if kind == libsbml.AST_NAME_AVOGADRO:
            return ex.num(AVOGADRO)
        if kind == libsbml.AST_CONSTANT_E:
            return ex.num(math.e)
        if kind == libsbml.AST_CONSTANT_PI:
            return ex.num(math.pi)
        if kind == libsbml.AST_CONSTANT_TRUE:
            return ex.ONE
        if kind == libsbml.AST_CONSTANT_FALSE:
            return ex.ZERO
        if kind == libsbml.AST_FUNCTION_DELAY:
            raise UnsupportedSBMLError("csymbol delay", where)
        if kind == libsbml.AST_FUNCTION_RATE_OF:
            if len(kids) != 1 or kids[0].getType() != libsbml.AST_NAME:
                raise UnsupportedSBMLError("csymbol rateOf of an expression", where)
            return (RATE_OF, kids[0].getName())
        args = [walk(k) for k in kids]
        if kind == libsbml.AST_PLUS:
            return _fold("+", args, ex.ZERO)
        if kind == libsbml.AST_TIMES:
            return _fold("*", args, ex.ONE)
        if kind == libsbml.AST_MINUS:
            if len(args) == 1:
                return ("neg", args[0])
            return _fold("-", args, ex.ZERO)
        if kind == libsbml.AST_DIVIDE:
            _arity(args, 2, "divide", where)
            return ("/", args[0], args[1])
        if kind in (libsbml.AST_POWER, libsbml.AST_FUNCTION_POWER):
            _arity(args, 2, "power", where)
            return ("^", args[0], args[1])
        if kind == libsbml.AST_FUNCTION_ROOT:
            if len(args) == 1:
                return ("sqrt", args[0])
            _arity(args, 2, "root", where)
            if args[0] == ex.num(2.0):
                return ("sqrt", args[1])
            return ("^", args[1], ("/", ex.ONE, args[0]))
        if kind == libsbml.AST_FUNCTION_LOG:
            if len(args) == 1:
                return ("log10", args[0])
            _arity(args, 2, "log", where)
            if args[0] == ex.num(10.0):
                return ("log10", args[1])
            return ("/", ("ln", args[1]), ("ln", args[0]))
        if kind in _UNARY:
            _arity(args, 1, _UNARY[kind], where)
            return (_UNARY[kind], args[0])
        if kind in _RECIPROCAL:
            _arity(args, 1, "function", where)
            return ("/", ex.ONE, (_RECIPROCAL[kind], args[0]))
        if kind in _OF_RECIPROCAL:
            _arity(args, 1, "function", where)
            return (_OF_RECIPROCAL[kind], ("/", ex.ONE, args[0]))
        if kind in _RELATIONAL:
            op = _RELATIONAL[kind]
            if len(args) < 2:
                return ex.ONE
            if op == "ne":
                _arity(args, 2, "neq", where)
            pairs = [(op, args[i], args[i + 1]) for i in range(len(args) - 1)]
            return _fold("and", pairs, ex.ONE)
        if kind == libsbml.AST_LOGICAL_AND:
            return _fold("and", args, ex.ONE)
        if kind == libsbml.AST_LOGICAL_OR:
            return _fold("or", args, ex.ZERO)
        if kind == libsbml.AST_LOGICAL_XOR:
            return _fold("xor", args, ex.ZERO)
        if kind == libsbml.AST_LOGICAL_IMPLIES:
            _arity(args, 2, "implies", where)
            return ("or", ("not", args[0]), args[1])
        if kind in _BINARY_FUNCTIONS:
            _arity(args, 2, _BINARY_FUNCTIONS[kind], where)
            return (_BINARY_FUNCTIONS[kind], args[0], args[1])
        if kind in _NARY:
            if not args:
                raise SBMLError(f"{where}: {_NARY[kind]} needs arguments")
            return _fold(_NARY[kind], args, ex.ZERO)
        if kind in _DISTRIBUTIONS:
            name = _DISTRIBUTIONS[kind]
            if len(args) not in ex.draw_arities(name):
                arities = " or ".join(map(str, ex.draw_arities(name)))
                raise SBMLError(f"{where}: {name} takes {arities} arguments, got {len(args)}")
            return (name, *args)
        if kind == libsbml.AST_FUNCTION_PIECEWISE:
            otherwise = args[-1] if len(args) % 2 == 1 else ex.num(math.nan)
            tree = otherwise
            for i in range(len(args) - (len(args) % 2) - 2, -1, -2):
                tree = ("select", args[i + 1], args[i], tree)
            return tree
        if kind == libsbml.AST_FUNCTION:
            name = n.getName()
            if name not in functions:
                raise SBMLError(f"{where}: call of undefined function {name!r}")
            params, body = functions[name]
            if len(params) != len(args):
                raise SBMLError(f"{where}: {name} takes {len(params)} arguments, got {len(args)}")
            return ex.substitute(body, dict(zip(params, args, strict=True)))
        if kind == libsbml.AST_LAMBDA:
            raise SBMLError(f"{where}: a lambda outside a function definition")
        raise UnsupportedSBMLError(f"MathML element {n.getName() or kind!r}", where)

    return walk(node)


def _arity(args: list, n: int, what: str, where: str) -> None:
    if len(args) != n:
        raise SBMLError(f"{where}: {what} takes {n} arguments, got {len(args)}")


def function_definitions(model: libsbml.Model, version: int) -> dict[str, tuple[list[str], tuple]]:
    """The model's function definitions as (argument names, body tree), in document order."""
    functions: dict[str, tuple[list[str], tuple]] = {}
    for fd in model.getListOfFunctionDefinitions():
        lam = fd.getMath()
        where = f"function definition {fd.getId()!r}"
        if lam is None or lam.getType() != libsbml.AST_LAMBDA:
            continue  # allowed while nothing calls it; a call then names the missing function
        n_args = lam.getNumBvars()
        names = [lam.getChild(i).getName() for i in range(n_args)]
        body = ast_to_tree(lam.getChild(lam.getNumChildren() - 1), functions, version=version, where=where)
        functions[fd.getId()] = (names, body)
    return functions
