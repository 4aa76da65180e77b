"""docs/observability.md against the code.

Every span, attribute, metric, close reason and flag the observability page
names must be the one the code uses (and the code's must all be on the page),
so the page cannot drift from telemetry.py and servicer.py. The collector
config itself is checked by a real collector (tests/test_deploy_otelcol.py).
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

from opentelemetry.exporter.prometheus import PrometheusMetricReader
from opentelemetry.sdk.metrics import MeterProvider
from prometheus_client import CollectorRegistry, generate_latest

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "observability.md"
TELEMETRY = ROOT / "python" / "openenv_grpc" / "telemetry.py"
SERVICER = ROOT / "python" / "openenv_grpc" / "server" / "servicer.py"
SESSIONS = ROOT / "python" / "openenv_grpc" / "sessions.py"
CLI = ROOT / "python" / "openenv_grpc" / "cli.py"
APP = ROOT / "python" / "openenv_grpc" / "server" / "app.py"
PROTO = ROOT / "proto" / "openenv" / "v1" / "env_service.proto"

INSTRUMENTS = {
    "histogram": "create_histogram",
    "counter": "create_counter",
    "up-down counter": "create_up_down_counter",
}
ATTRIBUTE_NAME = re.compile(r"(?:rpc|openenv)\.[a-z_]+(?:\.[a-z_]+)*")
# Flags of other programs the page may show.
FOREIGN_FLAGS = {"--config"}


# --- the doc's tables ----------------------------------------------------------


def _table(header: str) -> list[list[str]]:
    """The body rows of the doc's table whose first header cell is `header`."""
    lines = DOC.read_text().splitlines()
    for index, line in enumerate(lines):
        cells = _cells(line)
        if cells and cells[0] == header:
            rows = []
            for row in lines[index + 2 :]:
                if not row.startswith("|"):
                    break
                rows.append(_cells(row))
            assert rows, f"the {header!r} table has no rows"
            return rows
    raise AssertionError(f"docs/observability.md has no table headed {header!r}")


def _cells(line: str) -> list[str]:
    if not line.startswith("|"):
        return []
    return [cell.strip() for cell in line.strip().strip("|").split("|")]


def _names(cell: str) -> list[str]:
    """The `code` spans of a table cell."""
    return re.findall(r"`([^`]+)`", cell)


def _one_name(cell: str) -> str:
    names = _names(cell)
    assert len(names) == 1, f"expected one `name` in {cell!r}"
    return names[0]


# --- what the code says --------------------------------------------------------


def _tree(path: Path) -> ast.Module:
    return ast.parse(path.read_text(), filename=str(path))


def _instruments() -> dict[str, tuple[str, str]]:
    """telemetry.py's instruments: name -> (create_* method, unit)."""
    found = {}
    for node in ast.walk(_tree(TELEMETRY)):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr.startswith("create_")
            and node.args
            and isinstance(node.args[0], ast.Constant)
        ):
            unit = next((k.value for k in node.keywords if k.arg == "unit"), None)
            assert isinstance(unit, ast.Constant), f"{node.args[0].value} has no literal unit"
            found[node.args[0].value] = (node.func.attr, unit.value)
    assert found, "no instruments found in telemetry.py"
    return found


def _attribute_literals() -> set[str]:
    """Every `rpc.*` / `openenv.*` string literal in telemetry.py and servicer.py."""
    return {
        node.value
        for path in (TELEMETRY, SERVICER)
        for node in ast.walk(_tree(path))
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and ATTRIBUTE_NAME.fullmatch(node.value)
    }


def _service_name() -> str:
    text = PROTO.read_text()
    package = re.search(r"^package\s+([\w.]+);", text, re.MULTILINE)
    assert package, "the proto has no package"
    assert re.search(r"^service EnvService\s*\{", text, re.MULTILINE)
    assert 'services_by_name["EnvService"]' in SERVICER.read_text()
    return f"{package.group(1)}.EnvService"


def _server_span_names() -> set[str]:
    """One span per `@_rpc` method, plus the per-message StepStream span."""
    service, source = _service_name(), SERVICER.read_text()
    methods = {
        node.name
        for node in ast.walk(_tree(SERVICER))
        if isinstance(node, ast.AsyncFunctionDef)
        and any(isinstance(d, ast.Name) and d.id == "_rpc" for d in node.decorator_list)
    }
    assert methods, "no @_rpc methods in servicer.py"
    assert 'f"{SERVICE_NAME}/{method.__name__}"' in source
    assert 'f"{SERVICE_NAME}/StepStream"' in source
    return {f"{service}/{method}" for method in methods | {"StepStream"}}


def _env_span_names() -> set[str]:
    names = {
        node.args[0].value
        for node in ast.walk(_tree(SERVICER))
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "env_span"
        and node.args
        and isinstance(node.args[0], ast.Constant)
    }
    assert names, "no env_span(...) calls in servicer.py"
    return names


def _close_reasons() -> dict[str, str]:
    """sessions.CloseReason: label (the member's name, lowercased) -> log phrase."""
    for node in ast.walk(_tree(SESSIONS)):
        if isinstance(node, ast.ClassDef) and node.name == "CloseReason":
            return {
                statement.targets[0].id.lower(): statement.value.value
                for statement in node.body
                if isinstance(statement, ast.Assign)
                and isinstance(statement.targets[0], ast.Name)
                and isinstance(statement.value, ast.Constant)
            }
    raise AssertionError("sessions.py has no CloseReason")


