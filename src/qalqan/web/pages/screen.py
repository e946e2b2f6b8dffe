"""Screen a name: a form (name in any script, date of birth, nationality, document number, kind
of entity, purpose) and the ranked results, each with its explanation.

The page screens through the JSON API's own screening route (`api.routes.match`, called as a
function with one yente-shaped example): the same query building (`api.convert.example_to_query`),
the same `service.screener` call with the calibrated threshold and yente's cut-off, and the same
audit entry with the purpose (recorded before the answer is shown). Nothing of the matching is
repeated here: this module only turns the form into an example and the answer into a page.
"""

from __future__ import annotations

from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Depends, Form, HTTPException, Request, Response
from fastapi.responses import HTMLResponse

from qalqan.api import convert, routes
from qalqan.api.models import EntityExample, EntityMatchQuery
from qalqan.service.audit import input_hash
from qalqan.web.auth import WebUser, web_require
from qalqan.web.templating import is_htmx, render

router = APIRouter(include_in_schema=False)

#: Results shown per screening (the API's default is 5; a person at a desk reads a few more).
LIMIT = 10
#: The kinds of entity the form offers -> the FtM schema sent ("any": LegalEntity, which the
#: scorer treats as "could be either" and never counts as a schema conflict).
SCHEMATA: dict[str, str] = {"any": "LegalEntity", "Person": "Person", "Organization": "Organization", "Vessel": "Vessel"}
DEFAULT_SCHEMA = "any"
#: Which FtM property each form field becomes, by schema (a vessel has a flag and an IMO number,
#: an organisation an incorporation date and a country).
PROPERTIES: dict[str, dict[str, str | None]] = {
    "Person": {"birth_date": "birthDate", "nationality": "nationality", "document": "idNumber"},
    "Organization": {"birth_date": "incorporationDate", "nationality": "country", "document": "registrationNumber"},
    "LegalEntity": {"birth_date": "incorporationDate", "nationality": "country", "document": "idNumber"},
    "Vessel": {"birth_date": None, "nationality": "flag", "document": "imoNumber"},
}
FIELDS = ("name", "birth_date", "nationality", "document", "schema", "purpose")
#: Longest value kept from a field (a longer name is refused by the API's own check, by field).
MAX_CHARS = {"name": 100_000, "purpose": 1000}

#: An FtM property (as the API names it in errors and warnings) -> the form field it came from.
FIELD_OF: dict[str, str] = {
    **{p: "name" for p in convert.NAME_PROPS + convert.NAME_PART_PROPS},
    **{p: "birth_date" for p in convert.DATE_PROPS},
    **{p: "nationality" for p in convert.NATIONALITY_PROPS + convert.COUNTRY_PROPS + convert.FLAG_PROPS},
    **{p: "document" for p in convert.DOCUMENT_PROPS},
    "schema": "schema",
}


def _form(values: dict[str, str | None], user: WebUser) -> dict[str, str]:
    """The form's values, trimmed; the purpose is the session's when the form gave none at all."""
    form = {k: (values.get(k) or "").strip()[: MAX_CHARS.get(k, 1000)] for k in FIELDS}
    if form["schema"] not in SCHEMATA:
        form["schema"] = DEFAULT_SCHEMA
    if values.get("purpose") is None:
        form["purpose"] = user.purpose
    return form


def _example(form: dict[str, str]) -> EntityExample:
    schema = SCHEMATA[form["schema"]]
    props: dict[str, str | list[str]] = {"name": form["name"]}
    for field, prop in PROPERTIES[schema].items():
        if prop is not None and form[field]:
            props[prop] = form[field]
    return EntityExample.model_validate({"schema": schema, "properties": props})


def _field(loc: list[Any]) -> str:
    """The form field an API error location ([..., 'properties', prop, i]) points at."""
    parts = [str(p) for p in loc]
    if "properties" in parts and parts.index("properties") + 1 < len(parts):
        return FIELD_OF.get(parts[parts.index("properties") + 1], "name")
    return FIELD_OF.get(parts[-1], "name") if parts else "name"


