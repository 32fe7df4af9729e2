"""Search-space constraints written as one comparison between two parameters or numbers ("fast < slow",
"stop_pips >= 10"): parsed by a tiny grammar, never evaluated as code."""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from typing import Any

from shared.errors import InvalidInputError

_OPERATORS: dict[str, Callable[[Any, Any], bool]] = {
    "<=": operator.le,
    ">=": operator.ge,
    "==": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    ">": operator.gt,
}
_OPERAND = r"\s*([A-Za-z_][A-Za-z0-9_]*|[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*"
_PATTERN = re.compile(rf"^{_OPERAND}(<=|>=|==|!=|<|>){_OPERAND}$")

Operand = str | float


@dataclass(frozen=True, slots=True)
class Constraint:
    """`left op right`; a str operand names a parameter, a float is a literal."""

    text: str
    left: Operand
    op: str
    right: Operand

    def holds(self, params: Mapping[str, Any]) -> bool:
        """Whether `params` satisfy the comparison (a parameter missing from `params` never does)."""
        try:
            left, right = (params[v] if isinstance(v, str) else v for v in (self.left, self.right))
            return bool(_OPERATORS[self.op](left, right))
        except (KeyError, TypeError):
            return False


def _operand(token: str) -> Operand:
    try:
        return float(token)
    except ValueError:
        return token


def parse_constraint(text: str, names: Collection[str], *, field: str = "constraints") -> Constraint:
    """Parse "a < b"; operands must be parameter `names` or numbers, and at least one a parameter."""
    match = _PATTERN.match(text)
    if match is None:
        raise InvalidInputError(
            f"constraint {text!r} is not a comparison like 'fast < slow' (operators: < <= > >= == !=)",
            code="invalid_constraint",
            details={"field": field, "constraint": text},
        )
    left, op, right = _operand(match[1]), match[2], _operand(match[3])
    unknown = [v for v in (left, right) if isinstance(v, str) and v not in names]
    if unknown or not any(isinstance(v, str) for v in (left, right)):
        raise InvalidInputError(
            f"constraint {text!r} must compare parameters of the search ({', '.join(sorted(names))})",
            code="invalid_constraint",
            details={"field": field, "constraint": text, "unknown": unknown},
        )
    return Constraint(text=text, left=left, op=op, right=right)


def parse_constraints(texts: list[str], names: Collection[str]) -> list[Constraint]:
    """Every constraint parsed, the failing one named by its index in the request."""
    return [parse_constraint(t, names, field=f"constraints.{k}") for k, t in enumerate(texts)]
