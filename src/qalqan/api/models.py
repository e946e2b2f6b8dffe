"""Request and response models of the HTTP API.

The /match shapes follow yente's (`yente/data/common.py`: EntityExample, EntityMatchQuery,
EntityMatches, EntityMatchResponse, ScoredEntityResponse, FeatureDoc) field for field, so a
yente client works unchanged. Qalqan adds fields a yente client ignores: `explanation` on each
result (the structured per-feature evidence), and `algorithm` / `notes` on the response.

Every text a request brings in is `Text` (or `Identifier`): JSON can carry a lone UTF-16
surrogate (`"\\ud800"`), which has no UTF-8 form, so the audit entry or the row it would end up
in could not be written; such text is refused here, with a 422 naming the field. Integers that
reach the database (`Offset`, ids, version numbers) are bounded by the column they meet: the
driver cannot bind a larger one.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import Query
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationInfo

from qalqan.model.identifiers import check_identifier, check_text

#: Largest BIGINT (ids; SQL OFFSET takes one too).
MAX_BIGINT = 2**63 - 1
#: Largest INTEGER (version numbers are INTEGER columns: PostgreSQL refuses a larger value).
MAX_INTEGER = 2**31 - 1


def _storable_text(value: str, info: ValidationInfo) -> str:
    return check_text(value, info.field_name or "text")


def _identifier(value: str, info: ValidationInfo) -> str:
    return check_identifier(value, info.field_name or "id")


def _storable_filter(value: str | None, info: ValidationInfo) -> str | None:
    return None if value is None else check_text(value, info.field_name or "text")


#: Free text from a request (a name, a reason): anything but NUL and lone surrogates.
Text = Annotated[str, AfterValidator(_storable_text)]
#: For an optional query parameter compared with a column (PostgreSQL refuses NUL in a query):
#: `Annotated[str | None, Query(...), StorableFilter]`.
StorableFilter = AfterValidator(_storable_filter)
#: An identifier from a request (a subject id): see `qalqan.model.identifiers`.
Identifier = Annotated[str, AfterValidator(_identifier)]


class ErrorResponse(BaseModel):
    detail: Any = Field(..., examples=["No such list: 'xx'"])


class EntityExample(BaseModel):
    """One query: an FtM-shaped example entity, as yente takes it."""

    model_config = ConfigDict(populate_by_name=True)

    id: Text | None = Field(None, examples=["my-entity-id"])
    schema_: Text = Field(..., alias="schema", examples=["Person"])
    properties: dict[Text, Text | list[Text]] = Field(
        ...,
        examples=[{"name": ["John Doe"], "birthDate": ["1975-04-21"], "nationality": ["us"]}],
    )


class EntityMatchQuery(BaseModel):
    weights: dict[Text, float] = Field({}, examples=[{"name_literal": 0.8}])
    queries: dict[Text, EntityExample]


class TotalSpec(BaseModel):
    value: int = Field(..., examples=[42])
    relation: str = Field("eq", examples=["eq"])


class AlignedToken(BaseModel):
    """One step of a name alignment: which query token met which candidate token, and how."""

    # As in FeatureExplanation: what the engine adds to a step (its Latin forms, keys) passes through.
    model_config = ConfigDict(extra="allow")

    query: str | None = Field(..., description="the query's word(s) as written, in their own script")
    candidate: str | None = Field(..., description="the listed name's word(s) as written")
    query_latin: str | None = Field(None, description="the query token in Latin letters")
    query_key: str | None = Field(None, description="what the matcher compared (its spelling-variant key)")
    candidate_latin: str | None = None
    candidate_key: str | None = None
    similarity: float
    how: str = Field(..., examples=["exact", "variant", "skeleton", "fuzzy", "initial", "joined", "article", "unmatched"])
    weight: float


class FeatureExplanation(BaseModel):
    """One feature's evidence for a result: Qalqan's structured explanation."""

    # Fields the engine adds later pass through rather than being dropped from the explanation.
    model_config = ConfigDict(extra="allow")

    feature: str
    score: float
    weight: float
    contribution: float
    query_value: str | None = None
    candidate_value: str | None = None
    detail: str | None = None
    missing: str | None = Field(None, description="which side lacks the value: 'query', 'candidate' or 'both' (None: both have one)")
    alignment: list[AlignedToken] | None = Field(None, description="name features: the token-by-token evidence")


class EntityResponse(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    id: str = Field(..., examples=["un-6908555"])
    caption: str = Field(..., examples=["John Doe"])
    schema_: str = Field(..., alias="schema", examples=["Person"])
    properties: dict[str, list[str]] = Field(..., examples=[{"name": ["John Doe"]}])
    datasets: list[str] = Field([], examples=[["un"]])
    referents: list[str] = Field([], examples=[["QDi.001"]])
    target: bool = False
    first_seen: datetime | None = None
    last_seen: datetime | None = None
    last_change: datetime | None = None


class ScoredEntityResponse(EntityResponse):
    score: float = 0.99
    features: dict[str, float]
    match: bool = False
    explanation: list[FeatureExplanation] = Field([], description="Qalqan: per-feature evidence behind the score")


class QueryWarning(BaseModel):
    """A value of a query that could not be read and was left out: the query was screened on
    everything else (Qalqan; a yente client ignores it)."""

    field: str = Field(..., examples=["birthDate"])
    value: str | None = Field(None, examples=["1974-01-32"])
    message: str = Field(..., examples=["impossible date '1974-01-32': day out of range: 32; screened without it"])


class EntityMatches(BaseModel):
    status: int = Field(200, examples=[200])
    results: list[ScoredEntityResponse]
    total: TotalSpec
    query: EntityExample
    warnings: list[QueryWarning] = Field([], description="Qalqan: values of the query left out of the screening (impossible dates, unknown countries, ...)")


class FeatureDoc(BaseModel):
    description: str | None
    coefficient: float
    url: str


class EntityMatchResponse(BaseModel):
    responses: dict[str, EntityMatches]
    matcher: dict[str, FeatureDoc]
    limit: int = Field(..., examples=[5])
    algorithm: str = Field("qalqan", description="Qalqan: the scorer that produced the results")
    notes: list[str] = Field([], description="Qalqan: request options that were accepted but not applied")


class ListResponse(BaseModel):
    name: str
    format: str
    source: str
    title: str
    published: str | None
    loaded_at: str | None
    sha256: str | None
    counts: dict[str, int]
    total: int
    warnings: int
    skipped: int


class ListsResponse(BaseModel):
    lists: list[ListResponse]


class HealthResponse(BaseModel):
    status: str = "ok"
    entities: int
    lists: list[str]


# -- the monitoring service -------------------------------------------------------------------------

#: Items per page unless asked otherwise, and the most one page may hold: a page is read in one
#: query and serialised in one response, so it must stay small whatever the table holds.
DEFAULT_PAGE = 50
MAX_PAGE = 1000

#: Paging parameters of the list routes.
Offset = Annotated[int, Query(ge=0, le=MAX_BIGINT, description="Items to skip")]
Limit = Annotated[int, Query(ge=1, le=MAX_PAGE, description=f"Items per page (at most {MAX_PAGE})")]


class Page(BaseModel):
    """One page of a list response: `total` items match, `items` holds those from `offset`."""

    total: int = Field(..., examples=[1234])
    offset: int = Field(0, examples=[0])
    limit: int = Field(DEFAULT_PAGE, examples=[DEFAULT_PAGE])
    items: list[dict[str, Any]]


class JobStarted(BaseModel):
    job: str = Field(..., description="The job id: follow it at /jobs/{id}", examples=["a1b2c3d4e5f60718293a4b5c6d7e8f90"])
    status: str = Field("queued", examples=["queued"])
    url: str = Field(..., examples=["/jobs/a1b2c3d4e5f60718293a4b5c6d7e8f90"])


class JobResponse(BaseModel):
    id: str
    kind: str = Field(..., examples=["subjects.import", "list.import", "list.fetch"])
    status: str = Field(..., examples=["queued", "running", "done", "failed", "interrupted"], description="interrupted: the server restarted before the job finished")
    done: int
    total: int | None
    error: str | None
    result: dict[str, Any]
    created_by: str
    created_at: str
    finished_at: str | None


class UserCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Text = Field(..., min_length=1, max_length=100, examples=["aigerim"])
    role: Text = Field(..., examples=["analyst"], description="analyst | supervisor | admin | auditor")


class KeyCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    label: Text = Field("", max_length=200, examples=["case-management integration"])


class KeyCreated(BaseModel):
    user: str
    prefix: str
    label: str
    key: str = Field(..., description="The API key. Shown this once: only its argon2 hash is stored.")


class Decide(BaseModel):
    model_config = ConfigDict(extra="forbid")

    action: Text = Field(..., examples=["false_positive"], description="escalate | confirm | false_positive | close | reopen | reassign")
    reason: Text = Field(..., examples=["Different date of birth and nationality; same common name."])
    assignee: Text | None = Field(None, description="reassign: the user the alert goes to")


class SubjectIn(BaseModel):
    """A watched person or organisation in the screening-input schema (`sources.queries`)."""

    model_config = ConfigDict(extra="forbid")

    schema_: Text | None = Field(None, alias="schema", examples=["Person"])
    name: Text = Field(..., examples=["Ivan Petrov"])
    birth_date: Text | None = Field(None, examples=["1970-01-31"])
    nationality: Text | None = Field(None, examples=["kz"])
    gender: Text | None = Field(None, examples=["male"])
    document_number: Text | None = Field(None, examples=["N1234567"])


class SubjectCreate(SubjectIn):
    id: Identifier = Field(..., min_length=1, max_length=200, description="The client's own system id", examples=["CUST-000123"])


class VerifyResponse(BaseModel):
    ok: bool
    checked: int
    problems: list[dict[str, Any]]
