"""The GPU benchmark runs where no GPU is: a tiny model on the CPU through both sides, so that the one short run a
GPU session gets is not spent finding a bug in the script."""

import json
import subprocess
import sys
from pathlib import Path

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


def test_gpu_mfu_script_measures_both_sides_on_a_tiny_model():
    command = [
        sys.executable,
        str(BENCHMARKS / "gpu_mfu.py"),
        "--tiny",
        "--rows",
        "96",
        "--batch",
        "8",
        "--length",
        "16",
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=300)

    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["benchmark"] == "gpu_mfu" and result["model"] == "tiny"
    assert result["ours"]["samples_per_s"] > 0 and result["trainer"]["samples_per_s"] > 0
    assert result["throughput_ratio"] > 0 and result["gflops_per_sample"] > 0
    assert result["ours"]["mfu"] is None  # no peak is known for a CPU unless --peak-tflops is given


def test_gpu_mfu_tokenizer_without_the_bundled_package_cuts_every_text_to_length(tmp_path):
    """A GPU machine may lack the bundled model's package; the fallback tokenizer must still give full-length rows."""
    sys.path.insert(0, str(BENCHMARKS))
    import gpu_mfu
    from transformers import AutoTokenizer

    gpu_mfu.save_wordpiece_tokenizer(tmp_path / "tokenizer")
    texts = [row.split(",")[0] for row in gpu_mfu.texts_csv(tmp_path, rows=5, length=32).read_text().splitlines()[1:]]
    tokenizer = AutoTokenizer.from_pretrained(tmp_path / "tokenizer")
    encoded = tokenizer(texts, truncation=True, max_length=32)["input_ids"]

    assert all(len(ids) == 32 and tokenizer.unk_token_id not in ids for ids in encoded)
