"""Application services: what the adapters (HTTP API, command line) call. They compose the store
(persistence) with the inner layers (sources, matching, monitoring), one transaction per use case.

Why a layer of its own: the layout's data flow puts `store` among the outer adapters, so
`monitoring` (inner, pure) may not import it; orchestration that needs both lives here, and the API
and CLI stay thin.
"""
