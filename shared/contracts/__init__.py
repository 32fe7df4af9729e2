"""The contract layer: one typed client per service API that other services call.

Each module owns one service's endpoints as callers see them: the path, the parameters and their time
semantics (every range is inclusive at both ends, as MT5's `copy_*_range`), the decoding of the answer,
and, through `shared.clients`, the mapping of failures to domain errors. Services never build an HTTP
client for another service; they take one of these (the gateway's relay is not a client, it forwards).
To add an endpoint, add a method beside its siblings here; services and tests then call the method.
"""
