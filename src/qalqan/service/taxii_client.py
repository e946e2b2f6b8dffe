"""Pulling from a partner's TAXII 2.1 server (a Qalqan node, medallion, OpenCTI, a national hub).

`pull` walks the partner's collection from where the last pull stopped: discovery (or the API
root it was given), the collection, then `objects/` pages with `added_after` and `next`. Each
page is handed to `on_page` (which stores it in one transaction) before the cursor moves, so a
pull killed or cut off half-way resumes at the last page stored: nothing lost, and what is read
twice is stored once (objects are unique by id and version).

The cursor is the server's `X-TAXII-Date-Added-Last` of the last page stored, less one
millisecond: servers may give many objects one date_added (medallion stamps a whole POST with
one), and `added_after` is strict, so the boundary is read again rather than skipped.

httpx, not taxii2-client, because resuming needs the X-TAXII-Date-Added-* headers, which
taxii2-client does not hand back; taxii2-client is what the tests point at our server.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any
from urllib.parse import urljoin

import httpx
import orjson

from qalqan.exchange import taxii as tx

ACCEPT = tx.TAXII_MEDIA
PAGE_SIZE = 1_000
TIMEOUT = 30.0
MAX_PAGE_BYTES = 50_000_000


class PullError(RuntimeError):
    """The partner's server could not be read (down, refused us, answered nonsense); `status`
    is its HTTP status when it answered."""

    def __init__(self, message: str, *, status: int | None = None):
        super().__init__(message)
        self.status = status


@dataclass(slots=True)
class PullResult:
    pages: int = 0
    objects: int = 0
    cursor: str | None = None
    collection: str | None = None
    summaries: list[Any] = field(default_factory=list)


def _auth(user: str | None, password: str | None, token: str | None) -> dict[str, Any]:
    if token:
        return {"headers": {"Authorization": f"Bearer {token}"}}
    if user is not None:
        return {"auth": (user, password or "")}
    return {}


def _get(client: httpx.Client, url: str, params: dict[str, Any] | None = None) -> httpx.Response:
    try:
        resp = client.get(url, params=params, headers={"Accept": ACCEPT})
    except httpx.HTTPError as exc:
        raise PullError(f"cannot reach {url}: {exc.__class__.__name__}: {exc}") from None
    if resp.status_code != 200:
        raise PullError(f"{url} answered {resp.status_code}: {resp.text[:300]}", status=resp.status_code)
    if len(resp.content) > MAX_PAGE_BYTES:
        raise PullError(f"{url} sent {len(resp.content):,} bytes, more than {MAX_PAGE_BYTES:,}", status=413)
    return resp


def _json(resp: httpx.Response) -> Any:
    try:
        return orjson.loads(resp.content)
    except orjson.JSONDecodeError as exc:
        raise PullError(f"{resp.request.url} sent malformed JSON: {exc}") from None


def api_root(client: httpx.Client, url: str) -> str:
    """The API root at `url`: itself when it is one, else the discovery document's default (or
    first) API root."""
    base = url if url.endswith("/") else url + "/"
    doc = _json(_get(client, base))
    if "api_roots" in doc or "default" in doc:
        root = doc.get("default") or (doc.get("api_roots") or [None])[0]
        if not root:
            raise PullError(f"{base} lists no API root")
        return urljoin(base, root if root.endswith("/") else root + "/")
    return base


def collection_url(client: httpx.Client, root: str, collection: str | None) -> str:
    doc = _json(_get(client, urljoin(root, "collections/")))
    cols = doc.get("collections") or []
    for c in cols:
        if (collection is None and c.get("can_read")) or c.get("id") == collection:
            return urljoin(root, f"collections/{c['id']}/")
    raise PullError(f"no readable collection {collection or ''} at {root}".replace("  ", " "))


def pull(
    url: str,
    *,
    collection: str | None,
    added_after: str | None,
    on_page: Callable[[Sequence[dict[str, Any]], str | None], Any],
    user: str | None = None,
    password: str | None = None,
    token: str | None = None,
    page_size: int = PAGE_SIZE,
    timeout: float = TIMEOUT,
    transport: httpx.BaseTransport | None = None,
) -> PullResult:
    """Read every object added after `added_after`, page by page; `on_page(objects, cursor)`
    stores a page and its cursor together. Raises PullError when the server fails; the pages
    stored until then stay stored."""
    result = PullResult(cursor=added_after)
    with httpx.Client(timeout=timeout, transport=transport, follow_redirects=False, **_auth(user, password, token)) as client:
        root = api_root(client, url)
        objects_url = urljoin(collection_url(client, root, collection), "objects/")
        result.collection = objects_url
        params: dict[str, Any] = {"limit": page_size}
        if added_after:
            params["added_after"] = added_after
        while True:
            resp = _get(client, objects_url, params)
            envelope = _json(resp)
            if not isinstance(envelope, dict):
                raise PullError(f"{objects_url} did not send a TAXII envelope")
            objs = envelope.get("objects") or []
            last = resp.headers.get("X-TAXII-Date-Added-Last")
            cursor = result.cursor
            if last:
                try:
                    cursor = tx.format_timestamp(tx.parse_timestamp(last) - timedelta(milliseconds=1))
                except ValueError:
                    raise PullError(f"{objects_url} sent a bad X-TAXII-Date-Added-Last {last!r}") from None
            result.summaries.append(on_page(objs, cursor))
            result.pages += 1
            result.objects += len(objs)
            result.cursor = cursor
            if not envelope.get("more") or not envelope.get("next"):
                break
            params = {"limit": page_size, "next": envelope["next"]}
            if added_after:
                params["added_after"] = added_after
    return result
