"""A small PNP study run twice under mpiexec: one PETSc solve over all ranks, then with the
points dealt out to the ranks (distribute=True). Prints one JSON line with both tables' columns.

Usage: mpiexec -n 2 python study_distribute.py OUT_FOLDER
"""

import json
import sys
from pathlib import Path

from mpi4py import MPI

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from study_cases import charged_channel_study

from pnp.studies import run_study

out = Path(sys.argv[1])
model, grid = charged_channel_study()
data = {"size": MPI.COMM_WORLD.size}
for mode, distribute in (("collective", False), ("distributed", True)):
    result = run_study(model, grid, out / mode, distribute=distribute, progress=False)
    table = result.table
    data[mode] = {
        "id": list(table.column("id")),
        "current_pA": table.column("current_pA").tolist(),
        "status": list(table.column("status")),
        "computed": list(result.computed),
    }
    if mode == "distributed" and MPI.COMM_WORLD.rank == 0:
        files = sorted((out / mode / "points").glob("*.json"))
        records = [json.loads(p.read_text()) for p in files]
        data[mode]["ranks"] = sorted({r["rank"] for r in records})
if MPI.COMM_WORLD.rank == 0:
    print(json.dumps(data), flush=True)
