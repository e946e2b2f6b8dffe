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
from qalqan.model.match import AlignedToken, FeatureResult, Match
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
    "Match",
    "Name",
    "NameKind",
    "NameQuality",
    "PartialDate",
    "Query",
    "RecordIssue",
    "Report",
]
