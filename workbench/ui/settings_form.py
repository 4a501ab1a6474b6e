"""The Train form, built from the fields of `TrainConfig` and `DataSpec` as the CLI flags are: one component per
field that has a form label (its help text as the hint), settings that default to None ("auto") as empty boxes,
and the values read back into the records by field name. Adding a setting to the config adds it here."""

from __future__ import annotations

import dataclasses
import inspect
from collections.abc import Callable
from typing import Any

import gradio as gr

from ..config import AUTO, MAIN, DataSpec, TrainConfig, as_names, form_fields
from ..encoders import installed_encoder_names

FORM_RECORDS = (TrainConfig, DataSpec)


def _is_optional(field: dataclasses.Field) -> bool:
    return field.default is None


def _component(field: dataclasses.Field, model_choices: list[str | tuple[str, str]]) -> gr.components.Component:
    label, hint, kind = field.metadata["label"], field.metadata["help"], str(field.type)
    if field.name == "model":
        return gr.Dropdown(model_choices, value=field.default, allow_custom_value=True, label=label, info=hint)
    if field.name == "encoder":  # the offline encoders to pick, or any sentence-transformers folder or Hub id
        names = [AUTO, *installed_encoder_names()]
        return gr.Dropdown(names, value=AUTO, allow_custom_value=True, label=label, info=hint)
    if field.metadata.get("options"):  # one name among a few (or auto): a button for each
        return gr.Radio([AUTO, *field.metadata["options"]], value=AUTO, label=label, info=hint)
    if kind.startswith("bool"):
        return gr.Checkbox(value=field.default, label=label, info=hint)
    if field.metadata.get("choices"):  # several names among a few: a box to tick for each
        return gr.CheckboxGroup(
            list(field.metadata["choices"]), value=list(field.default or ()), label=label, info=hint
        )
    if _is_optional(field):  # a text box, as gradio's Number shows (and sends) 0 when empty: here empty is auto
        return gr.Textbox(None, label=label, placeholder="auto", info=hint, max_lines=1)
    return gr.Number(field.default, label=label, info=hint, precision=0 if kind.startswith("int") else None)


def create_settings_form(model_choices: list[str | tuple[str, str]]) -> dict[str, gr.components.Component]:
    """The form's components by field name: the main settings in a row, the others under "More settings"."""
    fields = [f for record in FORM_RECORDS for f in form_fields(record)]
    main = [f for f in fields if f.metadata["section"] == MAIN]
    more = [f for f in fields if f.metadata["section"] != MAIN]
    components = {main[0].name: _component(main[0], model_choices)}  # the model, on its own line
    with gr.Row():
        components.update({f.name: _component(f, model_choices) for f in main[1:]})
    with gr.Accordion("More settings", open=False):
        for start in range(0, len(more), 4):
            with gr.Row():
                components.update({f.name: _component(f, model_choices) for f in more[start : start + 4]})
    return components


def _value(field: dataclasses.Field, value: Any) -> Any:
    """A form value as the field's type; an empty box is the field's default (None: auto)."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return field.default
    kind = str(field.type)
    if kind.startswith("bool"):
        return bool(value)
    if kind.startswith(("int", "float")):
        return _number(field, value, whole=kind.startswith("int"))
    if kind.startswith("tuple"):  # the ticked boxes, or names with commas from an API client
        return as_names(value) or field.default
    return str(value).strip()


def _number(field: dataclasses.Field, value: Any, whole: bool) -> int | float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        number = float("nan")
    if number != number or (whole and not number.is_integer()):  # NaN, or a fraction where a count is wanted
        auto = ", or empty for auto" if _is_optional(field) else ""
        raise ValueError(
            f"{field.metadata['label']} must be {'a whole number' if whole else 'a number'}{auto} (got '{value}')."
        )
    return int(number) if whole else number


def read_settings(values: dict[str, Any], record: type, **fixed: Any) -> Any:
    """The settings record (`TrainConfig` or `DataSpec`) from the form's values by field name, plus `fixed` ones."""
    names = {f.name: f for f in form_fields(record)}
    return record(**{name: _value(names[name], value) for name, value in values.items() if name in names}, **fixed)


def with_settings_parameters(handler: Callable, components: dict[str, gr.components.Component]) -> Callable:
    """Give a handler that takes the form as `**settings` one keyword parameter per setting, so that the API lists
    every setting by its field name, and those left out by an API client stay auto (their field's default)."""
    signature = inspect.signature(handler)
    fields = {f.name: f for record in FORM_RECORDS for f in dataclasses.fields(record)}
    fixed = [p for p in signature.parameters.values() if p.kind != inspect.Parameter.VAR_KEYWORD]
    settings = [
        inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=fields[name].default) for name in components
    ]
    handler.__signature__ = signature.replace(parameters=fixed + settings)
    return handler
