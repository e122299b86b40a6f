"""Packages whose exports are imported on first use: every exported name reads as the object
of its module, a name not exported is an AttributeError, and importing a light module of the
package imports none of the package's heavy ones."""

from __future__ import annotations

import importlib
import json
import subprocess
import sys

import pytest

LAZY = ("fundwall.engine.features", "fundwall.engine.controls", "fundwall.cases", "fundwall.ingest")


@pytest.mark.parametrize("name", LAZY)
def test_every_export_is_its_modules_object(name: str) -> None:
    package = importlib.import_module(name)
    for export in package.__all__:
        value = getattr(package, export)
        home = importlib.import_module(getattr(value, "__module__", name))
        assert getattr(home, export, value) is value, export
    with pytest.raises(AttributeError, match="has no attribute 'no_such_name'"):
        package.no_such_name  # noqa: B018


def test_a_light_module_of_a_lazy_package_imports_no_heavy_one() -> None:
    code = (
        "import json, sys\n"
        "import fundwall.engine.controls.model, fundwall.engine.features.catalog\n"
        "print(json.dumps(sorted(sys.modules)))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    modules = set(json.loads(done.stdout))
    assert not {"numba", "pyarrow", "numpy", "fundwall.engine.controls.book"} & modules
