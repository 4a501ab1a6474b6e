"""Training throughput of the workbench loop against transformers `Trainer` at equal settings: the same bundled
BERT, the same drug-review rows, batch 16, max length 256, one epoch. Each side runs in its own process (so peak
memory is its own), alternating, and prints rows/s; the parent prints both, the ratio and peak memory.

Beside rows/s: each side's useful FLOP/s (6 x the encoder's non-embedding parameters x the real, unpadded tokens of
a row, plus attention's 12 x layers x hidden x tokens^2, times rows/s) against this machine's matmul peak in the
precision that side trains in (fp32 and bf16 1024x1024 matmuls, measured in the same run), as a share of it.
And each side's whole process, as the parent times it: start-up, loading, training, saving the model and scoring the
drug reviews' 379 test rows (`whole_process_s`, and `Trainer`'s over ours as `whole_process_ratio`).

Each side at its default precision (the headline ratio: ours trains under bf16 autocast where the CPU multiplies
bf16 in hardware, `Trainer` in fp32 unless told), and each side in the other precision too, so that the gain from
length-grouped batches and the gain from bf16 show separately: `ours_fp32` vs `trainer`, `ours` vs `trainer_bf16`.

    python benchmarks/train_speed.py [ROWS] [ROUNDS]
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import common  # noqa: F401  (offline settings first)
from common import arg, report
from drug_reviews import write_csvs

HERE = Path(__file__).resolve().parent
BATCH, MAX_LENGTH = 16, 256


def rows_csv(rows: int, folder: Path) -> Path:
    train_csv, _ = write_csvs(HERE / ".data")
    lines = train_csv.read_text(encoding="utf-8").splitlines(keepends=True)
    import csv
    import io

    table = list(csv.reader(io.StringIO("".join(lines))))
    path = folder / "rows.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows(table[: rows + 1])
    return path


def run_ours(csv_path: Path, folder: str, bf16: bool = True) -> float:
    from workbench.config import DataSpec, TrainConfig
    from workbench.data import load_data
    from workbench.events import started_of
    from workbench.metrics.report import evaluate_run
    from workbench.train import train

    # the loop's own validation is kept tiny so that the timing is of training
    data = load_data(DataSpec(str(csv_path), text_column="text", label_columns="label", validation_fraction=0.05))
    config = TrainConfig(
        model="bundled-minilm",
        epochs=1,
        batch_size=BATCH,
        max_length=MAX_LENGTH,
        patience=0,
        cpu_bf16=bf16,
        output=folder,
    )
    events = list(train(config, data))
    evaluate_run(started_of(events).run_dir, drug_test_csv())
    return [e for e in events if e.kind == "step"][-1].samples_per_second


def run_trainer(csv_path: Path, folder: str, bf16: bool = False) -> float:
    import csv

    import datasets
    from transformers import (
        AutoModelForSequenceClassification,
        AutoTokenizer,
        DataCollatorWithPadding,
        Trainer,
        TrainingArguments,
    )

    from workbench.models.bert import bundled_model_path

    with csv_path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    names = sorted({r["label"] for r in rows})
    rows = rows[: int(len(rows) * 0.95)]  # the same training rows count as ours
    tokenizer = AutoTokenizer.from_pretrained(bundled_model_path())
    model = AutoModelForSequenceClassification.from_pretrained(bundled_model_path(), num_labels=len(names))
    encoded = datasets.Dataset.from_dict(
        {
            **tokenizer([r["text"] for r in rows], truncation=True, max_length=MAX_LENGTH),
            "labels": [names.index(r["label"]) for r in rows],
        }
    )
    args = TrainingArguments(
        output_dir=folder,
        num_train_epochs=1,
        per_device_train_batch_size=BATCH,
        learning_rate=1e-4,
        save_strategy="no",
        report_to=[],
        seed=42,
        bf16=bf16,
        use_cpu=True,
    )
    trainer = Trainer(
        model=model,
        args=args,
        train_dataset=encoded,
        processing_class=tokenizer,
        data_collator=DataCollatorWithPadding(tokenizer),
    )
    start = time.perf_counter()
    trainer.train()
    rate = len(rows) / (time.perf_counter() - start)
    trainer.save_model(folder)
    with drug_test_csv().open(newline="", encoding="utf-8") as handle:
        texts = [r["text"] for r in csv.DictReader(handle)]
    trainer.predict(datasets.Dataset.from_dict(dict(tokenizer(texts, truncation=True, max_length=MAX_LENGTH))))
    return rate


def drug_test_csv() -> Path:
    return write_csvs(HERE / ".data")[1]


SIDES = {
    "ours": lambda c, f: run_ours(c, f),
    "ours_fp32": lambda c, f: run_ours(c, f, bf16=False),
    "trainer": lambda c, f: run_trainer(c, f),
    "trainer_bf16": lambda c, f: run_trainer(c, f, bf16=True),
}


def child(side: str, csv_path: Path) -> None:
    with tempfile.TemporaryDirectory() as folder:
        rate = SIDES[side](csv_path, folder)
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"rows_per_s": rate, "peak_mib": peak_mib}))


def matmul_peaks() -> dict[str, float]:
    """GFLOP/s of a 1024 x 1024 matmul in fp32 and bf16 on this machine's CPU (`devices.matmul_gflops`)."""
    import torch

    from workbench.devices import matmul_gflops

    return {name: round(matmul_gflops(dtype), 1) for name, dtype in (("fp32", torch.float32), ("bf16", torch.bfloat16))}


