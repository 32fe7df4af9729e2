"""The training job spec: whole after pickling (jobs run in a process pool), stored without its run paths."""

from __future__ import annotations

import pickle

from services.ai.core.jobs import TrainJobSpec, TrainSource
from services.ai.core.training import TrainSpec
from tests.ai.support import FEATURES


def test_train_job_spec_survives_pickling_and_stores_no_run_paths() -> None:
    spec = TrainSpec.model_validate({"name": "rf", "model_type": "random_forest", "features": FEATURES})
    job = TrainJobSpec(
        symbol=None,
        timeframe=None,
        source=TrainSource(source="inline", bars=500),
        spec=spec,
        bars_file="/spool/abc.npz",
        point=1e-5,
    )

    copy = pickle.loads(pickle.dumps(job))

    assert copy == job and (copy.bars_file, copy.point) == ("/spool/abc.npz", 1e-5)
    assert job.stored_params() == {
        "name": "rf",
        "model_type": "random_forest",
        "symbol": None,
        "timeframe": None,
        "source": {"source": "inline", "bars": 500},
        "spec": spec.model_dump(mode="json"),
    }
