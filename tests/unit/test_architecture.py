"""One owner per table: each table of finops/data/tables.py is written by the one module docs/architecture.md
names (the writers outside it today are listed in ALLOWED below, to be moved).

A module writes a table when its source (read with `ast`, never imported) does one of:
- constructs a row: `Anomaly(...)`, with the class imported from finops.data.tables;
- runs DML on it: `insert(X)`, `update(X)`, `delete(X)` (X the class, `X.__table__` or a name bound to it),
  `X.__table__.insert()` and the like, or SQL text `INSERT INTO x`, `UPDATE x`, `DELETE FROM x`;
- changes a row it holds: `row.status = ...` or `setattr(row, ...)`, where `row` was bound in the same
  function to `select(X)` or `session.get(X, ...)` results (also through `for row in ...`), to a
  parameter annotated `X`, or to a call of a finops function annotated to return `X`.
"""

import ast
import re
from pathlib import Path

import pytest

from finops.data import tables

ROOT = Path(__file__).parents[2]
SOURCES = sorted([*ROOT.glob("finops/**/*.py"), *ROOT.glob("pages/*.py"), ROOT / "Home.py"])
TABLES = {
    name: cls.__tablename__
    for name, cls in vars(tables).items()
    if isinstance(cls, type) and hasattr(cls, "__table__") and cls.__module__ == tables.__name__
}
DML = {"insert", "update", "delete"}
SQL_WRITE = re.compile(r"\b(?:INSERT\s+INTO|UPDATE|DELETE\s+FROM)\s+\"?(\w+)", re.IGNORECASE)
OWNER_ROW = re.compile(r"^\|\s*`(\w+)`\s*\|\s*`([\w/.]+\.py)`", re.MULTILINE)

# Writers outside the owner: none now. A write that has to stay outside its owner for a while goes here, with
# the reason; test_allowed_writers_still_write says when it can go.
ALLOWED: dict[str, set[str]] = {}


def owners() -> dict[str, str]:
    """table -> owning module, from the map in docs/architecture.md ("## Tables and their owners")."""
    text = (ROOT / "docs/architecture.md").read_text()
    section = text.split("## Tables and their owners", 1)[1].split("\n#", 1)[0]
    rows = OWNER_ROW.findall(section)
    assert len(rows) == len(dict(rows)), "a table appears twice in the map"
    return dict(rows)


def _module_name(path: Path) -> str:
    return ".".join(path.relative_to(ROOT).with_suffix("").parts)


def _annotated_tables(node: ast.AST | None, names: dict[str, str]) -> set[str]:
    """Tables named in an annotation such as `Anomaly`, `Anomaly | None` or `list[Anomaly]`."""
    return {names[n.id] for n in ast.walk(node) if isinstance(n, ast.Name) and n.id in names} if node else set()


def _returns() -> dict[tuple[str, str], set[str]]:
    """(module, function) -> tables its return annotation names, for every finops function."""
    out = {}
    for path in SOURCES:
        tree = ast.parse(path.read_text())
        names = _table_names(tree)
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                found = _annotated_tables(node.returns, names)
                if found:
                    out[(_module_name(path), node.name)] = found
    return out


def _table_names(tree: ast.Module) -> dict[str, str]:
    """Local name -> table for the table classes a module imports from finops.data.tables."""
    names = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module == tables.__name__:
            names.update({a.asname or a.name: TABLES[a.name] for a in node.names if a.name in TABLES})
    return names


def _module_aliases(tree: ast.Module) -> dict[str, str]:
    """Local name -> module for `from finops.x import y` and `import finops.x.y as y`."""
    aliases = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("finops"):
            aliases.update({a.asname or a.name: f"{node.module}.{a.name}" for a in node.names})
        elif isinstance(node, ast.Import):
            aliases.update({a.asname or a.name: a.name for a in node.names if a.name.startswith("finops")})
    return aliases


