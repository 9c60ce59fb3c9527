"""Forms of the pages: posted fields become the API's own schemas (the same rules, the same
messages, shown beside each field), and a service's refusal of a rule is shown on the form with
everything typed kept."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from sqlalchemy.orm import Session
from starlette.datastructures import FormData
from starlette.requests import Request

from app.access.audit.models import AuditAction
from app.access.audit.refusals import record_refused
from app.errors import AppError, validation_fields
from app.i18n import Language
from app.web.templating import page_language

M = TypeVar("M", bound=BaseModel)
T = TypeVar("T")
# Where a message without a field of its own is shown: at the top of the form.
FORM = ""


@dataclass
class FormState:
    """What a form shows again: the values as typed, each field's message, and the message of
    the form as a whole (a rule of the service, a record changed meanwhile)."""

    values: dict[str, str] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    problem: dict[str, Any] | None = None

    @property
    def failed(self) -> bool:
        return bool(self.errors) or self.problem is not None


def nested(values: Mapping[str, str], lists: Iterable[str] = ()) -> dict[str, Any]:
    """Flat form fields as the schema's structure: `a.b` nests, `goals.0.text` makes a list;
    an empty field is left out (the schema's default or null). Names in `lists` are lists even
    when no item was filled in."""
    tree: dict[str, Any] = {name: {} for name in lists}
    for name, value in values.items():
        if value == "" or name == "csrf_token":
            continue
        node = tree
        parts = name.split(".")
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = value
    converted: dict[str, Any] = _lists(tree)
    for name in lists:
        if converted[name] == {}:
            converted[name] = []
    return converted


def _lists(node: Any) -> Any:
    if not isinstance(node, dict):
        return node
    converted = {key: _lists(value) for key, value in node.items()}
    if converted and all(key.isdigit() for key in converted):
        return [converted[key] for key in sorted(converted, key=int)]
    return converted


def validate(
    schema: type[M], values: dict[str, Any], language: Language, state: FormState
) -> M | None:
    """The schema's object, or None with each field's message in `state.errors`."""
    try:
        return schema.model_validate(values)
    except ValidationError as invalid:
        for problem in validation_fields(invalid.errors(), language):
            state.errors.setdefault(problem["field"], problem["message"])
        return None


def attempt(
    session: Session,
    request: Request,
    work: Callable[[], T],
    state: FormState,
    action: AuditAction | None = None,
) -> T | None:
    """`work` in a savepoint: done, or undone with the service's refusal in `state.problem`,
    audited as the API audits it (as `action`). A refusal of access is no form's message: it
    goes on to the error page."""
    try:
        with session.begin_nested():
            return work()
    except AppError as refused:
        if refused.status in (401, 403, 404):
            raise
        if refused.audit_outcome:
            record_refused(session, request, refused, action)
        state.problem = refused.problem(page_language(request), request.url.path)
        for problem in refused.extensions.get("errors", []):
            state.errors.setdefault(str(problem.get("field")), str(problem.get("message")))
        return None


def form_values(form: FormData) -> dict[str, str]:
    """What was typed, as text (the form token left out)."""
    return {
        name: value
        for name, value in form.items()
        if isinstance(value, str) and name != "csrf_token"
    }


def refused_status(state: FormState) -> int:
    """A refused form's status: the service's (409 for a record changed meanwhile, 422…), or
    422 for invalid fields."""
    return int(state.problem["status"]) if state.problem else 422


def placed(state: FormState, known: Iterable[str], problem_fields: Mapping[str, str]) -> None:
    """Each message beside its field: a message about a list's item (`follow_up_months.2`) or
    a part without a field of its own goes to the nearest field that is on the form; one
    about no field goes to the top of the form. A refusal of the service with a field of its
    own (`problem_fields`, by its code) is shown beside that field instead."""
    order = {name: index for index, name in enumerate([FORM, *known])}
    moved: dict[str, str] = {}
    for name, message in state.errors.items():
        parts = name.split(".")
        while parts and ".".join(parts) not in order:
            parts.pop()
        moved.setdefault(".".join(parts), message)
    if state.problem is not None:
        field = problem_fields.get(str(state.problem.get("code")))
        if field is not None:
            # Said beside its field, and linked from the summary like any field's message.
            moved.setdefault(field, str(state.problem["detail"]))
            state.problem = None
    # In the order of the form, as the summary at its top lists them.
    state.errors = dict(sorted(moved.items(), key=lambda item: order[item[0]]))


def anchor(name: str) -> str:
    """The id of the field named `name` (the page's top for the form as a whole)."""
    return name.replace(".", "-") if name else "form-errors"


def form_fields() -> dict[str, Any]:
    """What the form macros need of a page: each field's id, and a `labelled` that records
    each field's label as the form is rendered, for the summary of its messages."""
    labels: dict[str, str] = {}

    def labelled(name: str, label: str) -> str:
        labels.setdefault(name, label)
        return ""

    return {"anchor": anchor, "field_labels": labels, "labelled": labelled}
