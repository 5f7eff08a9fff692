"""Hooks for scripts/schemathesis.sh (loaded through SCHEMATHESIS_HOOKS).

The run is authenticated as one member of one company, and sends `X-Company-Id: <that company>`
on every request (`--header`). The document's optional `X-Company-Id` header parameter is removed
from the loaded copy of the document so that schemathesis neither generates random company ids
(every such request is a 403 that never reaches a handler's logic; the Rust suite tests that
answer) nor, because of the `-Id` suffix, infers a foreign key to a resource nothing produces,
which would keep every tenant operation out of the stateful phase's entry points.
"""

import schemathesis

ACTIVE_COMPANY_HEADER = "x-company-id"


@schemathesis.hook
def before_load_schema(context, raw_schema):
    for item in raw_schema.get("paths", {}).values():
        for operation in item.values():
            if isinstance(operation, dict) and "parameters" in operation:
                operation["parameters"] = [
                    p
                    for p in operation["parameters"]
                    if not (p.get("in") == "header" and p.get("name", "").lower() == ACTIVE_COMPANY_HEADER)
                ]
