"""Output formats behind one small interface: `render(report, fmt) -> str`.

Each format lives in its own module and is imported only when chosen.
"""

from __future__ import annotations

import enum
import importlib

from daserver_check.errors import DaserverCheckError
from daserver_check.model import Report


class OutputFormat(enum.StrEnum):
    TEXT = "text"
    JSON = "json"
    JUNIT = "junit"
    PROMETHEUS = "prometheus"
    NAGIOS = "nagios"
    MARKDOWN = "markdown"


_MODULES = {
    OutputFormat.TEXT: "daserver_check.report.text",
    OutputFormat.JSON: "daserver_check.report.json_format",
    OutputFormat.JUNIT: "daserver_check.report.junit",
    OutputFormat.PROMETHEUS: "daserver_check.report.prometheus",
    OutputFormat.NAGIOS: "daserver_check.report.nagios",
    OutputFormat.MARKDOWN: "daserver_check.report.markdown",
}


class FormatUnavailable(DaserverCheckError):
    pass


def render(report: Report, fmt: OutputFormat, *, color: bool = False) -> str:
    try:
        module = importlib.import_module(_MODULES[fmt])
    except ModuleNotFoundError as exc:
        if exc.name == _MODULES[fmt]:
            raise FormatUnavailable(f"output format {fmt.value!r} is not available yet") from None
        raise
    text: str = module.render(report, color=color)
    return text
