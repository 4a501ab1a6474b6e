"""Entry point for Hugging Face Spaces and `python app.py`: build the workbench app and launch it."""

from workbench.deployment import use_persistent_storage

use_persistent_storage()  # before gradio and transformers read HF_HOME (at import)

from workbench.ui import launch  # noqa: E402

if __name__ == "__main__":
    launch()
