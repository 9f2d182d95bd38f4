"""Start-up costs the meshes pipeline controls: no gmsh for a cached mesh, the collector frozen.

Each check runs in a fresh interpreter (what a user's script pays), so the modules loaded and
the collector's state are those of a real start.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from meshes.sphere import SphereGeometry, build_sphere

ROOT = Path(__file__).resolve().parents[1]

SCRIPT = """
import gc, json, sys
from meshes.sphere import SphereGeometry, build_sphere
cm = build_sphere(SphereGeometry(radius=1.0, outer_radius=4.0, h_surface=0.2, h_far=1.0), dim=2)
print(json.dumps({"gmsh": "gmsh" in sys.modules, "gc_enabled": gc.isenabled(),
                  "frozen": gc.get_freeze_count(),
                  "cells": cm.mesh.topology.index_map(2).size_global}))
"""


def _run(cache: Path, **env: str) -> dict:
    environ = dict(os.environ, POREFLUX_MESH_CACHE=str(cache), PYTHONPATH=str(ROOT), **env)
    out = subprocess.run(
        [sys.executable, "-c", SCRIPT], capture_output=True, text=True, env=environ, check=True
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_cached_mesh_needs_no_gmsh_and_the_import_freezes_the_collector(tmp_path, monkeypatch):
    monkeypatch.setenv("POREFLUX_MESH_CACHE", str(tmp_path))
    geo = SphereGeometry(radius=1.0, outer_radius=4.0, h_surface=0.2, h_far=1.0)
    built = build_sphere(geo, dim=2)  # fills the cache (if it took >= MIN_BUILD_SECONDS)
    import meshes.cache as cache

    monkeypatch.setattr(cache, "MIN_BUILD_SECONDS", 0.0)
    if not list(tmp_path.glob("sphere2d-*.npz")):
        build_sphere(geo, dim=2)
    frozen = _run(tmp_path)
    assert frozen["cells"] == built.mesh.topology.index_map(2).size_global
    assert frozen["gmsh"] is False  # read from the .npz: gmsh neither imported nor started
    assert frozen["gc_enabled"] is True  # paused during the import only
    plain = _run(tmp_path, POREFLUX_GC_FREEZE="0")
    assert plain["gc_enabled"] is True and plain["gmsh"] is False
    # DOLFINx's import leaves > 1e4 container objects; frozen unless switched off
    assert frozen["frozen"] > 10_000 > 10 * plain["frozen"]
