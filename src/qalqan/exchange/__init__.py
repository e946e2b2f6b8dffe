"""Exchange with partner agencies: STIX 2.1 objects, TAXII 2.1 paging and the egress policy (pure rules, no I/O)."""
