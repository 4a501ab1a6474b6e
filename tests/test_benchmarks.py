"""The GPU benchmark runs where no GPU is: a tiny model on the CPU through both sides, so that the one short run a
GPU session gets is not spent finding a bug in the script."""
import json
import subprocess
import sys
from pathlib import Path

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


def test_gpu_mfu_script_measures_both_sides_on_a_tiny_model():
    command = [sys.executable, str(BENCHMARKS / "gpu_mfu.py"), "--tiny", "--rows", "96", "--batch", "8",
               "--length", "16"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=300)

    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["benchmark"] == "gpu_mfu" and result["model"] == "tiny"
    assert result["ours"]["samples_per_s"] > 0 and result["trainer"]["samples_per_s"] > 0
    assert result["throughput_ratio"] > 0 and result["gflops_per_sample"] > 0
    assert result["ours"]["mfu"] is None  # no peak is known for a CPU unless --peak-tflops is given
