"""Learned models inside the engine: the model folder and card (`artifact`), the compiled
trees that score it (`trees`) and its part in a decision (`scoring`). Training, the registry's
use cases and the account scores are the `fundwall.models` workflow's."""
