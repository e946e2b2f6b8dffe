"""Hardened, streaming XML reading for sanctions lists.

Lists arrive from the network and from partners, so the parser is locked down: no entity
expansion, no DTD loading, no network access, libxml2's default size limits kept (huge_tree off),
and any document whose DOCTYPE declares entities is refused outright (billion laughs, external
entities). Parsing streams (`XMLPullParser`, fed in chunks) and frees each record after use, so memory stays
bounded by one record, not the file.

Any parse failure (malformed, truncated, wrong encoding) becomes a `ListError` naming the file
and, where known, the last record read, so the caller never uses a partial list.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

from lxml import etree

from qalqan.model import ListError

#: How many bytes of the document's start are sniffed for a DOCTYPE before parsing. A prolog (XML
#: declaration, comments, DOCTYPE) longer than this is itself suspicious, so it is refused.
PROLOG_SNIFF_BYTES = 64 * 1024


def localname(el: etree._Element) -> str:
    """An element's tag without its namespace (OFAC's namespace changes between exports)."""
    tag = el.tag
    if not isinstance(tag, str):  # comments, processing instructions, entity references
        return ""
    return tag.rsplit("}", 1)[-1]


def text_of(el: etree._Element | None) -> str:
    """The element's own text, stripped; '' for a missing or empty element."""
    if el is None or el.text is None:
        return ""
    return el.text.strip()


def child_text(el: etree._Element, name: str) -> str:
    """Stripped text of the first child with local name `name` (namespace-agnostic)."""
    for child in el:
        if localname(child) == name:
            return text_of(child)
    return ""


def children(el: etree._Element, name: str) -> list[etree._Element]:
    return [c for c in el if localname(c) == name]


def _check_prolog(path: Path) -> None:
    """Refuse a DOCTYPE that declares entities before libxml2 sees it at all.

    This byte-level check covers parameter entities and declarations lxml may not expose; the
    docinfo check in `iter_records` covers the rest.
    """
    with path.open("rb") as fh:
        head = fh.read(PROLOG_SNIFF_BYTES)
    upper = head.upper()
    start = upper.find(b"<!DOCTYPE")
    if start < 0:
        return
    if b"<!ENTITY" in upper[start:]:
        raise ListError(str(path), "document declares XML entities in its DOCTYPE (entity expansion / external entity attack); refused")


#: Bytes fed to the parser at a time.
FEED_BYTES = 64 * 1024


def _events(path: Path, events: tuple[str, ...], **options: bool) -> Iterator[tuple[str, etree._Element]]:
    """(event, element) pairs of the document at `path`, parsed with the locked-down options.

    Fed chunk by chunk to an `XMLPullParser` rather than through `iterparse`: when the document
    breaks, the events parsed before the break are still delivered, and only then the error
    raised (lxml 6.2's `iterparse` raises at once and drops them), so the error names the last
    record read, whatever the lxml version."""
    parser = etree.XMLPullParser(
        events=events, resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False, **options
    )
    with path.open("rb") as fh:
        while True:
            chunk = fh.read(FEED_BYTES)
            try:
                if chunk:
                    parser.feed(chunk)
                else:
                    parser.close()
            except (etree.XMLSyntaxError, UnicodeDecodeError):
                yield from parser.read_events()
                raise
            yield from parser.read_events()
            if not chunk:
                return


def iter_records(
    path: Path,
    record_tags: frozenset[str],
    *,
    record_id: Callable[[etree._Element], str | None] | None = None,
    on_root: Callable[[etree._Element], None] | None = None,
) -> Iterator[etree._Element]:
    """Yield each complete element whose local name is in `record_tags`, then free it.

    `record_id` names a record for error messages ("last record read"); `on_root` sees the root
    element when it opens (its attributes are complete then: e.g. UN dateGenerated).
    The yielded element is cleared once the caller asks for the next one: copy what you need.
    """
    path = Path(path)
    file = str(path)
    try:
        _check_prolog(path)
    except OSError as exc:
        raise ListError(file, f"cannot read: {exc}") from None
    context = _events(path, ("start", "end"), remove_comments=True, remove_pis=True)
    last_id: str | None = None
    depth_root_seen = False
    try:
        for event, el in context:
            if event == "start":
                if not depth_root_seen:
                    depth_root_seen = True
                    docinfo = el.getroottree().docinfo
                    dtd = docinfo.internalDTD
                    if dtd is not None and any(True for _ in dtd.iterentities()):
                        raise ListError(file, "document declares XML entities in its DOCTYPE; refused")
                    if docinfo.system_url or docinfo.public_id:
                        # An external DTD is never fetched, so entities it would define could
                        # only be dropped silently: refuse instead.
                        raise ListError(file, f"document refers to an external DTD ({docinfo.system_url or docinfo.public_id}); refused")
                    if on_root is not None:
                        on_root(el)
                continue
            if not isinstance(el.tag, str):
                # An unexpanded entity reference: entities are never expanded here.
                raise ListError(file, "document uses an XML entity reference; refused", record=last_id)
            if localname(el) not in record_tags:
                continue
            if record_id is not None:
                last_id = record_id(el) or last_id
            for _ref in el.iter(etree.Entity):
                # An entity reference that was not expanded: its text would be silently lost.
                raise ListError(file, "record uses an XML entity reference; refused", record=last_id)
            yield el
            # Free the record and everything before it, so memory is bounded by one record.
            el.clear()
            parent = el.getparent()
            if parent is not None:
                while el.getprevious() is not None:
                    del parent[0]
        if not depth_root_seen:
            raise ListError(file, "empty document: no XML root element")
    except etree.XMLSyntaxError as exc:
        where = f" (after record {last_id})" if last_id else ""
        raise ListError(file, f"malformed or truncated XML{where}: {exc.msg}", record=last_id) from None
    except UnicodeDecodeError as exc:
        raise ListError(file, f"wrong text encoding: {exc}", record=last_id) from None
    except OSError as exc:
        raise ListError(file, f"cannot read: {exc}", record=last_id) from None


def root_info(path: Path, max_events: int = 50) -> tuple[str, str | None, dict[str, str]]:
    """(root local name, root namespace, root attributes) from the first events, for sniffing.

    Raises ListError if the start of the file is not well-formed XML.
    """
    path = Path(path)
    _check_prolog(path)
    context = _events(path, ("start",))
    try:
        for n, (_event, el) in enumerate(context):
            if n >= max_events:
                break
            qname = etree.QName(el)
            return qname.localname, qname.namespace, dict(el.attrib)
    except etree.XMLSyntaxError as exc:
        raise ListError(str(path), f"not well-formed XML: {exc.msg}") from None
    raise ListError(str(path), "no XML root element")