def useful_gflops_per_row(csv_path: Path) -> float:
    """The training FLOPs a row really needs (no padding), averaged over the rows, in GFLOP."""
    import csv

    from transformers import AutoConfig, AutoTokenizer

    from workbench.models.bert import bundled_model_path

    config = AutoConfig.from_pretrained(bundled_model_path())
    tokenizer = AutoTokenizer.from_pretrained(bundled_model_path())
    with csv_path.open(newline="", encoding="utf-8") as handle:
        texts = [row["text"] for row in csv.DictReader(handle)]
    lengths = [len(ids) for ids in tokenizer(texts, truncation=True, max_length=MAX_LENGTH)["input_ids"]]
    hidden, layers = config.hidden_size, config.num_hidden_layers
    per_layer = 4 * hidden * hidden + 2 * hidden * config.intermediate_size  # attention projections + feed-forward
    flops = [6 * layers * per_layer * n + 12 * layers * hidden * n * n for n in lengths]
    return sum(flops) / len(flops) / 1e9


def precision_of(side: str) -> str:
    import torch

    from workbench.devices import native_bf16

    bf16_cpu = native_bf16(torch.device("cpu"))  # where ours trains under bf16 autocast
    return "bf16" if (side == "ours" and bf16_cpu) or side == "trainer_bf16" else "fp32"


def main() -> None:
    rows, rounds = int(arg(1, "160")), int(arg(2, "1"))
    results: dict[str, list[dict]] = {side: [] for side in SIDES}
    first_peaks = matmul_peaks()  # measured before and after the runs, the best kept: a busy moment halved one once
    with tempfile.TemporaryDirectory() as folder:
        csv_path = rows_csv(rows, Path(folder))
        for _ in range(rounds):
            for side in ("trainer", "ours", "trainer_bf16", "ours_fp32"):
                start = time.perf_counter()
                out = (
                    subprocess.run(
                        [sys.executable, __file__, "--child", side, str(csv_path)],
                        check=True,
                        capture_output=True,
                        text=True,
                    )
                    .stdout.strip()
                    .splitlines()[-1]
                )
                results[side].append({**json.loads(out), "whole_s": time.perf_counter() - start})
        gflops_per_row = useful_gflops_per_row(csv_path)
    peaks = {name: max(gflops, first_peaks[name]) for name, gflops in matmul_peaks().items()}
    best = {side: max(r["rows_per_s"] for r in runs) for side, runs in results.items()}
    peak = {side: max(r["peak_mib"] for r in runs) for side, runs in results.items()}
    useful = {side: rate * gflops_per_row for side, rate in best.items()}
    whole = {side: min(r["whole_s"] for r in runs) for side, runs in results.items()}
    report(
        "train_speed",
        rows=rows,
        batch_size=BATCH,
        max_length=MAX_LENGTH,
        rounds=rounds,
        rows_per_s={side: round(rate, 2) for side, rate in best.items()},
        peak_mib={side: round(mib) for side, mib in peak.items()},
        useful_gflops_per_s={side: round(g, 1) for side, g in useful.items()},
        matmul_peak_gflops_per_s=peaks,
        share_of_peak={side: round(g / peaks[precision_of(side)], 3) for side, g in useful.items()},
        throughput_ratio=round(best["ours"] / best["trainer"], 2),
        ratio_both_fp32=round(best["ours_fp32"] / best["trainer"], 2),
        ratio_both_bf16=round(best["ours"] / best["trainer_bf16"], 2),
        whole_process_s={side: round(seconds, 1) for side, seconds in whole.items()},
        whole_process_ratio=round(whole["trainer"] / whole["ours"], 2),
    )


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child(sys.argv[2], Path(sys.argv[3]))
    else:
        main()
