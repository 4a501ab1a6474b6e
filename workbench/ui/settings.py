"""How the app is deployed, read from the environment: where runs live (see `workbench.deployment`), whether
visitors share the machine (a public Space) and must be kept apart, and the upload limits."""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from ..deployment import default_runs_dir, env_flag, on_space


@dataclass(frozen=True)
class AppSettings:
    runs_dir: Path
    shared: bool  # a public deployment: each visitor sees only their own runs and files
    max_upload_mb: int
    max_rows: int

    @classmethod
    def from_env(cls) -> AppSettings:
        shared = env_flag("WORKBENCH_SHARED")
        return cls(
            runs_dir=default_runs_dir(),
            shared=on_space() if shared is None else shared,
            max_upload_mb=int(os.environ.get("WORKBENCH_MAX_UPLOAD_MB", "50")),
            max_rows=int(os.environ.get("WORKBENCH_MAX_ROWS", "200000")),
        )

    def workspace(self, visitor: str) -> Path:
        """The runs folder a visitor works in: everything locally, a private sub-folder on a shared deployment."""
        if not self.shared:
            return self.runs_dir
        digest = hashlib.sha256(visitor.encode()).hexdigest()[:24]  # the folder name never reveals the key
        return self.runs_dir / "visitors" / digest
