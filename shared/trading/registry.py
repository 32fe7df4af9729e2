"""Strategy look-up by name, parameter validation into domain errors, and loading user strategy folders."""

from __future__ import annotations

import hashlib
import importlib.util
import inspect
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from shared.errors import InvalidInputError, NotFoundError
from shared.trading.builtins import BUILTIN_STRATEGIES
from shared.trading.ml_signal import MlSignal
from shared.trading.strategy import ParamRuleError, Strategy

StrategyClass = type[Strategy]


def _param_errors(exc: ValidationError) -> list[dict[str, Any]]:
    """Pydantic errors as [{field, rule, message}], naming the field even for cross-field rules."""
    errors = []
    for err in exc.errors(include_url=False):
        cause = (err.get("ctx") or {}).get("error")
        if isinstance(cause, ParamRuleError):
            field, message = cause.field, str(cause)
        else:
            field = ".".join(str(part) for part in err["loc"]) or "params"
            message = f"{field}: {err['msg']}"
        errors.append({"field": field, "rule": err["type"], "message": message})
    return errors


class StrategyRegistry:
    """Strategies by name. Built once (built-ins plus user folders) and passed to whoever needs it."""

    def __init__(self, strategies: Iterable[StrategyClass] = ()) -> None:
        self._by_name: dict[str, StrategyClass] = {}
        for cls in strategies:
            self.register(cls)

    @classmethod
    def with_builtins(cls) -> StrategyRegistry:
        """A registry holding the built-in strategies and `ml_signal` (which trades a registered model)."""
        return cls((*BUILTIN_STRATEGIES, MlSignal))

    def register(self, cls: StrategyClass) -> None:
        """Add a strategy class; a second class under a taken name is refused."""
        existing = self._by_name.get(cls.name)
        if existing is not None and existing is not cls:
            raise ValueError(f"strategy name {cls.name!r} is already registered by {existing.__qualname__}")
        self._by_name[cls.name] = cls

    def names(self) -> list[str]:
        """Registered names, sorted."""
        return sorted(self._by_name)

    def describe(self) -> list[dict[str, Any]]:
        """Name, description and parameter JSON Schema of every strategy, for listings and forms."""
        return [
            {"name": name, "description": cls.description, "params_schema": cls.params_schema()}
            for name, cls in sorted(self._by_name.items())
        ]

    def get(self, name: str) -> StrategyClass:
        """The class registered under `name`."""
        try:
            return self._by_name[name]
        except KeyError:
            raise NotFoundError(
                f"unknown strategy {name!r}",
                code="unknown_strategy",
                details={"strategy": name, "available": self.names()},
            ) from None

    def build(self, name: str, params: Mapping[str, Any] | None = None) -> Strategy:
        """An instance of strategy `name` with validated `params` (defaults for those left out)."""
        cls = self.get(name)
        try:
            return cls.from_dict(params or {})
        except ValidationError as exc:
            errors = _param_errors(exc)
            raise InvalidInputError(
                f"invalid parameters for {name}: " + "; ".join(e["message"] for e in errors),
                code="invalid_params",
                details={"strategy": name, "errors": errors},
            ) from None


def load_strategy_folder(path: str | Path) -> list[StrategyClass]:
    """Import every module in `path` and return the concrete Strategy subclasses defined there."""
    folder = Path(path)
    if not folder.is_dir():
        raise NotFoundError(f"strategy folder {str(folder)!r} does not exist", code="strategy_folder_missing")
    # A per-folder prefix keeps two folders with a same-named module from replacing each other; the name
    # has no dot so pickle can find the module in sys.modules of a forked worker.
    prefix = "user_strategies_" + hashlib.sha1(str(folder.resolve()).encode()).hexdigest()[:8]
    found: list[StrategyClass] = []
    for file in sorted(folder.glob("*.py")):
        if file.name.startswith("_"):
            continue
        module_name = f"{prefix}_{file.stem}"
        spec = importlib.util.spec_from_file_location(module_name, file)
        if spec is None or spec.loader is None:
            continue
        module = importlib.util.module_from_spec(spec)
        sys.modules[module_name] = module
        spec.loader.exec_module(module)
        for obj in vars(module).values():
            if (
                inspect.isclass(obj)
                and issubclass(obj, Strategy)
                and obj.__module__ == module_name
                and not inspect.isabstract(obj)
            ):
                found.append(obj)
    return found


_BUILTINS = StrategyRegistry.with_builtins()


def list_strategies(registry: StrategyRegistry = _BUILTINS) -> list[dict[str, Any]]:
    """Every strategy with its parameter schema (built-ins unless another registry is given)."""
    return registry.describe()


def get_strategy(name: str, registry: StrategyRegistry = _BUILTINS) -> StrategyClass:
    """The strategy class registered under `name`; NotFoundError(code="unknown_strategy") if none."""
    return registry.get(name)


def build_strategy(
    name: str, params: Mapping[str, Any] | None = None, registry: StrategyRegistry = _BUILTINS
) -> Strategy:
    """A validated strategy instance; InvalidInputError(code="invalid_params") naming the broken rule."""
    return registry.build(name, params)
