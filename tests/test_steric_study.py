"""The ``ion_model`` key of study files: ``[electrolyte] ion_model``, ``ion_size_nm``,
``correlation_length_nm`` reach the PNP problem of every point; bad values are reported at the
key."""

from __future__ import annotations

import tomllib

import pytest

from meshes.channel import build_channel, default_channel
from pnp.studies import config
from poreflux.errors import InputError

STUDY = """
[study]
name = "steric"
[geometry]
kind = "default"
h_pore_nm = 0.2
h_bath_nm = 2.0
[electrolyte]
salt = "KCl"
concentration_mM = 1000
ion_model = "{model}"
ion_size_nm = 0.7
correlation_length_nm = 0.5
[conditions]
voltage_mV = 100
"""


@pytest.mark.parametrize("model", ["point", "steric", "steric+correlations"])
def test_ion_model_reaches_the_problem(model):
    study = config.parse_study(tomllib.loads(STUDY.format(model=model)))
    assert study.model.ion_model == model
    cmesh = build_channel(default_channel(h_pore=0.2, h_bath=2.0), 2)
    problem = study.model.problem(cmesh, study.grid.points()[0])
    assert problem.ion_model == model
    assert problem.ion_size == 0.7 and problem.correlation_length == 0.5


def test_bad_ion_model_is_reported_at_the_key():
    with pytest.raises(InputError, match="ion_model"):
        config.parse_study(tomllib.loads(STUDY.format(model="hard-spheres")))