class _Writes(ast.NodeVisitor):
    """The tables one module writes (see the module docstring)."""

    def __init__(self, source: str, module: str, returns: dict[tuple[str, str], set[str]]):
        self.module = module
        self.tree = ast.parse(source)
        self.names = _table_names(self.tree)
        self.aliases = _module_aliases(self.tree)
        self.returns = returns
        self.bound: dict[str, set[str]] = {}  # variable -> tables its rows (or table object) come from
        self.written: set[str] = set()

    def run(self) -> set[str]:
        self.visit(self.tree)
        return self.written

    def tables_of(self, node: ast.AST) -> set[str]:
        """Tables an expression names: the class, `X.__table__`, or a variable bound to rows or a table."""
        if isinstance(node, ast.Name):
            return {self.names[node.id]} if node.id in self.names else set(self.bound.get(node.id, ()))
        if isinstance(node, ast.Attribute) and node.attr == "__table__":
            return self.tables_of(node.value)
        if isinstance(node, ast.Call) and _called(node) == "table_of" and node.args:  # db.table_of(X)
            return self.tables_of(node.args[0])
        return set()

    def rows_of(self, node: ast.AST) -> set[str]:
        """Tables whose rows an expression may hold: select(X), session.get(X, ...), a finops function
        annotated to return X, or variables already bound to rows."""
        found = set()
        owners_of_attributes = {id(n.value) for n in ast.walk(node) if isinstance(n, ast.Attribute)}
        for n in ast.walk(node):
            if isinstance(n, ast.Name) and n.id in self.bound and id(n) not in owners_of_attributes:
                found |= self.bound[n.id]  # `rows`, `[*runs, *asked]`; not `row.id`
            if not isinstance(n, ast.Call):
                continue
            func, first = n.func, n.args[0] if n.args else None
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if name in ("select", "get") and isinstance(first, ast.Name) and first.id in self.names:
                found.add(self.names[first.id])
            elif isinstance(func, ast.Name):
                found |= self.returns.get((self.module, func.id), set())
            elif isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name):
                found |= self.returns.get((self.aliases.get(func.value.id, ""), func.attr), set())
        return found

    def visit_FunctionDef(self, node: ast.FunctionDef) -> None:
        outer, self.bound = self.bound, dict(self.bound)
        for arg in [*node.args.posonlyargs, *node.args.args, *node.args.kwonlyargs]:
            if _annotated_tables(arg.annotation, self.names):
                self.bound[arg.arg] = _annotated_tables(arg.annotation, self.names)
        for child in ast.walk(node):  # bind first: a loop may change a row bound further down
            if isinstance(child, ast.For):
                value, targets = child.iter, [child.target]
            elif isinstance(child, ast.Assign):
                value, targets = child.value, child.targets
            else:
                continue
            found = self.tables_of(value) | self.rows_of(value)
            for target in targets:
                # `row = ...` binds; `member, res = ...` only when one table is involved (which element is
                # which is not known), and `row.x = ...` is a store, not a binding
                if isinstance(target, ast.Name) and found:
                    self.bound[target.id] = self.bound.get(target.id, set()) | found
                elif isinstance(target, ast.Tuple) and len(found) == 1:
                    for n in target.elts:
                        if isinstance(n, ast.Name):
                            self.bound[n.id] = self.bound.get(n.id, set()) | found
        self.generic_visit(node)
        self.bound = outer

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_Call(self, node: ast.Call) -> None:
        func, first = node.func, node.args[0] if node.args else None
        if isinstance(func, ast.Name) and func.id in self.names:  # X(...): a new row
            self.written.add(self.names[func.id])
        elif isinstance(func, ast.Name) and func.id in DML and first is not None:  # insert(X), update(t)
            self.written |= self.tables_of(first)
        elif _called(node) in ("insert_new", "insert_missing") and len(node.args) > 1:  # db.insert_new(s, X, ...)
            self.written |= self.tables_of(node.args[1])
        elif isinstance(func, ast.Name) and func.id == "setattr" and first is not None:
            self.written |= self.rows_of(first)
        elif isinstance(func, ast.Attribute) and func.attr in DML and isinstance(func.value, ast.Attribute):
            self.written |= self.tables_of(func.value)  # X.__table__.insert()
        elif (
            isinstance(func, ast.Attribute) and func.attr in ("add", "merge", "delete") and isinstance(first, ast.Name)
        ):
            self.written |= self.bound.get(first.id, set())  # session.add(row), session.delete(row)
        self.generic_visit(node)

    def _stored(self, targets: list[ast.AST]) -> None:
        for target in targets:
            for n in ast.walk(target):
                if isinstance(n, ast.Attribute) and isinstance(n.ctx, ast.Store) and isinstance(n.value, ast.Name):
                    self.written |= self.bound.get(n.value.id, set())

    def visit_Assign(self, node: ast.Assign) -> None:
        self._stored(node.targets)
        self.generic_visit(node)

    def visit_AugAssign(self, node: ast.AugAssign) -> None:
        self._stored([node.target])
        self.generic_visit(node)

    def visit_Constant(self, node: ast.Constant) -> None:
        if isinstance(node.value, str):
            self.written |= {t for t in SQL_WRITE.findall(node.value) if t in TABLES.values()}


