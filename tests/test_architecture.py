"""The layering docs/architecture.md describes, checked on the source: every module imports on
its own (no import cycle), no module uses another's private names, events leave only through
web/events.py, and the printer's device layer imports nothing of the web layer."""

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("admin", "booking", "counter", "db", "display", "kiosk", "printer", "web", "webhooks")


def project_modules():
    """{dotted name: path} of every module of the app: its packages and the top-level modules
    (wsgi.py builds an app on import, gunicorn.conf.py is gunicorn's: left out)."""
    found = {path.stem: path for path in sorted(ROOT.glob("*.py"))
             if path.name != "wsgi.py" and "." not in path.stem}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            found[".".join(parts)] = path
    return found


MODULES = project_modules()
# Everything an import of the project starts with: the packages and the top-level modules.
TOP = (*PACKAGES, *(name for name in MODULES if "." not in name and name not in PACKAGES))

# Imports each module in turn with every project module forgotten first, so a module that
# works only because another one was imported before it (a cycle) fails under its own name.
IMPORT_EACH = """
import importlib, json, sys, traceback
names, packages = json.loads(sys.argv[1]), tuple(json.loads(sys.argv[2]))
failed = {}
for name in names:
    for loaded in [m for m in sys.modules if m.split(".")[0] in packages]:
        del sys.modules[loaded]
    try:
        importlib.import_module(name)
    except BaseException as e:
        failed[name] = "".join(traceback.format_exception_only(type(e), e)).strip()
print(json.dumps(failed))
"""


