"""The service starts fast: importing the app imports neither TensorFlow nor scikit-learn."""

from __future__ import annotations

import subprocess
import sys

from shared.config import PROJECT_ROOT


def test_import_app_loads_no_ml_library() -> None:
    code = (
        "import sys, services.ai.main, services.ai.__main__\n"
        "heavy = sorted(m for m in ('tensorflow', 'keras', 'sklearn') if m in sys.modules)\n"
        "print(','.join(heavy))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=PROJECT_ROOT, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == ""
