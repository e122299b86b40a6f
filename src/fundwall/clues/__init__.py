"""Clue transfer (线索移送): a bank sends a clue from one of its cases to a police unit, and
the unit answers. Every public function of the package's modules (outside `queries`) is a
use case."""
