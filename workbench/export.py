"""Serving a run faster: `export_run` writes the run's model as ONNX (`model.onnx`, in fp32 or with int8 weights)
beside its safetensors weights and records the export in run.json, with a stamp of the weights it was made from;
`exported_scorer` gives the Predictor a scorer that runs that file in ONNX Runtime while the export is current (the
weights unchanged since) and onnxruntime is installed, and None otherwise, so the run predicts with PyTorch as
before. The run folder keeps everything else, so `transformers.pipeline` and `Predictor.load` read it as ever.
onnx and onnxruntime are the optional `export` extra: nothing else in the workbench needs them.
"""

from __future__ import annotations

import hashlib
import importlib.util
import logging
import tempfile
import time
import warnings
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from . import runs
from .models import Scorer, family_of_kind
from .models.base import OnnxModule

ONNX_FILE, WEIGHTS_FILE = "model.onnx", "model.safetensors"
FORMATS, QUANTIZATIONS = ("onnx",), ("int8",)
PACKAGES = ("onnx", "onnxruntime")  # the exporter writes with onnx; quantizing and serving take onnxruntime
OPSET = 17
INSTALL = "pip install onnx onnxruntime (or the workbench's extra: pip install '.[export]')"
# The TorchScript exporter (dynamo=False), not the dynamo one: ONNX Runtime's transformer optimizer fuses the
# attention of its BERT graph (not of the dynamo graph), and it exported the MiniLM in 2 s instead of 11 s
# without needing onnxscript (docs/benchmarks.md)
EXPORTER = "torch.onnx (TorchScript)"

log = logging.getLogger(__name__)


def installed(package: str) -> bool:
    return importlib.util.find_spec(package) is not None


def missing_packages() -> list[str]:
    return [name for name in PACKAGES if not installed(name)]


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


@dataclass(frozen=True)
class WeightsStamp:
    """The weights an export was made from: size and modification time (checked on every load, for free) and the
    hash (read only when the time differs, as in a copied or unzipped folder, to tell a copy from new weights)."""

    bytes: int
    mtime_ns: int
    sha256: str

    @classmethod
    def of(cls, path: Path) -> WeightsStamp:
        stat = path.stat()
        return cls(stat.st_size, stat.st_mtime_ns, file_sha256(path))

    def matches(self, path: Path) -> bool:
        try:
            stat = path.stat()
        except OSError:
            return False
        if stat.st_size != self.bytes:
            return False
        return stat.st_mtime_ns == self.mtime_ns or file_sha256(path) == self.sha256


@dataclass(frozen=True)
class ExportInfo:
    """run.json's `export`: which export the run folder holds and what it was made from."""

    format: str
    file: str
    quantization: str | None  # None: fp32 weights
    bytes: int
    weights: WeightsStamp
    inputs: tuple[str, ...] = ()  # the graph's inputs, in order; its output is `logits`
    fused: bool = False  # ONNX Runtime's fused operators (Attention, SkipLayerNormalization): it runs in ONNX Runtime
    exporter: str = EXPORTER
    opset: int = OPSET
    created: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> ExportInfo:
        return cls(**{**raw, "weights": WeightsStamp(**raw["weights"]), "inputs": tuple(raw.get("inputs", ()))})

    def describe(self) -> str:
        """For people: "ONNX, int8 weights, 23.2 MB"."""
        return f"{self.format.upper()}, {self.quantization or 'fp32'} weights, {self.bytes / 1e6:.1f} MB"


def current_export(record: runs.RunRecord) -> ExportInfo | None:
    """The export run.json records, if its file is there as written and the weights are the ones it was made from;
    None for no export, or one that a change of weights (or of the file) has made stale."""
    try:
        info = ExportInfo.from_dict(record.export) if record.export else None
    except (KeyError, TypeError):  # a record this version does not read is no export it can trust
        return None
    if info is None or info.format not in FORMATS:
        return None
    onnx_file = record.path / info.file
    if not onnx_file.is_file() or onnx_file.stat().st_size != info.bytes:
        return None
    return info if info.weights.matches(record.path / WEIGHTS_FILE) else None


def export_status(run_dir: str | Path) -> str:
    """The runs table's word on a run's export: what it is, "out of date" once the weights changed, or nothing."""
    try:
        record = runs.read_run(run_dir)
    except ValueError:
        return ""
    if not record.export:
        return ""
    info = current_export(record)
    return info.describe() if info else "out of date: export again"


def _check_request(format: str, quantize: str | None) -> None:
    if format not in FORMATS:
        raise ValueError(f"The workbench exports to {', '.join(FORMATS)}, not '{format}'.")
    if quantize not in (None, *QUANTIZATIONS):
        raise ValueError(f"Quantization '{quantize}' is not offered; leave it out (fp32) or give int8.")
    missing = missing_packages()
    if missing:
        raise ValueError(f"Exporting to ONNX needs {' and '.join(missing)}, which this Python lacks: {INSTALL}.")


