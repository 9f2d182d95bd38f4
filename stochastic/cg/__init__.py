"""Bottom-up coarse-graining: mapping, RDF/pressure/D targets, IBI, force matching, mobility.

Units as in :mod:`stochastic.md`: nm, ps, amu, kJ/mol, e, K. Reduced LJ units follow by
``sigma = 1 nm``, ``epsilon = 1 kJ/mol``, ``m = 1 amu``.

Modules: ``mapping`` (atoms -> beads), ``targets`` (RDF, pressure, D with errors),
``tabulated`` (tabulated pair potential as an MD force term), ``sampling`` (run a CG or
reference model and collect observables; per-type Langevin friction), ``ibi`` (iterative
Boltzmann inversion with pressure correction and optional inverse-Monte-Carlo steps),
``force_matching`` (MS-CG on a B-spline basis), ``mobility`` (Langevin friction calibration and
the predictor protocol for data-driven potentials), ``memory_dynamics`` (GLE thermostat with a
kernel fitted to the mapped VACF: D and the VACF shape), ``database`` (synthetic database of
all-atom-derived CG entries on HDF5, serial or MPI generation, the MLP predictor implementing
the protocol and its held-out evaluation), ``validation`` (held-out state points and
plots), ``testsystems`` (LJ fluid set-ups for tests and benchmarks), ``relative_entropy``
(relative-entropy minimisation on a B-spline basis), ``multistate`` (several state points,
multi-state IBI, held-out validation), ``comparison`` (the methods side by side on molecular
fluids) and the subpackage ``ml`` (JAX energy network, optional extra ``ml``; never imported
from here).

Typical IBI run::

    from stochastic.cg.ibi import IBISettings, IterativeBoltzmannInversion
    from stochastic.cg.testsystems import lj_fluid, table_simulator

    fluid = lj_fluid(4, 0.776, 0.85)
    ref = fluid.sampler(seed=1).run([fluid.lj_term()], 2000, 20000, 20)
    settings = IBISettings(fluid.temperature, pressure_target=ref.pressure.mean(), imc_from=2)
    result = IterativeBoltzmannInversion(
        {("A", "A"): fluid.rdf(ref)}, table_simulator(fluid), settings, workdir="ibi"
    ).run()
"""
