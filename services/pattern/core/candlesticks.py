"""The 61 TA-Lib candlestick patterns: what each means and where it occurs in a series of bars.

TA-Lib returns, per bar, 0 (no pattern), ±100 (pattern) or ±200 (a confirmed Hikkake). Its sign is not
always the market direction: some one-sided patterns are always reported +100 (Gravestone Doji, whose
reading is bearish), and indecision candles carry the candle's colour or a constant. So each pattern has a
`bias` (the table below, from the standard readings in Nison and Bulkowski, checked against the signs
TA-Lib emits) and a detection's direction is:

- `bullish` / `bearish` patterns: that bias, whatever the sign;
- `both` patterns (engulfing, harami, ...): bullish when TA-Lib's output is positive, bearish when negative;
- `neutral` patterns (doji, spinning top, ...): neutral.

Strength is |output|: 100, or 200 for a confirmed Hikkake.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from services.pattern.core.catalog import Catalog
from services.pattern.core.compute import BarInputs, Bars, run
from services.pattern.core.spec import Spec

Bias = Literal["bullish", "bearish", "both", "neutral"]

BIAS: dict[str, Bias] = {
    "CDL2CROWS": "bearish",
    "CDL3BLACKCROWS": "bearish",
    "CDL3INSIDE": "both",
    "CDL3LINESTRIKE": "both",
    "CDL3OUTSIDE": "both",
    "CDL3STARSINSOUTH": "bullish",
    "CDL3WHITESOLDIERS": "bullish",
    "CDLABANDONEDBABY": "both",
    "CDLADVANCEBLOCK": "bearish",
    "CDLBELTHOLD": "both",
    "CDLBREAKAWAY": "both",
    "CDLCLOSINGMARUBOZU": "both",
    "CDLCONCEALBABYSWALL": "bullish",
    "CDLCOUNTERATTACK": "both",
    "CDLDARKCLOUDCOVER": "bearish",
    "CDLDOJI": "neutral",
    "CDLDOJISTAR": "both",
    "CDLDRAGONFLYDOJI": "bullish",
    "CDLENGULFING": "both",
    "CDLEVENINGDOJISTAR": "bearish",
    "CDLEVENINGSTAR": "bearish",
    "CDLGAPSIDESIDEWHITE": "both",
    "CDLGRAVESTONEDOJI": "bearish",  # TA-Lib reports +100; the reading is bearish
    "CDLHAMMER": "bullish",
    "CDLHANGINGMAN": "bearish",
    "CDLHARAMI": "both",
    "CDLHARAMICROSS": "both",
    "CDLHIGHWAVE": "neutral",
    "CDLHIKKAKE": "both",
    "CDLHIKKAKEMOD": "both",
    "CDLHOMINGPIGEON": "bullish",
    "CDLIDENTICAL3CROWS": "bearish",
    "CDLINNECK": "bearish",
    "CDLINVERTEDHAMMER": "bullish",
    "CDLKICKING": "both",
    "CDLKICKINGBYLENGTH": "both",
    "CDLLADDERBOTTOM": "bullish",
    "CDLLONGLEGGEDDOJI": "neutral",
    "CDLLONGLINE": "both",
    "CDLMARUBOZU": "both",
    "CDLMATCHINGLOW": "bullish",
    "CDLMATHOLD": "bullish",  # TA-Lib detects the bullish (upside) mat hold only
    "CDLMORNINGDOJISTAR": "bullish",
    "CDLMORNINGSTAR": "bullish",
    "CDLONNECK": "bearish",
    "CDLPIERCING": "bullish",
    "CDLRICKSHAWMAN": "neutral",
    "CDLRISEFALL3METHODS": "both",
    "CDLSEPARATINGLINES": "both",
    "CDLSHOOTINGSTAR": "bearish",
    "CDLSHORTLINE": "neutral",
    "CDLSPINNINGTOP": "neutral",
    "CDLSTALLEDPATTERN": "bearish",
    "CDLSTICKSANDWICH": "bullish",
    "CDLTAKURI": "bullish",
    "CDLTASUKIGAP": "both",
    "CDLTHRUSTING": "bearish",
    "CDLTRISTAR": "both",
    "CDLUNIQUE3RIVER": "bullish",
    "CDLUPSIDEGAP2CROWS": "bearish",
    "CDLXSIDEGAP3METHODS": "both",
}


def describe_patterns(catalog: Catalog) -> list[dict[str, Any]]:
    """The `GET /patterns` list: name, description, bias and parameters of every candlestick pattern."""
    return [
        {
            "name": info.name,
            "description": info.display_name,
            "direction": BIAS[info.name],
            "parameters": [p.to_dict() for p in info.parameters],
        }
        for info in sorted(catalog.values(), key=lambda f: f.name)
    ]


_DIRECTION_NAMES = np.array(["bullish", "bearish", "neutral"], dtype=object)
_DIRECTION_CODE = {"bullish": 0, "bearish": 1, "neutral": 2}


@dataclass(frozen=True, slots=True)
class Detections:
    """Pattern occurrences, column-oriented and ordered by bar then by the order the specs were given.

    `pattern`, `label` and `direction` are numpy object arrays of str, so selecting rows stays vectorised.
    """

    index: np.ndarray
    time: np.ndarray
    pattern: np.ndarray
    label: np.ndarray
    direction: np.ndarray
    strength: np.ndarray

    def __len__(self) -> int:
        return len(self.index)

    def since(self, index: int) -> Detections:
        """Only occurrences at bar `index` or later (live detection keeps the last bar's)."""
        keep = self.index >= index
        return Detections(
            self.index[keep],
            self.time[keep],
            self.pattern[keep],
            self.label[keep],
            self.direction[keep],
            self.strength[keep],
        )

    def to_records(self) -> list[dict[str, Any]]:
        """One dict per occurrence: time, pattern, label, direction, strength."""
        return [
            {"time": t, "pattern": p, "label": lb, "direction": d, "strength": s}
            for t, p, lb, d, s in zip(
                self.time.tolist(),
                self.pattern.tolist(),
                self.label.tolist(),
                self.direction.tolist(),
                self.strength.tolist(),
                strict=True,
            )
        ]


def detect_patterns(specs: Iterable[Spec], bars: Bars) -> Detections:
    """Where each candlestick spec fires over `bars`, with direction and strength as the module says."""
    inputs = BarInputs(bars)
    indices, values, numbers, codes = [], [], [], []
    names: list[str] = []
    labels: list[str] = []
    for number, spec in enumerate(specs):
        (output,) = run(spec, inputs)
        hits = np.flatnonzero(output)
        indices.append(hits)
        values.append(output[hits])
        numbers.append(np.full(len(hits), number, dtype=np.int64))
        codes.append(_direction_codes(BIAS[spec.name], output[hits]))
        names.append(spec.name)
        labels.append(spec.label)
    if not indices:
        empty = np.empty(0, dtype=object)
        return Detections(
            np.empty(0, np.int64), np.empty(0, np.int64), empty, empty, empty, np.empty(0, np.int32)
        )
    index = np.concatenate(indices).astype(np.int64)
    spec_number = np.concatenate(numbers)
    order = np.lexsort((spec_number, index))
    index, spec_number = index[order], spec_number[order]
    return Detections(
        index=index,
        time=inputs.time[index],
        pattern=np.array(names, dtype=object)[spec_number],
        label=np.array(labels, dtype=object)[spec_number],
        direction=_DIRECTION_NAMES[np.concatenate(codes)[order]],
        strength=np.abs(np.concatenate(values)[order]).astype(np.int32),
    )


def _direction_codes(bias: Bias, values: np.ndarray) -> np.ndarray:
    if bias == "both":
        return np.where(values > 0, _DIRECTION_CODE["bullish"], _DIRECTION_CODE["bearish"])
    return np.full(len(values), _DIRECTION_CODE[bias])
