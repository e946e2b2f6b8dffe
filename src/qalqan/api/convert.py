"""Between yente's FtM-shaped JSON and Qalqan's model: examples in, scored entities out."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from followthemoney import model as ftm

import qalqan.matching.features as engine_features
from qalqan.api.models import (
    EntityExample,
    EntityResponse,
    FeatureExplanation,
    ScoredEntityResponse,
)
from qalqan.matching.screener import Screener, score_pair
from qalqan.model import Document, Entity, ListInfo, Match, Name, PartialDate, Query
from qalqan.model.entity import VESSEL_KINDS
from qalqan.model.query import FieldWarning
from qalqan.sources.idnumbers import identifier_problem, imo_problem
from qalqan.sources.queries import MAX_NAME_CHARS, normalise_gender
from qalqan.sources.schemata import screening_schema
from qalqan.sources.values import country_code, document_problem, parse_date

#: A yente client sends a handful of values per property; hundreds are a mistake or abuse and
#: would multiply the name comparisons per candidate.
MAX_VALUES_PER_PROPERTY = 50

NAME_PROPS = ("name", "alias", "weakAlias", "previousName", "abbreviation")
# Used only when no full name is given: FtM persons may come as name parts.
NAME_PART_PROPS = ("firstName", "secondName", "middleName", "fatherName", "motherName", "lastName")
DATE_PROPS = ("birthDate", "incorporationDate")
NATIONALITY_PROPS = ("nationality", "citizenship")
COUNTRY_PROPS = ("country", "jurisdiction", "mainCountry")
# FtM identifier properties -> the document type we record (free text, as lists write it).
DOCUMENT_PROPS = {
    "passportNumber": "Passport",
    "idNumber": "National Identification Number",
    "registrationNumber": "Registration Number",
    "taxNumber": "Tax Number",
    "innCode": "INN",
    "ogrnCode": "OGRN",
    "leiCode": "LEI",
    "swiftBic": "SWIFT/BIC",
    "imoNumber": "IMO Number",
    "mmsi": "MMSI",
    "callSign": "Call sign",
    "vatCode": "VAT number",
}
#: A Vessel's flags: compared as its nationality (UNCLOS art. 91), by `flag_conflict`.
FLAG_PROPS = ("flag", "pastFlags")
USED_PROPS = set(NAME_PROPS) | set(NAME_PART_PROPS) | set(DATE_PROPS) | set(NATIONALITY_PROPS) | set(COUNTRY_PROPS) | set(DOCUMENT_PROPS) | set(FLAG_PROPS) | {"gender"}


class InvalidExample(ValueError):
    """A query that cannot be screened; `loc` is the path to the offending field (FastAPI style)."""

    def __init__(self, loc: list[str | int], message: str):
        super().__init__(message)
        self.loc = loc
        self.message = message

    def as_error(self) -> dict[str, Any]:
        return {"loc": self.loc, "msg": self.message, "type": "value_error"}


def example_to_query(key: str, example: EntityExample) -> tuple[Query, dict[str, Any], list[str], list[FieldWarning]]:
    """(query, the cleaned example echoed back as yente does, ignored property names, values
    left out of the query).

    A query is refused (InvalidExample) only when it cannot be screened at all: an unknown
    schema, a property its schema does not have, too many values, no usable name. A value that
    cannot be read (an impossible date, an unknown country or gender, a document number too
    short to compare, one name among others that is too long) is left out with a warning naming
    the property and the value, and the query is screened on the rest: a typo in a date must
    not hide a listed person.
    """
    base: list[str | int] = ["body", "queries", key]
    schema = screening_schema(example.schema_)
    if schema is None:
        raise InvalidExample(base + ["schema"], f"unknown or unsupported schema {example.schema_!r}; use Person, Organization, Company, LegalEntity or Vessel")
    ftm_schema = ftm.get(example.schema_)
    assert ftm_schema is not None
    props: dict[str, list[str]] = {}
    for prop, raw in example.properties.items():
        loc = base + ["properties", prop]
        values = [raw] if isinstance(raw, str) else list(raw)
        if prop not in ftm_schema.properties:
            raise InvalidExample(loc, f"{prop!r} is not a property of {ftm_schema.name}")
        if len(values) > MAX_VALUES_PER_PROPERTY:
            raise InvalidExample(loc, f"{len(values)} values; at most {MAX_VALUES_PER_PROPERTY} per property")
        cleaned = [v.strip() for v in values if v.strip()]
        if cleaned:
            props[prop] = cleaned
    ignored = sorted(p for p in props if p not in USED_PROPS)
    warnings: list[FieldWarning] = []

    def warn(prop: str, value: str, message: str) -> None:
        warnings.append(FieldWarning.of(prop, value, f"{message}; screened without it"))

    names: list[str] = []
    too_long: list[tuple[str, int, str]] = []
    for prop in NAME_PROPS:
        for i, name in enumerate(props.get(prop, [])):
            if len(name) > MAX_NAME_CHARS:
                too_long.append((prop, i, name))
            else:
                names.append(name)
    if not names:
        parts = [props[p][0] for p in NAME_PART_PROPS if p in props]
        if parts:
            names.append(" ".join(parts))
    if not names:
        if too_long:
            prop, i, name = too_long[0]
            raise InvalidExample(base + ["properties", prop, i], f"name is {len(name)} characters long; at most {MAX_NAME_CHARS}")
        raise InvalidExample(base + ["properties", "name"], "empty name: give at least one non-empty 'name'")
    for prop, _, name in too_long:
        warn(prop, name, f"name is {len(name)} characters long; at most {MAX_NAME_CHARS}")

    dates: list[PartialDate] = []
    for prop in DATE_PROPS:
        for text in props.get(prop, []):
            try:
                dates.append(parse_date(text))
            except ValueError as exc:
                warn(prop, text, str(exc))

    def countries(names_: tuple[str, ...]) -> list[str]:
        out: list[str] = []
        for prop in names_:
            for text in props.get(prop, []):
                code = country_code(text)
                if code is None:
                    warn(prop, text, f"unknown country {text!r}")
                elif code not in out:
                    out.append(code)
        return out

    nationalities = countries(NATIONALITY_PROPS)
    nationalities += [f for f in countries(FLAG_PROPS) if f not in nationalities]  # FtM: Vessel only
    country_codes = countries(COUNTRY_PROPS)
    gender = None
    for text in props.get("gender", []):
        read = normalise_gender(text)
        if read is None:
            warn("gender", text, f"unknown gender {text!r}; expected male, female or other")
        else:
            gender = read
    documents: list[Document] = []
    for prop, doc_type in DOCUMENT_PROPS.items():
        for number in props.get(prop, []):
            problem = _number_problem(prop, Document(number, doc_type), schema)
            if problem is not None:
                warn(prop, number, problem)
            else:
                documents.append(Document(number, doc_type))
    query = Query(
        names=tuple(names),
        schema=schema,
        id=example.id or key,
        birth_dates=tuple(dates),
        nationalities=tuple(nationalities),
        countries=tuple(country_codes),
        gender=gender,
        documents=tuple(documents),
    )
    echo = {"id": example.id, "schema": ftm_schema.name, "properties": props}
    return query, echo, ignored, warnings


def _number_problem(prop: str, doc: Document, schema: str) -> str | None:
    """Why an identifier property's value cannot be compared: an IMO number failing its check
    digit (a Vessel's by the ship scheme), an MMSI that is not 9 digits, a call sign, BIC or
    IBAN that is not one; any other number too short to compare."""
    if prop == "imoNumber":
        return imo_problem(doc.number, vessel_only=schema == "Vessel")
    if doc.kind in VESSEL_KINDS:
        return identifier_problem(doc)
    return document_problem(doc.number) or identifier_problem(doc)


def _when(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        return None


def entity_response(entity: Entity, info: ListInfo | None) -> dict[str, Any]:
    """The yente entity JSON for one listed entity."""
    data = {
        "id": entity.id,
        "caption": entity.caption,
        "schema": entity.schema,
        "properties": entity.properties(),
        "datasets": [entity.list],
        "referents": [entity.reference] if entity.reference else [],
        "target": True,  # every entity on a sanctions list is a screening target
        # yente's first_seen is when the publisher first listed it; a list's own date is our last_seen.
        "first_seen": _when(entity.listed_on),
        "last_seen": _when(info.published or info.loaded_at) if info else None,
        "last_change": _when(info.published) if info else None,
    }
    return EntityResponse.model_validate(data).model_dump(by_alias=True, mode="json")


def scored_response(match: Match, info: ListInfo | None) -> ScoredEntityResponse:
    data = entity_response(match.entity, info)
    features: dict[str, float] = {}
    for f in match.explanation:
        # yente's map holds one number per feature; keep the strongest reading of a repeated one.
        # Zero readings are left out, as nomenklatura leaves them out of yente's map.
        if f.score == 0:
            continue
        if f.feature not in features or abs(f.score) > abs(features[f.feature]):
            features[f.feature] = round(f.score, 4)
    data.update(
        score=round(match.score, 4),
        match=match.match,
        features=features,
        explanation=[FeatureExplanation.model_validate(f.as_dict()) for f in match.explanation],
    )
    return ScoredEntityResponse.model_validate(data)


def feature_docs(screener: Screener) -> dict[str, dict[str, Any]]:
    """yente's `matcher` map (feature -> description, coefficient, url), read off the engine.

    The coefficients are the weights the engine itself reports in an explanation, so they can
    never drift from what it scores with; descriptions are the feature functions' docstrings.
    """
    probe = score_pair(Query(names=("probe",)), Entity("probe", "Person", "probe", "probe", (Name("probe"),)), threshold=screener.threshold)
    # Read defensively: the engine's feature functions are its own business, docs are a nicety.
    fns = list(getattr(engine_features, "FEATURES", ()))
    docs_by_name = {getattr(fn, "__name__", ""): fn.__doc__ for fn in fns}
    docs_by_name["name"] = getattr(getattr(engine_features, "name_similarity", None), "__doc__", None)
    out: dict[str, dict[str, Any]] = {}
    for f in probe.explanation:
        doc = docs_by_name.get(f.feature)
        out[f.feature] = {
            "description": " ".join(doc.split()) if doc else None,
            "coefficient": f.weight,
            "url": "",  # yente links each feature's source; ours is described inline
        }
    return out
