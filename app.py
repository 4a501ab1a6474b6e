"""Entry point for Hugging Face Spaces and `python app.py`: build the workbench app and launch it."""
from workbench.ui import launch

if __name__ == "__main__":
    launch()
