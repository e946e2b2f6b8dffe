"""Name normalisation: a common Latin form and spelling-variant keys."""

from qalqan.names.keys import token_key
from qalqan.names.translit import latinize

__all__ = ["latinize", "token_key"]
