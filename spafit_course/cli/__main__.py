"""`python -m spafit_course.cli` (what `torchrun` and `accelerate launch` run): the `spafit-course` command."""

from .app import main

raise SystemExit(main())
