"""Run a fake study (tests/study_fakes.py) that logs every solve; killed and rerun by
tests/test_studies_engine.py::test_resume_after_sigkill.

Usage: python study_resume.py OUT LOG DELAY_S
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from study_fakes import FakeModel

from pnp.studies import ParameterGrid, run_study

out, log, delay = sys.argv[1], sys.argv[2], float(sys.argv[3])
grid = ParameterGrid(
    {"radius_nm": [1.0, 2.0], "voltage_mV": {"start": -100, "stop": 100, "step": 25}}
)
result = run_study(FakeModel(log_path=log, delay=delay), grid, out, progress=False)
print(f"computed={len(result.computed)} skipped={len(result.skipped)}", flush=True)