def _called(node: ast.Call) -> str:
    """The name a call calls: `f(...)` and `module.f(...)` both give "f"."""
    return node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")


@pytest.fixture(scope="module")
def writers() -> dict[str, set[str]]:
    """table -> the modules that write it."""
    returns = _returns()
    out: dict[str, set[str]] = {table: set() for table in TABLES.values()}
    for path in SOURCES:
        for table in _Writes(path.read_text(), _module_name(path), returns).run():
            out[table].add(str(path.relative_to(ROOT)))
    return out


def test_every_table_has_one_owner_in_the_architecture_map():
    mapped = owners()
    assert sorted(mapped) == sorted(TABLES.values()), "docs/architecture.md must map every table to one module"
    assert all((ROOT / module).exists() for module in mapped.values())


def test_each_owner_writes_its_table(writers):
    assert {t: m for t, m in owners().items() if m not in writers[t]} == {}


def test_no_table_is_written_outside_its_owner(writers):
    outside = {
        table: sorted(modules - {owners()[table]} - ALLOWED.get(table, set()))
        for table, modules in writers.items()
        if modules - {owners()[table]} - ALLOWED.get(table, set())
    }
    assert outside == {}, "store through the owning module (docs/architecture.md), or fix the map"


def test_allowed_writers_still_write(writers):
    stale = {table: sorted(modules - writers[table]) for table, modules in ALLOWED.items() if modules - writers[table]}
    assert stale == {}, "these modules no longer write the table: remove them from ALLOWED (issue 10)"


def written(source: str) -> set[str]:
    return _Writes(source, "finops.example", _returns()).run()


def test_the_rules_find_each_kind_of_write():
    source = """
from sqlalchemy import delete, select, update
from finops.data import power
from finops.data.tables import Anomaly, CeFeature, ForecastRun, Heartbeat, Recommendation, RefreshRun

def construct(session):
    session.add(Anomaly(source="x"))

def dml(session):
    session.execute(delete(Recommendation).where(Recommendation.status == "open"))

def alias(conn):
    t = Heartbeat.__table__
    conn.execute(update(t).values(pid=1))

def fetched(session):
    runs = session.execute(select(RefreshRun)).scalars().all()
    for run in [*runs]:
        run.status, run.error = "failed", "gone"

def annotated(session, feature: CeFeature):
    setattr(feature, "status", "ok")

def returned(session):
    row = power.take_next(session=session)
    row.status = "failed"

def got(session):
    session.delete(session.get(ForecastRun, 1))
    run = session.get(ForecastRun, 2)
    session.delete(run)

SQL = "DELETE FROM forecast_point WHERE run_id = 1"
"""
    assert written(source) == {
        "anomaly", "recommendation", "heartbeat", "refresh_run", "ce_feature", "power_action", "forecast_run",
        "forecast_point",
    }  # fmt: skip


def test_reads_are_not_writes():
    source = """
from sqlalchemy import func, select
from finops.data.tables import Anomaly, RefreshRun

def reads(session, names: dict):
    rows = session.execute(select(Anomaly).where(Anomaly.source == "aws")).scalars().all()
    seen = set()
    for row in rows:
        seen.add(row.id)
        names.update({row.external_id: row.service})
    count = session.execute(select(func.count()).select_from(RefreshRun)).scalar_one()
    last = session.get(RefreshRun, count)
    status = last.status
    return seen, status, "SELECT * FROM anomaly"
"""
    assert written(source) == set()
