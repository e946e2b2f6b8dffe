"""Terrorist-content indicators: URLs, domains, IP addresses and networks, file hashes and PDQ
perceptual hashes, as GIFCT's hash-sharing database and Tech Against Terrorism's TCAP share them.

- `urls`: URL canonicalisation, registrable domains (bundled public-suffix snapshot, never
  fetched), IP/CIDR parsing, and `UrlIndex`, which matches a URL against many indicators;
- `indicators`: the `Indicator` record, its vocabularies, and the CSV and hash-bank readers;
- `patterns`: indicators as STIX 2.1 patterns and back.

Pure: no I/O beyond the text handed in.
"""
