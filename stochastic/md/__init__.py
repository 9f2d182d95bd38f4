"""Particle MD core: LJ + Coulomb (Ewald, PME, reaction field, direct sum) + Drude, NVE/NVT.

Units: nm, ps, amu, kJ/mol, e, K (OpenMM/GROMACS). Reduced LJ units: sigma = 1 nm,
epsilon = 1 kJ/mol, m = 1 amu (see :mod:`stochastic.md.system`).

Typical use::

    from stochastic.md import init, lj, forcefield, integrators, simulation, system
    pos, box = init.fcc_lattice(5, 0.8)
    sys_ = system.System.from_counts([system.ParticleType("Ar", 1, 0, 1, 1)], [len(pos)], box)
    ff = forcefield.ForceField(sys_, [lj.LennardJones(sys_, 2.5)])
    sim = simulation.Simulation(ff, integrators.VelocityVerlet(0.005), pos)
    sim.run(1000)

Modules: ``system`` (types, box), ``mixing`` (Lorentz-Berthelot, NBFIX), ``neighbors``
(cell/Verlet lists), ``kernels`` (numba), ``cell_kernels`` (fast path: cell-sorted order, split
half lists, threaded row blocks, fused Verlet kicks), ``lj``, ``ewald``, ``pme`` (grid and
splitting from one tolerance), ``reaction_field``, ``coulomb_direct`` (open boundaries, all
pairs), ``drude``, ``bonded`` (harmonic bonds), ``angles`` (harmonic angles), ``dihedrals`` (OPLS /
Ryckaert-Bellemans torsions), ``pairs`` (scaled 1-4 LJ), ``bonded_kernels`` (numba loops),
``topology`` (angles, dihedrals, exclusions from a bond graph), ``trappe`` (TraPPE-UA
hydrocarbon sites and molecule catalogue), ``liquid`` (molecular liquids packed at a density),
``external``, ``restraints``, ``confinement``, ``forcefield``, ``integrators``, ``simulation``,
``minimize``, ``observers``, ``trajectory``, ``init``, ``reference_data``, ``testing``,
``model_pore`` (a cylindrical pore with a carbonyl-ring binding site and K+/Na+ analogues,
matching a continuum channel geometry).
"""
