"""No rule in a template (issue 16): what an operation allows, whether a request's amount is fixed, an
allocation's validity… are properties of the page models the views pass. A template that compares a value
with a wire literal ('PROCESSING', 'DEFERRED', '002', 'ACTIVE'…) or tests the state-bearing fields
themselves (`op.status == waiting`, `choice.parcours == 'A'`) holds a rule the domain already owns."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import jinja2
import pytest
from jinja2 import nodes

import sandbox.web
from sandbox.adapters import clock
from sandbox.domain import accounts, beneficiaries, merchants, operations, pre_transactions, transactions

TEMPLATES = Path(sandbox.web.__file__).parent / "templates"
# Where the values a template must not compare with are named: the Kit's states, sub-states, capture modes,
# tspd codes and reasons, the statuses and kinds of operations, a point's status, an account's kind, a clock's mode.
WIRE_MODULES: tuple[ModuleType, ...] = (transactions, pre_transactions, operations, merchants, beneficiaries,
                                        accounts, clock)
# Fields whose value is a state or a mode: comparing them is a rule, whatever they are compared with.
STATE_FIELDS = frozenset({"state", "sub_state", "status", "family", "kind", "capture_mode", "tspd_mode", "parcours",
                          "client_modes", "mode"})
COMPARING_TESTS = frozenset({"eq", "equalto", "==", "ne", "!=", "sameas", "in"})


def wire_values() -> frozenset[str]:
    """Every string an UPPER_CASE constant of WIRE_MODULES names, alone, in a collection or as a key."""
    found: set[str] = set()
    for module in WIRE_MODULES:
        for name, value in vars(module).items():
            if not name.isupper():
                continue
            if isinstance(value, str):
                found.add(value)
            elif isinstance(value, tuple | list | frozenset | set | dict):
                found.update(item for item in value if isinstance(item, str))
    return frozenset(found)


WIRE = wire_values()


def templates() -> list[Path]:
    return sorted(TEMPLATES.rglob("*.html"))


def _operands(compare: nodes.Compare) -> Iterator[nodes.Expr]:
    yield compare.expr
    for operand in compare.ops:
        yield operand.expr


def _field(expr: nodes.Node) -> str | None:
    """The field an operand reads (`op.status`, `choice.client_modes[0]`), if it reads one."""
    while isinstance(expr, nodes.Getitem):
        expr = expr.node
    return expr.attr if isinstance(expr, nodes.Getattr) else None


def _wire_literals(expr: nodes.Node) -> list[str]:
    consts = [expr, *expr.find_all(nodes.Const)] if isinstance(expr, nodes.Const) else expr.find_all(nodes.Const)
    return [const.value for const in consts if isinstance(const.value, str) and const.value in WIRE]


def rules_in(source: str) -> list[str]:
    """The comparisons of a template that hold a rule, as "line N: what"."""
    tree = jinja2.Environment().parse(source)
    found = []
    for compare in tree.find_all(nodes.Compare):
        for operand in _operands(compare):
            literals = _wire_literals(operand)
            if literals:
                found.append(f"line {compare.lineno}: compares with {', '.join(map(repr, literals))}")
            if (field := _field(operand)) in STATE_FIELDS:
                found.append(f"line {compare.lineno}: compares .{field}")
    for test in tree.find_all(nodes.Test):
        if test.name in COMPARING_TESTS and (literals := [v for arg in test.args for v in _wire_literals(arg)]):
            found.append(f"line {test.lineno}: tests {test.name} {', '.join(map(repr, literals))}")
    for call in tree.find_all(nodes.Filter):
        if call.name in ("selectattr", "rejectattr") and (literals := [v for a in call.args for v in _wire_literals(a)]):
            found.append(f"line {call.lineno}: {call.name} with {', '.join(map(repr, literals))}")
    return found


def test_the_wire_values_are_known():
    assert {"PROCESSING", "DEFERRED", "002", "REJECTED_TIMEOUT", "ABORTED_BENEFICIARY", "ACTIVE",
            operations.WAITING, "virtual"} <= WIRE


@pytest.mark.parametrize("source, rule", [
    ("{% if pre.state == 'PROCESSING' %}x{% endif %}", "compares with 'PROCESSING'"),
    ("{{ 'a' if '002' != pre.tspd_mode }}", "compares with '002'"),
    ("{% if o.status in (to_validate, waiting) %}x{% endif %}", "compares .status"),
    ("{% if choice.client_modes[0] == 'email' %}x{% endif %}", "compares .client_modes"),
    ("{% if mode is sameas 'DEFERRED' %}x{% endif %}", "tests sameas 'DEFERRED'"),
    ("{{ items|selectattr('state', 'equalto', 'EXPIRED')|list }}", "selectattr with 'EXPIRED'"),
])
def test_a_rule_in_a_template_is_found(source, rule):
    assert any(rule in found for found in rules_in(source))


@pytest.mark.parametrize("source", [
    "{% if op.can_cancel %}x{% endif %}",
    "{{ 'checked' if form.get('timing') == 'immediat' }}",
    "{{ 'current' if request.endpoint == 'app.home' }}",
    "{% if loop.index == step %}x{% endif %}",
])
def test_reading_a_property_or_echoing_a_form_is_not_a_rule(source):
    assert rules_in(source) == []


@pytest.mark.parametrize("path", templates(), ids=lambda p: str(p.relative_to(TEMPLATES)))
def test_templates_hold_no_rule(path):
    assert rules_in(path.read_text(encoding="utf-8")) == []
