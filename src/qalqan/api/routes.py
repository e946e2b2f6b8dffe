"""The screening routes: /match/{dataset} (yente-compatible), /entities/{id}, /lists, /healthz.

They serve `service.screener`, the screener over every list's live version (rebuilt when one
changes). A screening request needs the "screen" permission and a stated purpose, and is recorded
in the audit log (who, purpose, when, SHA-256 of the body) before its answer is returned.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request, Response

from qalqan.api.convert import (
    InvalidExample,
    entity_response,
    example_to_query,
    scored_response,
)
from qalqan.api.models import (
    EntityMatches,
    EntityMatchQuery,
    EntityMatchResponse,
    EntityResponse,
    ErrorResponse,
    FeatureDoc,
    HealthResponse,
    ListResponse,
    ListsResponse,
    QueryWarning,
    TotalSpec,
)
from qalqan.api.security import body_hash, public, require, stated_purpose
from qalqan.matching.screener import Screener
from qalqan.model import ListInfo
from qalqan.service.roles import Principal
from qalqan.sources.registry import RESERVED_LIST_NAMES

#: yente's defaults, so a client that sends no parameters sees the same page size and cut-off.
DEFAULT_LIMIT = 5  # yente MATCH_PAGE
MAX_LIMIT = 500  # yente MAX_MATCHES
DEFAULT_CUTOFF = 0.5  # yente SCORE_CUTOFF: results below it are not returned at all
#: Queries per request (yente's MAX_BATCH): bounds one request's CPU time in the thread pool.
MAX_QUERIES = 100
#: Names that mean "every loaded list" (yente's collection names): no list may take them.
ALL_LISTS = RESERVED_LIST_NAMES
#: Algorithm names accepted without a note: ours, and yente's aliases for "the best one".
OUR_ALGORITHMS = ("qalqan", "best", "default")

router = APIRouter()


def _screener(request: Request) -> Screener:
    return request.app.state.service.screener  # type: ignore[no-any-return]


def _infos(screener: Screener) -> dict[str, ListInfo]:
    return {info.name: info for info in screener.lists}


def _known_lists(request: Request, screener: Screener) -> set[str]:
    return request.app.state.derived.get(screener)[0]  # type: ignore[no-any-return]


def _feature_docs(request: Request, screener: Screener) -> dict[str, FeatureDoc]:
    return request.app.state.derived.get(screener)[1]  # type: ignore[no-any-return]


@router.post(
    "/match/{dataset}",
    summary="Query-by-example matcher (yente-compatible)",
    tags=["Matching"],
    response_model=EntityMatchResponse,
    response_model_by_alias=True,
    responses={401: {"model": ErrorResponse}, 403: {"model": ErrorResponse}, 404: {"model": ErrorResponse}, 413: {"model": ErrorResponse}, 422: {"model": ErrorResponse}},
)
def match(
    principal: Annotated[Principal, Depends(require("screen"))],
    purpose: Annotated[str, Depends(stated_purpose)],
    digest: Annotated[str, Depends(body_hash)],
    request: Request,
    response: Response,
    body: EntityMatchQuery,
    dataset: Annotated[str, Path(description="A list name (e.g. 'un'), or 'default' / 'sanctions' for all loaded lists", examples=["default"])],
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT, title="Number of results to return")] = DEFAULT_LIMIT,
    threshold: Annotated[float | None, Query(ge=0, le=1, title="Score threshold for results to be considered matches (default: calibrated)")] = None,
    cutoff: Annotated[float, Query(ge=0, le=1, title="Lower bound of score for results to be returned at all")] = DEFAULT_CUTOFF,
    algorithm: Annotated[str, Query(title="Accepted for yente compatibility; Qalqan always uses its own calibrated scorer")] = "qalqan",
    include_dataset: Annotated[list[str], Query(title="Only include the given lists in results")] = [],
    exclude_dataset: Annotated[list[str], Query(title="Remove the given lists from results")] = [],
    exclude_schema: Annotated[list[str], Query(title="Remove the given types of entities from results")] = [],
) -> EntityMatchResponse:
    """Match entities by example, exactly as yente's `/match`: send a `queries` map of FtM-shaped
    examples (`schema`, `properties` with `name`, `birthDate`, `nationality`, `gender`,
    `passportNumber`, `idNumber`, `country`, ...), get `responses` keyed the same way, each with
    scored `results` (`score`, `match`, `features`) and Qalqan's per-feature `explanation`.
    A value that cannot be read (an impossible date, an unknown country) does not refuse the
    query: it is screened without it, and the response's `warnings` name each value left out.

    Needs an API key with the "screen" permission and a `purpose` (query parameter or X-Purpose
    header); the request is recorded in the audit log with the SHA-256 of its body.

    Defined as a plain function: scoring is CPU-bound, so FastAPI runs it in its thread pool
    instead of blocking the event loop.
    """
    screener = _screener(request)
    known = _known_lists(request, screener)
    if dataset in ALL_LISTS:
        selected = set(known)
    elif dataset in known:
        selected = {dataset}
    else:
        raise HTTPException(404, detail=f"No such list: {dataset!r}. Loaded lists: {', '.join(sorted(known)) or 'none'}; 'default' means all of them.")
    if include_dataset:
        selected &= set(include_dataset)
    selected -= set(exclude_dataset)
    if len(body.queries) > MAX_QUERIES:
        raise HTTPException(422, detail=[{"loc": ["body", "queries"], "msg": f"too many queries in one request: {len(body.queries)} (limit {MAX_QUERIES})", "type": "value_error"}])
    if not body.queries:
        raise HTTPException(422, detail=[{"loc": ["body", "queries"], "msg": "no queries provided", "type": "value_error"}])

    notes: list[str] = []
    if request.app.state.banner:  # e.g. the demo list: said in every answer, not only at start-up
        notes.append(request.app.state.banner)
    if algorithm.lower() not in OUR_ALGORITHMS:
        notes.append(f"algorithm {algorithm!r} is not available here; Qalqan's calibrated scorer was used")
    if body.weights:
        notes.append("weights were ignored: Qalqan's feature weights are calibrated, not set per request")

    parsed = []
    errors = []
    for key, example in body.queries.items():
        try:
            parsed.append((key, *example_to_query(key, example)))
        except InvalidExample as exc:
            errors.append(exc.as_error())
    if errors:
        raise HTTPException(422, detail=errors)

    infos = _infos(screener)
    thr = screener.threshold if threshold is None else threshold
    excluded_schemata = set(exclude_schema)
    responses: dict[str, EntityMatches] = {}
    for key, query, echo, ignored, warnings in parsed:
        if ignored:
            notes.append(f"query {key!r}: properties not used in scoring: {', '.join(ignored)}")
        found = screener.match(query, limit=limit, threshold=thr, lists=sorted(selected), cutoff=cutoff) if selected else []
        kept = [m for m in found if m.score >= cutoff and m.entity.schema not in excluded_schemata]
        responses[key] = EntityMatches(
            status=200,
            results=[scored_response(m, infos.get(m.entity.list)) for m in kept],
            total=TotalSpec(value=len(kept), relation="eq"),
            query=echo,  # type: ignore[arg-type]
            warnings=[QueryWarning.model_validate(w.as_dict()) for w in warnings],
        )
    service = request.app.state.service
    # Recorded before the answer leaves: a screening whose entry cannot be written is not answered.
    with service.transaction() as session:
        service.audit(
            session,
            actor=principal.user,
            action="screen",
            target=f"match:{dataset}",
            purpose=purpose,
            input_hash=digest,
            detail={"queries": len(responses), "lists": sorted(selected), "results": {k: [x.id for x in v.results if x.match] for k, v in responses.items()}},
        )
    response.headers["x-batch-size"] = str(len(responses))
    return EntityMatchResponse(
        responses=responses,
        matcher=_feature_docs(request, screener),
        limit=limit,
        algorithm="qalqan",
        notes=notes,
    )


@router.get(
    "/entities/{entity_id}",
    summary="Retrieve a listed entity",
    tags=["Data access"],
    response_model=EntityResponse,
    response_model_by_alias=True,
    responses={401: {"model": ErrorResponse}, 403: {"model": ErrorResponse}, 404: {"model": ErrorResponse}},
)
def get_entity(
    principal: Annotated[Principal, Depends(require("lists:read"))],
    request: Request,
    entity_id: Annotated[str, Path(description="Qalqan entity id, e.g. 'un-6908555'")],
) -> dict[str, Any]:
    screener = _screener(request)
    entity = screener.get(entity_id)
    if entity is None:
        raise HTTPException(404, detail=f"No such entity: {entity_id!r}")
    return entity_response(entity, _infos(screener).get(entity.list))


@router.get("/lists", summary="Loaded lists: versions, counts, publication dates", tags=["System information"], response_model=ListsResponse)
def get_lists(principal: Annotated[Principal, Depends(require("lists:read"))], request: Request) -> ListsResponse:
    return ListsResponse(lists=[ListResponse.model_validate(info.as_dict()) for info in _screener(request).lists])


@router.get("/healthz", summary="Liveness and what is loaded (no key needed)", tags=["System information"], response_model=HealthResponse, dependencies=[Depends(public)])
def healthz(request: Request) -> HealthResponse:
    screener = _screener(request)
    return HealthResponse(status="ok", entities=len(screener), lists=sorted(_known_lists(request, screener)))
