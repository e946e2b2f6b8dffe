"""Travel: API (PAXLST) and PNR (PNRGOV) messages, parsed and mapped to travellers. Pure: no I/O."""
