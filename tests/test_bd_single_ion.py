"""One ion species without ion-ion forces in a 1D PMF: the BD model against exact 1D theory.

- mean first-passage time out of a slab of a cylindrical pore (both ends absorbing) against
  :func:`stochastic.smoluchowski.mfpt` (the Euler scheme's missed crossings are corrected by
  shifting the absorbing planes outward by 0.5826 sqrt(2 D dt): Broadie, Glasserman & Kou,
  Math. Finance 7, 325 (1997));
- equilibrium density in a known external potential against Boltzmann ``c(z) = c_0 e^{-W(z)}``;
- steady current through a barrier with an applied voltage between two grand-canonical
  buffers against :func:`stochastic.smoluchowski.steady_flux` in a uniform cylinder.

Tolerances are statistical: 3 standard errors of the BD estimate (plus the stated bias bounds).
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from poreflux.species import Electrolyte, get_species
from stochastic import smoluchowski as sm
from stochastic.bd import (
    BDSimulation,
    BDSystem,
    ChannelGeometry,
    ExternalField,
    GridField,
    simulate,
)
from stochastic.bd.observables import E_PER_NS_TO_PA, open_area
from stochastic.bd.passage import first_passage_times
from stochastic.bd.system import MM_TO_PER_NM3
from stochastic.profiles import Profile

T = 298.15
K_ION = get_species("K+")
CL_ION = get_species("Cl-")


def _w_grid(geometry: ChannelGeometry, w, name: str = "K+", nz: int = 801) -> dict:
    """A self-energy grid W(z) [kT] for one species, independent of r."""
    r = np.linspace(0.0, geometry.bath_radius, 3)
    z = np.linspace(-geometry.z_max, geometry.z_max, nz)
    return {name: GridField((r, z), np.tile(w(z), (3, 1)), "kT")}


def test_mfpt_matches_smoluchowski():
    geometry = ChannelGeometry(4.0, 1.0, bath_radius=1.5, bath_length=2.0, buffer_length=1.0)

    def w(z):
        return 1.5 * np.sin(2.0 * z)

    field = ExternalField(self_energy=_w_grid(geometry, w))
    system = BDSystem(
        geometry, Electrolyte({K_ION: 100.0, CL_ION: 100.0}), field=field, interactions=False
    )
    times = first_passage_times(
        system, (0.0, 0.0, 0.3), (-1.5, 1.5), 2000, seed=11, max_time_ns=20.0
    )
    assert np.all(np.isfinite(times))
    d = system.diffusions[0]
    shift = 0.5826 * np.sqrt(2 * d * system.dt)
    zz = np.linspace(-1.9, 1.9, 761)
    profile = Profile.from_arrays(zz, D=d, W_kT=w(zz), temperature=T, kind="linear")
    exact = sm.mfpt(
        profile, 0.3, left="absorbing", right="absorbing", bounds=(-1.5 - shift, 1.5 + shift)
    )
    se = times.std(ddof=1) / np.sqrt(times.size)
    assert abs(times.mean() - exact) < 3 * se, (times.mean(), exact, se)
    # the check has teeth: without the potential the MFPT differs by many standard errors
    free = sm.mfpt(
        Profile.from_arrays(zz, D=d, W_kT=0 * zz, temperature=T, kind="linear"),
        0.3,
        left="absorbing",
        right="absorbing",
        bounds=(-1.5 - shift, 1.5 + shift),
    )
    assert abs(free - exact) > 5 * se


def test_boltzmann_density_in_an_external_potential():
    geometry = ChannelGeometry(2.0, 0.9, bath_radius=2.5, bath_length=4.0, buffer_length=1.5)

    def w(z):  # a well and a barrier in the right bath, zero at the buffers
        return -1.0 * np.exp(-((z - 2.2) ** 2) / 0.08) + 1.0 * np.exp(-((z - 3.2) ** 2) / 0.08)

    grids = _w_grid(geometry, w)
    grids["Cl-"] = grids["K+"]
    system = BDSystem(
        geometry,
        Electrolyte({K_ION: 500.0, CL_ION: 500.0}),
        field=ExternalField(self_energy=grids),
        interactions=False,
    )
    sim = BDSimulation(system, 5, bin_width=0.2)
    assert np.all(sim.buffers.mu_ex == 0.0)  # ideal solution
    sim.equilibrate(0.5, calibrate=False)
    sim.run(16.0, block_ns=2.0)  # blocks longer than the diffusive relaxation of the bath
    res = sim.result()
    sel = (res.z > 1.8) & (res.z < 3.6)
    for s in range(2):
        c, err = res.concentration_mM[s, sel], res.concentration_err[s, sel]
        # bin average of the Boltzmann factor
        zb = res.z[sel][:, None] + np.linspace(-0.1, 0.1, 41)[None, :]
        expect = 500.0 * np.mean(np.exp(-w(zb)), axis=1)
        chi = (c - expect) / err
        assert np.all(np.abs(chi) < 4), chi
        assert np.mean(chi**2) < 3.0, chi  # 9 neighbouring bins, t-distributed (7 dof)
    # the well and barrier are resolved (the test would fail with W = 0)
    assert res.concentration_mM[0, np.argmin(abs(res.z - 2.2))] > 1.5 * 500


@pytest.mark.parametrize("voltage_mV", [200.0])
def test_steady_current_matches_smoluchowski(voltage_mV):
    # a nearly uniform cylinder: pore radius 1.5, baths 1.52 (the area step enters W as
    # -ln(A/A_pore)); one permeant species (the anion is confined to the bath by a huge barrier)
    geometry = ChannelGeometry(3.0, 1.5, bath_radius=1.52, bath_length=3.0, buffer_length=1.0)
    zmax = geometry.z_max

    def w(z):
        return 1.0 * np.exp(-(z**2) / 0.5)

    big = dataclasses.replace(CL_ION, name="Y-")
    grids = _w_grid(geometry, w)
    grids["Y-"] = _w_grid(geometry, lambda z: 20.0 * np.exp(-(z**2) / 1.0), "Y-")["Y-"]
    system = BDSystem(
        geometry,
        Electrolyte({K_ION: 1000.0, big: 1000.0}),
        field=ExternalField(voltage_mV=voltage_mV, self_energy=grids),
        interactions=False,
    )
    res = simulate(
        system,
        24.0,
        seed=3,
        equilibration_ns=0.5,
        block_ns=1.0,
        progress=False,
        calibrate=False,
        gcmc_every=20,
        gcmc_attempts=6,
    )
    # reference: the 1D flux between the inner edges of the buffers
    a = K_ION.ionic_radius
    z_in = zmax - geometry.buffer_length
    zz = np.linspace(-z_in, z_in, 2001)
    area = open_area(system, zz, a)
    a_pore = float(open_area(system, np.zeros(1), a)[0])
    prof = Profile.from_arrays(
        zz,
        D=system.diffusions[0],
        W_kT=w(zz) - np.log(area / a_pore),
        temperature=T,
        kind="linear",
    )
    h = geometry.half_length
    c_edge = 1000.0 * area[0] / a_pore  # same number density, referred to the pore area
    flux = sm.steady_flux(prof, c_edge, c_edge, valence=1, voltage_mV=voltage_mV, drop=(-h, h))
    expect_pA = flux * a_pore * MM_TO_PER_NM3 * E_PER_NS_TO_PA
    got, err = res.current_pA[0], res.current_err[0]
    assert err < 0.15 * expect_pA, (got, err, expect_pA)  # the comparison has teeth
    assert abs(got - expect_pA) < 3 * err, (got, err, expect_pA)
    assert abs(res.current_pA[1]) < 1e-9  # the anion never crosses


def test_position_dependent_diffusion_keeps_the_boltzmann_density():
    # D(z) drops 4-fold across the right bath; with the Ermak-McCammon drift dD/dz the density
    # stays uniform (W = 0). Without it the Ito noise would pile ions up where D is small
    # (density ~ 1/D, a factor 4).
    geometry = ChannelGeometry(2.0, 0.9, bath_radius=2.5, bath_length=4.0, buffer_length=1.5)
    zz = np.linspace(-geometry.z_max, geometry.z_max, 401)
    d_k = 1.2 - 0.9 * np.tanh((zz - 2.6) / 0.3)
    system = BDSystem(
        geometry,
        Electrolyte({K_ION: 500.0, CL_ION: 500.0}),
        diffusion={"K+": (zz, d_k)},
        interactions=False,
    )
    sim = BDSimulation(system, 8, bin_width=0.4)
    sim.equilibrate(0.5, calibrate=False)
    sim.run(12.0, block_ns=2.0)
    res = sim.result()
    sel = (res.z > 1.6) & (res.z < 3.4)
    c, err = res.concentration_mM[0, sel], res.concentration_err[0, sel]
    # the bath's total number relaxes diffusively (D down to 0.3 nm^2/ns over ~2.5 nm: ~2 ns),
    # so all bins share one slow fluctuation: the level is checked loosely (+-25 % of the buffer
    # target, ~ 2 of its standard errors), the shape tightly
    assert np.all(np.abs(c / 500.0 - 1.0) < 0.25), (c, err)
    # the two sides of the D step agree within 10 % (1/D would give a factor ~ 4)
    lo = c[res.z[sel] < 2.2].mean()
    hi = c[res.z[sel] > 3.0].mean()
    assert abs(hi / lo - 1.0) < 0.1, (lo, hi)
