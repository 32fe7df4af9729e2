"""`ml_signal`: trade a registered model's predictions, in backtests and live.

The model is read from its artifact folder, not over HTTP (a vectorised `signals(bars)` cannot call a
service per bar, and a backtest must not depend on the ai service running). The folder is always
`<data_dir>/models` of the platform config (`$MT5P_CONFIG`, else the project's config.json), the folder
the ai service registers models in: never one a request names, since loading a model unpickles it. The model is named by
`model_id`, or by `model_name` and optionally `model_version` (default: the latest version).

Features are computed from the bars with the model's own feature specs (shared.ml.features), so every
prediction at bar t uses bars 0..t only. Long while P(up) ≥ min_probability, short while
P(down) ≥ min_probability (the likelier side when both are), flat otherwise: a long position is exited
when the prediction turns down or flat, a short one when it turns up or flat.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from pydantic import Field, model_validator

from shared.errors import InvalidInputError
from shared.ml.artifacts import (
    ArtifactMeta,
    LoadedModel,
    default_models_dir,
    find_model_dir,
    load_model,
    read_meta,
)
from shared.trading.strategy import Bars, ParamRuleError, Signals, Strategy, StrategyParams, column


class MlSignalParams(StrategyParams):
    model_id: str | None = Field(default=None, description="registered model id")
    model_name: str | None = Field(default=None, description="registered model name (instead of model_id)")
    model_version: int | None = Field(default=None, ge=1, description="with model_name; default: latest")
    min_probability: float = Field(default=0.55, gt=0, le=1, description="least class probability to trade")
    allow_short: bool = Field(default=True, description="also trade the short side")

    @model_validator(mode="after")
    def _one_reference(self) -> MlSignalParams:
        if (self.model_id is None) == (self.model_name is None):
            raise ParamRuleError("model_id", "give model_id or model_name (not both)")
        if self.model_version is not None and self.model_name is None:
            raise ParamRuleError("model_version", "model_version goes with model_name")
        return self


class MlSignal(Strategy[MlSignalParams]):
    """Long on a confident 'up' prediction, short on a confident 'down', out otherwise."""

    name = "ml_signal"
    description = "Trade a registered model's up/down predictions"
    Params = MlSignalParams

    def __init__(self, params: MlSignalParams) -> None:
        super().__init__(params)
        self._folder = find_model_dir(
            default_models_dir(),
            model_id=params.model_id,
            name=params.model_name,
            version=params.model_version,
        )
        self.meta: ArtifactMeta = read_meta(self._folder)
        if self.meta.task != "classification" or not {"up", "down"} & set(self.meta.classes):
            raise InvalidInputError(
                f"model {self.meta.id} does not predict up/down classes",
                code="invalid_params",
                details={
                    "strategy": self.name,
                    "errors": [{"field": "model_id", "message": "not a direction model"}],
                },
            )
        self._model: LoadedModel | None = None

    def __getstate__(self) -> dict[str, Any]:
        # Sent to backtest worker processes: the loaded model stays behind and is loaded again there.
        return {**self.__dict__, "_model": None}

    @property
    def warmup(self) -> int:
        return self.meta.lookback + 1

    @property
    def sets_stop_loss(self) -> bool:
        return False

    def signals(self, bars: Bars) -> Signals:
        n = len(column(bars, "close"))
        if self._model is None:
            self._model = load_model(self._folder)
        side = np.full(n, np.nan)  # +1 long, -1 short, 0 flat; NaN where the model cannot predict yet
        if n > self.meta.lookback:
            columns = {name: np.asarray(bars[name]) for name in ("time", "open", "high", "low", "close")}
            rows, proba = self._model.predict_bars(columns)
            side[rows] = self._side(proba)
        known = ~np.isnan(side)
        return Signals(
            entry_long=side == 1,
            exit_long=known & (side != 1),
            entry_short=side == -1,
            exit_short=known & (side != -1),
        )

    def _side(self, proba: np.ndarray) -> np.ndarray:
        classes = self.meta.classes
        p_up = proba[:, classes.index("up")] if "up" in classes else np.zeros(len(proba))
        p_down = proba[:, classes.index("down")] if "down" in classes else np.zeros(len(proba))
        if not self.params.allow_short:
            p_down = np.zeros(len(proba))
        threshold = self.params.min_probability
        long_ = (p_up >= threshold) & (p_up >= p_down)
        short = (p_down >= threshold) & (p_down > p_up)
        return np.where(long_, 1.0, np.where(short, -1.0, 0.0))
