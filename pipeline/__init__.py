"""ankieta: customer-satisfaction surveys for Polish municipal offices, on paper and online.

The package is a pipeline of plain functions over frozen dataclasses; see ARCHITECTURE.md.
"""

__version__ = "0.1.0"
