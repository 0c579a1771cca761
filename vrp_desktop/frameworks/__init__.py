"""Intervention frameworks and outcome measures: typed definitions loaded from data files."""

from vrp_desktop.frameworks.loader import (
    FrameworkCatalog,
    load_framework_file,
    load_measure_file,
)
from vrp_desktop.frameworks.models import (
    RECORD_FIELDS,
    Framework,
    MeasureDefinition,
    MeasureUse,
    TimepointWindow,
)

__all__ = [
    "RECORD_FIELDS",
    "Framework",
    "FrameworkCatalog",
    "MeasureDefinition",
    "MeasureUse",
    "TimepointWindow",
    "load_framework_file",
    "load_measure_file",
]