@pytest.fixture(scope="module")
def import_failures():
    """{module: error} from two interpreters importing half the modules each, side by side."""
    names = sorted(MODULES)
    runs = [subprocess.Popen([sys.executable, "-c", IMPORT_EACH, json.dumps(names[i::2]), json.dumps(TOP)],
                             cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            for i in range(2)]
    failed = {}
    for run in runs:
        out, err = run.communicate(timeout=180)
        assert run.returncode == 0, err
        failed.update(json.loads(out.strip().splitlines()[-1]))
    return failed


@pytest.mark.parametrize("module", sorted(MODULES))
def test_module_imports_alone(module, import_failures):
    assert module not in import_failures, import_failures.get(module)


def test_the_import_check_names_a_module_that_needs_another_first(tmp_path):
    # cyc.b works only once cyc.a is loaded: a cycle that an import order hides.
    (tmp_path / "cyc").mkdir()
    (tmp_path / "cyc" / "__init__.py").write_text("")
    (tmp_path / "cyc" / "a.py").write_text("X = 1\nfrom cyc.b import Y\n")
    (tmp_path / "cyc" / "b.py").write_text("from cyc.a import X\nY = X\n")
    out = subprocess.run([sys.executable, "-c", IMPORT_EACH, json.dumps(["cyc.a", "cyc.b"]), json.dumps(["cyc"])],
                         cwd=tmp_path, capture_output=True, text=True, timeout=60)
    failed = json.loads(out.stdout.strip().splitlines()[-1])
    assert list(failed) == ["cyc.b"] and "partially initialized" in failed["cyc.b"]


def module_imports(path):
    """The project modules a module imports when it is loaded (its top level, not the
    imports inside functions, which run later)."""
    found = set()
    for node in ast.parse(path.read_text(), str(path)).body:
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found |= {f"{node.module}.{alias.name}" if f"{node.module}.{alias.name}" in MODULES
                      else node.module for alias in node.names}
    return {name for name in found if name in MODULES}


def import_cycles():
    """Every loop of module-level imports, each as the list of its modules."""
    graph = {name: module_imports(path) - {name} for name, path in MODULES.items()}
    cycles, done = [], set()

    def walk(name, trail):
        if name in trail:
            cycle = trail[trail.index(name):]
            if set(cycle) not in [set(c) for c in cycles]:
                cycles.append(cycle)
            return
        if name in done:
            return
        for dep in sorted(graph[name]):
            walk(dep, trail + [name])
        done.add(name)

    for name in sorted(graph):
        walk(name, [])
    return cycles


def test_no_module_level_import_cycle():
    assert import_cycles() == []


def _is_private(name):
    return name.startswith("_") and not name.startswith("__")


def private_uses(name, path):
    """(line, what) for each private name of another project module this module uses."""
    tree = ast.parse(path.read_text(), str(path))
    modules = {}  # a local name -> the project module it is bound to
    uses = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] in TOP:
                    local = alias.asname or alias.name.split(".")[0]
                    modules[local] = alias.name if alias.asname else local
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module \
                and node.module.split(".")[0] in TOP:
            for alias in node.names:
                if f"{node.module}.{alias.name}" in MODULES:
                    modules[alias.asname or alias.name] = f"{node.module}.{alias.name}"
                elif _is_private(alias.name) and node.module != name:
                    uses.append((node.lineno, f"from {node.module} import {alias.name}"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and _is_private(node.attr):
            chain, base = [], node.value
            while isinstance(base, ast.Attribute):
                chain.insert(0, base.attr)
                base = base.value
            if isinstance(base, ast.Name) and base.id in modules:
                owner = ".".join([modules[base.id], *chain])
                if owner in MODULES and owner != name:
                    uses.append((node.lineno, f"{owner}.{node.attr}"))
    return sorted(uses)


@pytest.mark.parametrize("module", sorted(MODULES))
def test_no_private_name_of_another_module(module):
    uses = private_uses(module, MODULES[module])
    assert not uses, "\n".join(f"{MODULES[module].relative_to(ROOT)}:{line}: {what}" for line, what in uses)


def test_the_scan_sees_a_private_use(tmp_path):
    path = tmp_path / "x.py"
    path.write_text("from db import accounts\nimport db.catalog as cat\nfrom db.reports import _KEYS\n"
                    "accounts._create_device(1)\ncat._now_iso()\naccounts.create_device(1)\n")
    assert private_uses("x", path) == [(3, "from db.reports import _KEYS"), (4, "db.accounts._create_device"),
                                       (5, "db.catalog._now_iso")]


def _imports(path):
    """The project modules a file imports, at any depth (lazy imports too)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module)
    return {name for name in found if name.split(".")[0] in TOP}


@pytest.mark.parametrize("module", sorted(m for m in MODULES if m.startswith("printer")))
def test_the_printer_device_layer_imports_nothing_of_the_web(module):
    assert not {name for name in _imports(MODULES[module]) if name.split(".")[0] == "web"}


@pytest.mark.parametrize("module", sorted(m for m in MODULES if m.startswith("db")))
def test_db_imports_no_surface(module):
    # db/ may use printer.transports' path rule (a leaf module of plain functions) and the
    # settings' defaults (a top-level settings module), nothing else of the app.
    surfaces = {name for name in _imports(MODULES[module])
                if name.split(".")[0] != "db" and name not in ("printer.transports", "settings")}
    assert not surfaces


def _emits(path):
    return [node.lineno for node in ast.walk(ast.parse(path.read_text(), str(path)))
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
            and node.func.attr in ("emit", "send") and isinstance(node.func.value, ast.Name)
            and node.func.value.id == "socketio"]


@pytest.mark.parametrize("module", sorted(m for m in MODULES if m != "web.events"))
def test_events_leave_only_through_web_events(module):
    assert not _emits(MODULES[module]), f"socketio.emit outside web/events.py, lines {_emits(MODULES[module])}"


def undeclared_api_routes(app):
    """The endpoints of the app's API blueprints not declared with web.auth.route (which
    marks each view with `who`, the callers it lets in)."""
    from apiflask import APIBlueprint

    found = []
    for rule in app.url_map.iter_rules():
        blueprint = app.blueprints.get(rule.endpoint.rpartition(".")[0])
        if isinstance(blueprint, APIBlueprint) and blueprint.name != "openapi" \
                and not rule.endpoint.endswith(".static") \
                and not hasattr(app.view_functions[rule.endpoint], "who"):
            found.append(rule.endpoint)
    return sorted(found)


def test_every_api_route_is_declared_with_route(app):
    assert len(app.url_map._rules) > 100
    assert undeclared_api_routes(app) == []


def test_the_route_check_names_a_bare_apiflask_route():
    from apiflask import APIBlueprint, APIFlask

    from web.auth import route

    bp = APIBlueprint("x_api", __name__)

    @bp.get("/bare")
    @bp.output({}, status_code=204)
    def bare():
        return ""

    @route(bp, "GET", "/declared", who="anyone", status=204, summary="Declared")
    def declared():
        return ""

    app = APIFlask(__name__)
    app.register_blueprint(bp)
    assert undeclared_api_routes(app) == ["x_api.bare"]


SURFACES = ("admin", "booking", "counter", "display", "kiosk", "webhooks")
SURFACE_MODULES = sorted(m for m in MODULES if m.split(".")[0] in SURFACES) + [
    "web.api", "web.auth", "web.pages", "web.print_api"]


def _sql_calls(path):
    return [node.lineno for node in ast.walk(ast.parse(path.read_text(), str(path)))
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
            and node.func.attr in ("execute", "executemany", "executescript")]


@pytest.mark.parametrize("module", SURFACE_MODULES)
def test_surfaces_read_and_write_through_db_functions(module):
    # A route is a check, one db call and the dispatcher: its SQL lives in db/.
    assert not _sql_calls(MODULES[module]), f"SQL in {module}, lines {_sql_calls(MODULES[module])}"
