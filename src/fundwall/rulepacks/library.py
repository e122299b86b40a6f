"""The packs this deployment can name, each by its version (`2025.1:90eab11b827f`): the
default pack, the YAML files of a folder (`<data_dir>/packs` unless told otherwise), and the
versions of the engine's registry (`fundwall.engine.registry`)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from sqlalchemy.orm import Session

from fundwall.domain.errors import InvalidInput, NotFound
from fundwall.engine import registry
from fundwall.engine.rules import RulePack, default_pack, load_pack


@dataclass(frozen=True, slots=True)
class PackFile:
    """A pack of the library and where it came from (None: shipped with Fundwall)."""

    pack: RulePack
    path: Path | None


@lru_cache(maxsize=64)
def _read_pack(path: Path, modified_ns: int, size: int) -> PackFile | InvalidInput:
    """A pack file, compiled once per version of the file (its time and size are the key):
    compiling takes longer than a page."""
    try:
        return PackFile(load_pack(path), path)
    except InvalidInput as error:
        return error


class PackLibrary:
    """The default pack and the packs in `folder`, re-read when a file changes."""

    def __init__(self, folder: Path | None) -> None:
        self.folder = folder

    def _read(self, path: Path) -> PackFile | InvalidInput:
        stat = path.stat()
        return _read_pack(path, stat.st_mtime_ns, stat.st_size)

    def scan(self) -> tuple[list[PackFile], list[InvalidInput]]:
        """Every readable pack (the default first, then files by name) and the problems of
        the files that are not, so the page can say what is wrong with them."""
        packs = [PackFile(default_pack(), None)]
        problems: list[InvalidInput] = []
        if self.folder is not None and self.folder.is_dir():
            for path in sorted(self.folder.glob("*.yaml")) + sorted(self.folder.glob("*.yml")):
                found = self._read(path)
                if isinstance(found, InvalidInput):
                    problems.append(found)
                elif all(known.pack.version != found.pack.version for known in packs):
                    packs.append(found)
        return packs, problems

    def packs(self) -> list[PackFile]:
        return self.scan()[0]

    def file(self, version: str) -> PackFile | None:
        """The library's pack of `version`, if it has one."""
        return next((f for f in self.packs() if f.pack.version == version), None)

    def find(self, version: str, session: Session) -> RulePack | None:
        """The pack of `version`: a file of the library, else a registered version."""
        found = self.file(version)
        if found is not None:
            return found.pack
        try:
            return registry.get_pack(session, version)
        except NotFound:
            return None

    def get(self, version: str, session: Session) -> RulePack:
        found = self.find(version, session)
        if found is None:
            raise NotFound("rule pack version", version)
        return found
