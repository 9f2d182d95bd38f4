"""``python -m pnp``: the poreflux command line (see :mod:`pnp.cli`)."""

from pnp.cli import main

raise SystemExit(main())