def _screen(request: Request, user: WebUser, form: dict[str, str]) -> tuple[dict[str, Any] | None, dict[str, str], dict[str, str]]:
    """(the API's answer for the one query, or None; errors by field; warnings by field). An
    error is a code the template words ("name-required", ...) or the API's own message."""
    errors: dict[str, str] = {}
    warnings: dict[str, str] = {}
    if not form["name"]:
        errors["name"] = "name-required"
    if not form["purpose"]:
        errors["purpose"] = "purpose-required"
    if form["schema"] == "Vessel" and form["birth_date"]:
        errors["birth_date"] = "vessel-date"
    if errors:
        return None, errors, warnings
    body = EntityMatchQuery.model_validate({"queries": {"q": _example(form)}})
    digest = input_hash(orjson.dumps(body.model_dump(by_alias=True), option=orjson.OPT_SORT_KEYS))
    try:
        answer = routes.match(
            principal=user.principal, purpose=form["purpose"], digest=digest, request=request, response=Response(), body=body,
            dataset="default", limit=LIMIT, threshold=None, cutoff=routes.DEFAULT_CUTOFF, algorithm="qalqan",
            include_dataset=[], exclude_dataset=[], exclude_schema=[],
        )
    except HTTPException as exc:
        if exc.status_code != 422 or not isinstance(exc.detail, list):
            raise
        for error in exc.detail:
            errors.setdefault(_field(error.get("loc", [])), str(error.get("msg", "")))
        return None, errors, warnings
    result = answer.model_dump(by_alias=True, mode="json")
    found = result["responses"]["q"]
    for w in found.get("warnings", []):
        field = FIELD_OF.get(str(w.get("field")), "name")
        warnings[field] = f"{warnings[field]}; {w['message']}" if field in warnings else str(w["message"])
    found["notes"] = result.get("notes", [])
    return found, errors, warnings


def _values(request: Request, user: WebUser, form: dict[str, str], found: dict[str, Any] | None, errors: dict[str, str],
            warnings: dict[str, str], submitted: bool) -> dict[str, Any]:
    screener = request.app.state.service.screener
    return {
        "form": form,
        "errors": errors,
        "warnings": warnings,
        "found": found,
        "submitted": submitted,
        "threshold": screener.threshold,
        "cutoff": routes.DEFAULT_CUTOFF,
        "limit": LIMIT,
        "schemata": list(SCHEMATA),
        "lists": sorted(info.name for info in screener.lists),
    }


@router.get("/ui/screen")
def screen_page(request: Request, user: Annotated[WebUser, Depends(web_require("screen"))]) -> HTMLResponse:
    form = _form({}, user)
    return render(request, "screen/page.html", _values(request, user, form, None, {}, {}, False), user=user)


@router.post("/ui/screen")
def screen(
    request: Request,
    user: Annotated[WebUser, Depends(web_require("screen"))],
    name: Annotated[str, Form()] = "",
    birth_date: Annotated[str, Form()] = "",
    nationality: Annotated[str, Form()] = "",
    document: Annotated[str, Form()] = "",
    schema_: Annotated[str, Form(alias="schema")] = DEFAULT_SCHEMA,
    purpose: Annotated[str | None, Form()] = None,
) -> HTMLResponse:
    """Screen the form's query (audited with its purpose); the results, or the form's errors
    next to their fields (422). An htmx request gets the form and results only. A form without
    a purpose field screens with the session's purpose; a blank one is refused."""
    raw: dict[str, str | None] = {"name": name, "birth_date": birth_date, "nationality": nationality, "document": document, "schema": schema_, "purpose": purpose}
    form = _form(raw, user)
    found, errors, warnings = _screen(request, user, form)
    values = _values(request, user, form, found, errors, warnings, True)
    template = "screen/_area.html" if is_htmx(request) else "screen/page.html"
    # An htmx request must get a 200 to be swapped in (htmx leaves 4xx answers out).
    status = 422 if errors and not is_htmx(request) else 200
    return render(request, template, values, user=user, status=status)