def _write_onnx(spec: OnnxModule, path: Path) -> None:
    import torch

    with warnings.catch_warnings():
        # the exporter's deprecation notice and the tracer's notes about Python values fixed in the graph (the mask
        # code of transformers checks for tracing; the test suite compares the graph with PyTorch on real batches)
        warnings.simplefilter("ignore")
        torch.onnx.export(
            spec.module,
            tuple(spec.inputs.values()),
            str(path),
            input_names=list(spec.inputs),
            output_names=["logits"],
            dynamic_axes={**spec.dynamic_axes, "logits": {0: "batch"}},
            opset_version=OPSET,
            dynamo=False,
        )


def _fuse(source: Path, target: Path, fusions: dict[str, Any]) -> bool:
    """ONNX Runtime's transformer optimizer: attention, layer norms and GELU as single fused operators, written to
    `target`; False where it failed, and the plain graph serves."""
    from onnxruntime.transformers.optimizer import optimize_model

    try:
        optimize_model(str(source), **fusions).save_model_to_file(str(target))
    except Exception as error:  # an architecture whose graph it does not read: an optimisation lost, no more
        log.warning("ONNX Runtime's transformer optimizer left the graph as it was: %s", error)
        return False
    return True


def _quantize_int8(source: Path, target: Path) -> None:
    """Dynamic int8 quantization of the weights, per channel and in 7 bits (`reduce_range`): without VNNI, int8
    products are summed in pairs into 16 bits, which full 8-bit weights can overflow; on this project's AVX2 CPU the
    7-bit weights ran as fast and kept 100% of a fine-tuned MiniLM's labels where 8-bit ones kept 99.2%
    (docs/benchmarks.md)."""
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic
    from onnxruntime.quantization.shape_inference import quant_pre_process

    prepared = target.with_suffix(".prepared.onnx")
    # the pre-processing onnxruntime asks for, without symbolic shapes (which these graphs defeat)
    quant_pre_process(str(source), str(prepared), skip_symbolic_shape=True)
    # the fused operators have no ONNX shape inference, so their outputs' type is given: float
    options = {"DefaultTensorType": onnx.TensorProto.FLOAT}
    quantize_dynamic(
        prepared, target, per_channel=True, reduce_range=True, weight_type=QuantType.QInt8, extra_options=options
    )


def export_run(run_dir: str | Path, format: str = "onnx", quantize: str | None = None) -> ExportInfo:
    """Write the run's model as `model.onnx` (replacing an earlier export) and record it in run.json."""
    run_dir = Path(run_dir)
    record = runs.require_loadable(run_dir)
    _check_request(format, quantize)
    family = family_of_kind(record.model.kind)
    stamp = WeightsStamp.of(run_dir / WEIGHTS_FILE)  # before reading them, so a change while exporting shows
    spec = family.onnx_module(run_dir)
    runs.update_run(run_dir, export=None)  # the old record stops counting before its file is replaced
    with tempfile.TemporaryDirectory(dir=run_dir, prefix=".exporting-") as scratch:
        written = Path(scratch) / ONNX_FILE
        _write_onnx(spec, written)
        fused = bool(spec.fusions) and _fuse(written, Path(scratch) / "fused.onnx", spec.fusions)
        if fused:
            written = Path(scratch) / "fused.onnx"
        if quantize:
            fp32, written = written, Path(scratch) / f"model.{quantize}.onnx"
            _quantize_int8(fp32, written)
        written.replace(run_dir / ONNX_FILE)
    info = ExportInfo(
        format=format,
        file=ONNX_FILE,
        quantization=quantize,
        bytes=(run_dir / ONNX_FILE).stat().st_size,
        weights=stamp,
        inputs=tuple(spec.inputs),
        fused=fused,
        created=time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    )
    runs.update_run(run_dir, export=info.to_dict())
    return info


def inference_session(path: Path) -> Any:
    """An ONNX Runtime session on the CPU whose idle threads sleep instead of spinning: on this project's 2 shared
    cores, spinning threads took the cores from the busy ones and ran 20% slower (docs/benchmarks.md)."""
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def exported_scorer(record: runs.RunRecord) -> Scorer | None:
    """A scorer on the run's current ONNX export, or None: no export, a stale one, no onnxruntime, or a GPU (where
    PyTorch runs on the GPU; the onnxruntime package serves the CPU)."""
    info = current_export(record)
    if info is None or not installed("onnxruntime"):
        return None
    import torch

    if torch.cuda.is_available():
        return None
    try:
        session = inference_session(record.path / info.file)
    except Exception as error:  # a damaged file: the weights beside it still serve, through PyTorch
        log.warning("ignoring the ONNX export of run %s, which does not load: %s", record.id, error)
        return None
    return family_of_kind(record.model.kind).load_onnx(record.path, session)
