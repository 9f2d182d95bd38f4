"""``python -m stochastic.cg.database``: generate, train and evaluate (see :mod:`.cli`)."""

from stochastic.cg.database.cli import main

raise SystemExit(main())
