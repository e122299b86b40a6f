"""Importers of public research data sets into the region folder layout."""

from fundwall.sim.importers.amlsim import import_amlsim
from fundwall.sim.importers.common import BadRow, ImportResult
from fundwall.sim.importers.paysim import import_paysim

__all__ = ["BadRow", "ImportResult", "import_amlsim", "import_paysim"]
