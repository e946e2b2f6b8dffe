"""The matching engine: candidate index, features, scorer, calibration."""

from qalqan.matching.config import MatchConfig, load_config
from qalqan.matching.screener import Screener, score_pair

__all__ = ["MatchConfig", "Screener", "load_config", "score_pair"]
