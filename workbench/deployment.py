"""Where the app is deployed, read from the environment: on a Hugging Face Space or not, and where its lasting
files go (a persistent storage bucket, or a local folder).

No gradio, torch or transformers here: `use_persistent_storage()` must run before any of them reads `HF_HOME`
(huggingface_hub reads it once, at import), so `app.py` and `python -m workbench serve` call it first.
"""

from __future__ import annotations

import os
from pathlib import Path

SPACE_STORAGE = Path("/data")  # where a Space's persistent storage is mounted, when the Space has it


def env_flag(name: str) -> bool | None:
    """A yes/no setting from the environment: 1, true, yes or on (any case) is yes, any other value no, unset None."""
    value = os.environ.get(name)
    return None if value is None else value.strip().lower() in ("1", "true", "yes", "on")


def on_space() -> bool:
    """Hugging Face Spaces sets SPACE_ID (and SYSTEM=spaces) in every Space's environment."""
    return bool(os.environ.get("SPACE_ID") or os.environ.get("SYSTEM") == "spaces")


def _writable_dir(path: Path) -> bool:
    return path.is_dir() and os.access(path, os.W_OK | os.X_OK)


def storage_dir() -> Path | None:
    """The persistent storage: WORKBENCH_STORAGE if set (an empty value turns it off), else a Space's /data when
    it is mounted and writable; None means a local folder, lost when a Space restarts."""
    named = os.environ.get("WORKBENCH_STORAGE")
    if named is not None:
        return Path(named).expanduser().resolve() if named.strip() else None
    if on_space() and _writable_dir(SPACE_STORAGE):
        return SPACE_STORAGE
    return None


def default_runs_dir() -> Path:
    """WORKBENCH_RUNS_DIR if set, else `runs/` in the persistent storage, else `runs/` here."""
    if os.environ.get("WORKBENCH_RUNS_DIR"):
        return Path(os.environ["WORKBENCH_RUNS_DIR"]).expanduser().resolve()
    storage = storage_dir()
    return (storage / "runs") if storage else Path("runs").resolve()


def use_persistent_storage() -> Path | None:
    """Point the Hugging Face cache (downloaded Hub models, datasets' CSV cache) into the persistent storage, so a
    restarted Space does not download them again. An HF_HOME set by the user wins. Returns the storage, if any."""
    storage = storage_dir()
    if storage is not None:
        os.environ.setdefault("HF_HOME", str(storage / "huggingface"))
    return storage
