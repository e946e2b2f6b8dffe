"""Pure types shared by every layer: entities, queries, matches, features. No I/O here."""

from qalqan.model.entity import (
    SCHEMATA,
    DateKind,
    Document,
    Entity,
    Name,
    NameKind,
    NameQuality,
    PartialDate,
)
from qalqan.model.lists import ListInfo
from qalqan.model.match import MISSING_SIDES, AlignedToken, FeatureResult, Match, MissingSide
from qalqan.model.query import Query
from qalqan.model.report import ListError, RecordIssue, Report

__all__ = [
    "AlignedToken",
    "SCHEMATA",
    "DateKind",
    "Document",
    "Entity",
    "FeatureResult",
    "ListError",
    "ListInfo",
    "MISSING_SIDES",
    "MissingSide",
    "Match",
    "Name",
    "NameKind",
    "NameQuality",
    "PartialDate",
    "Query",
    "RecordIssue",
    "Report",
]