# --- the doc against the code --------------------------------------------------


def test_doc_spans_are_the_code_spans() -> None:
    documented = [_one_name(row[0]) for row in _table("span")]
    assert len(documented) == len(set(documented)), "a span is listed twice"
    code = _server_span_names() | _env_span_names()
    assert set(documented) - code == set(), "spans on the page that the code never makes"
    assert code - set(documented) == set(), "spans the code makes that the page omits"


def test_doc_span_kinds() -> None:
    """RPC spans are SERVER; env spans take the SDK's default kind, INTERNAL."""
    assert "kind=SpanKind.SERVER" in _function_source(TELEMETRY, "rpc_span")
    assert "kind=" not in _function_source(TELEMETRY, "env_span")
    server = _server_span_names()
    for row in _table("span"):
        name = _one_name(row[0])
        assert row[1] == ("SERVER" if name in server else "INTERNAL"), name


def _function_source(path: Path, name: str) -> str:
    source = path.read_text()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name == name:
            return ast.get_source_segment(source, node) or ""
    raise AssertionError(f"{path.name} has no {name}")


def test_doc_span_attributes_exist_in_the_code() -> None:
    literals = _attribute_literals()
    for row in _table("span"):
        for attribute in _names(row[3]):
            assert attribute in literals, f"{row[0]}: {attribute} is not in the code"


def test_doc_attribute_table_is_the_code_attributes() -> None:
    documented = {_one_name(row[0]) for row in _table("attribute")}
    metric_names = set(_instruments())
    code = _attribute_literals() - metric_names
    assert documented - code == set(), "attributes on the page that the code never sets"
    assert code - documented == set(), "attributes the code sets that the page omits"


def test_doc_metrics_are_the_code_instruments() -> None:
    rows = _table("metric")
    code = _instruments()
    documented = {_one_name(row[0]): row for row in rows}
    assert len(documented) == len(rows), "a metric is listed twice"
    assert set(documented) == set(code), "the metric table and telemetry.py differ"
    literals = _attribute_literals()
    for name, row in documented.items():
        method, unit = code[name]
        assert INSTRUMENTS.get(row[1]) == method, f"{name}: instrument {row[1]!r}, code {method}"
        assert _one_name(row[2]) == unit, f"{name}: unit {row[2]!r}, code {unit!r}"
        for attribute in _names(row[3]):
            assert attribute in literals, f"{name}: {attribute} is not in the code"


def test_doc_prometheus_names_are_what_the_exporter_renders() -> None:
    """Each metric, made as the table says, rendered by the Prometheus exporter."""
    registry = CollectorRegistry()
    provider = MeterProvider(metric_readers=[PrometheusMetricReader(registry=registry)])
    meter = provider.get_meter("openenv_grpc")
    rows = _table("metric")
    try:
        for row in rows:
            name, kind, unit = _one_name(row[0]), row[1], _one_name(row[2])
            attributes = {attribute: "x" for attribute in _names(row[3])}
            instrument = getattr(meter, INSTRUMENTS[kind])(name, unit=unit)
            if kind == "histogram":
                instrument.record(0.001, attributes)
            else:
                instrument.add(1, attributes)
        exposition = generate_latest(registry).decode()
    finally:
        provider.shutdown()
    samples: dict[str, set[str]] = {}
    for line in exposition.splitlines():
        match = re.match(r"(\w+)\{(.*)\} ", line)
        if match:
            labels = set(re.findall(r"(\w+)=\"", match.group(2)))
            samples.setdefault(match.group(1), set()).update(labels)
    for row in rows:
        name, rendered = _one_name(row[0]), _names(row[4])
        assert rendered, f"{name}: no Prometheus name on the page"
        for prometheus_name in rendered:
            assert prometheus_name.startswith(name.replace(".", "_")), prometheus_name
            assert prometheus_name in samples, f"{name}: the exporter has no {prometheus_name}"
            for attribute in _names(row[3]):
                label = attribute.replace(".", "_")
                assert label in samples[prometheus_name], f"{prometheus_name}: no {label}"


def test_doc_promql_uses_documented_prometheus_names() -> None:
    documented = {name for row in _table("metric") for name in _names(row[4])}
    queries = re.findall(r"```promql\n(.*?)```", DOC.read_text(), re.DOTALL)
    assert queries, "the page has no PromQL"
    attributes = _attribute_literals() - set(_instruments())
    labels = {attribute.replace(".", "_") for attribute in attributes}
    used = set(re.findall(r"\b(?:rpc|openenv)_[a-z_]+\b", "".join(queries))) - labels
    assert used, "no metric names found in the PromQL"
    assert used - documented == set(), "PromQL names not in the metric table"


def test_doc_close_reasons_are_the_code_reasons() -> None:
    rows = _table("reason")
    documented = {_one_name(row[0]): row[1] for row in rows}
    assert documented == _close_reasons()


def test_doc_flags_are_cli_flags() -> None:
    flags = {
        node.value
        for node in ast.walk(_tree(CLI))
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and node.value.startswith("--")
    }
    mentioned = set(re.findall(r"(?<![\w-])--[a-z][a-z-]*[a-z]", DOC.read_text()))
    assert mentioned, "the page names no flags"
    assert mentioned - flags - FOREIGN_FLAGS == set(), "flags that cli.py does not define"


def test_doc_health_services() -> None:
    names = [_names(row[0])[0] for row in _table("service")]
    assert names == ['""', _service_name()]
    assert 'for service in ("", SERVICE_NAME)' in APP.read_text()
