"""THROWAWAY: a minimal UN XML reader for developing the benchmark before
`qalqan.sources.registry.read_list` lands. `bench.common.load_list` uses read_list whenever it
exists; this module is only its development fallback and is to be deleted at integration.
"""

from __future__ import annotations

from lxml import etree

from qalqan.model import DateKind, Document, Entity, Name, NameKind, NameQuality, PartialDate
from qalqan.sources.values import country_code


def _text(el: etree._Element, tag: str) -> str:
    found = el.find(tag)
    return (found.text or "").strip() if found is not None and found.text else ""


def _dob(el: etree._Element) -> PartialDate | None:
    kind = _text(el, "TYPE_OF_DATE")
    date, year = _text(el, "DATE"), _text(el, "YEAR")
    frm, to = _text(el, "FROM_YEAR"), _text(el, "TO_YEAR")
    try:
        if kind == "BETWEEN" and frm and to:
            return PartialDate(int(frm), kind=DateKind.BETWEEN, year_to=int(to)) if int(to) > int(frm) else PartialDate(int(frm))
        dk = DateKind.APPROXIMATE if kind == "APPROXIMATELY" else DateKind.EXACT
        if date:
            y, m, d = (int(x) for x in date[:10].split("-"))
            return PartialDate(y, m or None, d or None, dk)
        if year:
            return PartialDate(int(year), kind=dk)
    except ValueError:
        return None
    return None


def read_un(path: str) -> list[Entity]:
    tree = etree.parse(path, etree.XMLParser(resolve_entities=False, no_network=True))
    out: list[Entity] = []
    for el in tree.iter("INDIVIDUAL", "ENTITY"):
        person = el.tag == "INDIVIDUAL"
        parts = [_text(el, t) for t in ("FIRST_NAME", "SECOND_NAME", "THIRD_NAME", "FOURTH_NAME")]
        primary = " ".join(p for p in parts if p)
        name_parts: tuple[tuple[str, str], ...] = ()
        if person and parts[0] and parts[1]:
            name_parts = (("given", parts[0]), ("family", " ".join(p for p in parts[1:] if p)))
        names = [Name(primary, NameKind.PRIMARY, parts=name_parts)]
        for al in el.iter("INDIVIDUAL_ALIAS", "ENTITY_ALIAS"):
            value = _text(al, "ALIAS_NAME")
            if value:
                q = NameQuality.LOW if _text(al, "QUALITY").lower() in ("low", "a.k.a.-low") else NameQuality.GOOD
                names.append(Name(value, NameKind.ALIAS, q))
        orig = _text(el, "NAME_ORIGINAL_SCRIPT")
        if orig:
            names.append(Name(orig, NameKind.ORIGINAL_SCRIPT))
        nats = tuple(c for c in (country_code(v.text or "") for v in el.iterfind("NATIONALITY/VALUE")) if c)
        dobs = tuple(d for d in (_dob(d) for d in el.iterfind("INDIVIDUAL_DATE_OF_BIRTH")) if d)
        docs = tuple(
            Document(_text(d, "NUMBER"), _text(d, "TYPE_OF_DOCUMENT") or None)
            for d in el.iterfind("INDIVIDUAL_DOCUMENT")
            if _text(d, "NUMBER")
        )
        gender = _text(el, "GENDER").lower() or None
        out.append(
            Entity(
                id=f"un-{_text(el, 'DATAID')}",
                schema="Person" if person else "Organization",
                list="un",
                source_id=_text(el, "DATAID"),
                names=tuple(n for n in names if n.value),
                reference=_text(el, "REFERENCE_NUMBER") or None,
                birth_dates=dobs,
                nationalities=nats,
                documents=docs,
                gender=gender if gender in ("male", "female") else None,
                programs=(_text(el, "UN_LIST_TYPE"),),
            )
        )
    return out
