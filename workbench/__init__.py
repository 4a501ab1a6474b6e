"""The fine-tuning workbench: CSV in, a fine-tuned BERT classifier or a from-scratch MLP out, evaluated and saved."""

__version__ = "0.1.0"
