"""Hiring pool, persistence and command line of the teacher staffing and placement system.

Importing the package is cheap and touches no database: the pure modules (:mod:`staffing.rules`,
:mod:`staffing.domain`) are used by the solver, which must stay free of persistence.
"""

__version__ = "0.1.0"
