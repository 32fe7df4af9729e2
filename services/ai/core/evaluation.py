"""Walk-forward evaluation: time-ordered folds with an embargo gap, prediction metrics, and a trading
evaluation of following the predictions after spread against a majority-class baseline and buy-and-hold.

Folds: the samples are cut into `folds + 1` consecutive blocks; fold k tests block k and trains on every
sample at least `embargo` bars before the block's first bar (an expanding window). With an embargo of at
least the label horizon no training label looks into the test period.

Trading: at the close of each out-of-sample bar t the position is set from the prediction (+1 up, -1 down,
0 flat) and held for one bar, earning close[t+1]/close[t] - 1. Each unit of position change costs half the
spread (a round trip costs one spread), as a fraction of the close. Returns are summed (no compounding).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

POSITION_OF_CLASS = {"down": -1.0, "flat": 0.0, "up": 1.0}


@dataclass(frozen=True, slots=True)
class Fold:
    """Positions (into the sample arrays) of one fold's training and test samples."""

    number: int
    train: np.ndarray
    test: np.ndarray


def walk_forward_folds(sample_bars: np.ndarray, folds: int, embargo: int) -> list[Fold]:
    """Expanding-window folds over samples at increasing bar indices `sample_bars`."""
    blocks = np.array_split(np.arange(len(sample_bars)), folds + 1)
    out = []
    for number, test in enumerate(blocks[1:], start=1):
        first_test_bar = sample_bars[test[0]]
        train = np.flatnonzero(sample_bars < first_test_bar - embargo)
        out.append(Fold(number, train, test))
    return out


def classification_metrics(targets: np.ndarray, proba: np.ndarray) -> dict[str, Any]:
    """Accuracy, balanced accuracy, macro precision/recall/F1, ROC AUC (one-vs-rest) and log loss."""
    from sklearn import metrics

    n_classes = proba.shape[1]
    labels = list(range(n_classes))
    predicted = proba.argmax(axis=1)
    precision, recall, f1, _ = metrics.precision_recall_fscore_support(
        targets, predicted, labels=labels, average="macro", zero_division=0
    )
    try:
        if n_classes == 2:
            auc: float | None = float(metrics.roc_auc_score(targets, proba[:, 1]))
        else:
            auc = float(metrics.roc_auc_score(targets, proba, multi_class="ovr", labels=labels))
    except ValueError:  # a class absent from the test targets: AUC is undefined
        auc = None
    return {
        "accuracy": float(metrics.accuracy_score(targets, predicted)),
        "balanced_accuracy": float(metrics.balanced_accuracy_score(targets, predicted)),
        "precision": float(precision),
        "recall": float(recall),
        "f1": float(f1),
        "roc_auc": auc,
        "log_loss": float(metrics.log_loss(targets, proba / proba.sum(axis=1, keepdims=True), labels=labels)),
    }


def regression_metrics(targets: np.ndarray, predicted: np.ndarray) -> dict[str, Any]:
    """MSE, MAE, R² and how often the predicted sign is right."""
    from sklearn import metrics

    return {
        "mse": float(metrics.mean_squared_error(targets, predicted)),
        "mae": float(metrics.mean_absolute_error(targets, predicted)),
        "r2": float(metrics.r2_score(targets, predicted)),
        "direction_accuracy": float(np.mean(np.sign(targets) == np.sign(predicted))),
    }


def trading_returns(
    close: np.ndarray, spread_price: np.ndarray, bars: np.ndarray, positions: np.ndarray
) -> dict[str, Any]:
    """Result of holding `positions[i]` from the close of bar `bars[i]` to the next close."""
    held = close[bars + 1] / close[bars] - 1.0
    gross = positions * held
    changes = np.abs(np.diff(np.r_[0.0, positions, 0.0]))
    # Change i happens at the close of bars[i]; the final exit at the close of the last bar held.
    change_bars = np.r_[bars, bars[-1] + 1] if len(bars) else bars
    costs = changes * 0.5 * spread_price[change_bars] / close[change_bars]
    equity = np.cumsum(gross) - np.cumsum(costs[:-1]) if len(bars) else np.zeros(0)
    net = float(gross.sum() - costs.sum())
    peak = np.maximum.accumulate(np.r_[0.0, equity])
    entries = int(np.count_nonzero((positions != 0) & (np.r_[0.0, positions[:-1]] != positions)))
    return {
        "total_return": net,
        "gross_return": float(gross.sum()),
        "costs": float(costs.sum()),
        "trades": entries,
        "exposure": float(np.mean(positions != 0)) if len(positions) else 0.0,
        "max_drawdown": float((peak - np.r_[0.0, equity]).max()),
    }


def trading_evaluation(
    close: np.ndarray,
    spread_price: np.ndarray,
    bars: np.ndarray,
    positions: np.ndarray,
    baseline_positions: np.ndarray,
) -> dict[str, Any]:
    """The predictions' trading result next to the majority-class baseline and buy-and-hold."""
    return {
        "model": trading_returns(close, spread_price, bars, positions),
        "majority_baseline": trading_returns(close, spread_price, bars, baseline_positions),
        "buy_and_hold": trading_returns(close, spread_price, bars, np.ones(len(bars))),
    }


def positions_from_classes(class_index: np.ndarray, classes: list[str]) -> np.ndarray:
    """+1 / -1 / 0 per predicted class index."""
    table = np.array([POSITION_OF_CLASS[c] for c in classes])
    return table[class_index]


def positions_from_returns(predicted: np.ndarray, threshold: float) -> np.ndarray:
    """+1 above +threshold, -1 below -threshold, else 0."""
    return np.where(predicted > threshold, 1.0, np.where(predicted < -threshold, -1.0, 0.0))
