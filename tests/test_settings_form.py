"""The Train form is built from `TrainConfig` and `DataSpec`: every setting a user can change appears in it, an
empty box is "auto", and the values come back as the records by field name, with one sentence for a bad value."""

import dataclasses
import inspect

import gradio as gr
import pytest

from workbench.config import DataSpec, TrainConfig, form_fields
from workbench.ui.settings_form import create_settings_form, read_settings, with_settings_parameters


def test_every_setting_but_the_output_folder_is_in_the_form():
    shown = {f.name for f in form_fields(TrainConfig)}

    assert shown == {f.name for f in dataclasses.fields(TrainConfig)} - {"output"}
    assert {f.name for f in form_fields(DataSpec)} == {"validation_fraction"}  # the rest comes from the Data tab


def test_the_form_has_a_component_per_setting_with_its_default():
    with gr.Blocks():
        form = create_settings_form(["auto", "mlp"])

    assert list(form) == [
        "model",
        "epochs",
        "batch_size",
        "lr",
        "max_length",
        "encoder",
        "setfit_mode",
        "time_budget",
        "seed",
        "warmup",
        "weight_decay",
        "grad_clip",
        "grad_accumulation",
        "class_weights",
        "patience",
        "cpu_bf16",
        "hidden_size",
        "report_to",
        "validation_fraction",
    ]
    assert form["model"].value == "auto" and form["seed"].value == 42 and form["class_weights"].value is True
    assert form["epochs"].value in (None, "") and form["epochs"].placeholder == "auto"
    assert form["encoder"].value == "auto" and "bundled-minilm" in [c[0] for c in form["encoder"].choices]
    assert [c[0] for c in form["setfit_mode"].choices] == ["auto", "frozen", "contrastive"]


def test_empty_boxes_are_auto_and_numbers_take_their_types():
    config = read_settings(
        {
            "model": "mlp",
            "epochs": "",
            "batch_size": "32",
            "lr": " 0.001 ",
            "patience": "0",
            "seed": 7.0,
            "class_weights": False,
        },
        TrainConfig,
        output="somewhere",
    )

    assert (config.model, config.epochs, config.batch_size, config.lr, config.patience) == ("mlp", None, 32, 1e-3, 0)
    assert (config.seed, config.class_weights, config.output) == (7, False, "somewhere")
    assert read_settings({}, TrainConfig) == TrainConfig()


@pytest.mark.parametrize(
    "values, message",
    [
        ({"epochs": "ten"}, "Epochs must be a whole number, or empty for auto"),
        ({"batch_size": "2.5"}, "Batch size must be a whole number"),
        ({"lr": "fast"}, "Learning rate must be a number"),
        ({"epochs": "0"}, "epochs must be at least 1"),
    ],
)
def test_a_bad_value_is_one_sentence(values, message):
    with pytest.raises(ValueError, match=message):
        read_settings(values, TrainConfig)


def test_the_api_lists_every_setting_by_its_field_name_with_its_default():
    with gr.Blocks():
        form = create_settings_form(["auto"])

    def handler(state, visitor=None, **settings):
        return settings

    parameters = inspect.signature(with_settings_parameters(handler, form)).parameters

    assert list(parameters)[:2] == ["state", "visitor"]
    assert parameters["epochs"].default is None and parameters["seed"].default == 42
    assert parameters["validation_fraction"].default is None  # auto: 20%, at most 2,000 rows
