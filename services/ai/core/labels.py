"""Training targets: the direction of the next-N-bar return (down/flat/up) or the return itself.

The label at bar t uses closes t and t+horizon; the last `horizon` bars have none (NaN), so evaluation
must leave an embargo of at least `horizon` bars between a training set and the test set after it.
"""

from __future__ import annotations

from typing import Annotated, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from shared.ml.artifacts import CLASS_NAMES


class _Label(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    horizon: int = Field(default=1, ge=1, le=1000, description="bars ahead")


class DirectionLabel(_Label):
    """Class of the log return over `horizon` bars: up above +threshold, down below -threshold, else flat."""

    kind: Literal["direction"] = "direction"
    threshold: float = Field(default=0.0, ge=0, lt=1, description="log return, e.g. 0.0005 = 5 bp")


class ReturnLabel(_Label):
    """The log return over `horizon` bars (regression)."""

    kind: Literal["return"] = "return"
    threshold: float = Field(
        default=0.0, ge=0, lt=1, description="predicted returns within ±threshold count as flat when trading"
    )


LabelSpec = Annotated[DirectionLabel | ReturnLabel, Field(discriminator="kind")]


def forward_returns(close: np.ndarray, horizon: int) -> np.ndarray:
    """log(close[t+horizon] / close[t]) at t; NaN for the last `horizon` bars."""
    log_close = np.log(np.asarray(close, dtype=np.float64))
    out = np.full(len(log_close), np.nan)
    if len(log_close) > horizon:
        out[:-horizon] = log_close[horizon:] - log_close[:-horizon]
    return out


def direction(values: np.ndarray, threshold: float) -> np.ndarray:
    """-1, 0 or +1 per value (NaN stays NaN) with a dead band of ±threshold."""
    out = np.where(values > threshold, 1.0, np.where(values < -threshold, -1.0, 0.0))
    return np.where(np.isnan(values), np.nan, out)


def make_labels(close: np.ndarray, label: DirectionLabel | ReturnLabel) -> np.ndarray:
    """Per-bar targets: direction codes (-1/0/+1) or returns; NaN where the future is not known."""
    returns = forward_returns(close, label.horizon)
    return direction(returns, label.threshold) if isinstance(label, DirectionLabel) else returns


def class_names(codes: np.ndarray) -> list[str]:
    """Names of the direction codes present, in code order (down, flat, up)."""
    return [CLASS_NAMES[int(c)] for c in np.unique(codes[~np.isnan(codes)])]
