"""Compare meshes.distribute.model_to_mesh with DOLFINx's importer under MPI (prints JSON)."""

import json
import sys
from pathlib import Path

from mpi4py import MPI

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import test_meshes_distribute as t

comm = MPI.COMM_WORLD
MPI_CASES = ("channel2d", "channel3d")
result = {"size": comm.size}
for case in MPI_CASES:
    make, gdim = t.CASES[case]
    ref, new = t._both(make, gdim)
    tdim = ref.mesh.topology.dim
    same = True
    for dim in (tdim, tdim - 1):
        tables = [comm.gather(t._entity_table(d, dim), root=0) for d in (ref, new)]
        if comm.rank == 0:
            merged = [{k: v for part in tab for k, v in part.items()} for tab in tables]
            same = same and merged[0] == merged[1] and len(merged[0]) > 0
    result[case] = bool(comm.bcast(same, root=0))
if comm.rank == 0:
    print(json.dumps(result))
