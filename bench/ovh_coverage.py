"""How much of OVHcloud's /sms API smspanel serves: every operation of OVHcloud's own schema
(docs/ovh-sms-schema.json, 124 operations) looked up in the OpenAPI document smspanel serves at
/1.0/openapi.json. An operation is *served* when a route answers it for real, *refused* when its
route answers OVHcloud's error shape with a documented reason (`x-refused` in the schema), and
*missing* otherwise.

    .venv/bin/python bench/ovh_coverage.py [--list] [--markdown] [--smoke]

Prints `served N of 124`. (--smoke is accepted so CI's bench loop runs it like the others.)
"""

import argparse
import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OVH_SCHEMA = ROOT / "docs" / "ovh-sms-schema.json"
_PARAM = re.compile(r"\{[^}]+\}")


def _key(method: str, path: str) -> tuple[str, str]:
    # Path parameters match whatever their names ({id} and {slotId} are both "{}").
    return method.upper(), _PARAM.sub("{}", path)


def ovh_operations() -> list[tuple[str, str]]:
    schema = json.loads(OVH_SCHEMA.read_text())
    return [(op["httpMethod"], api["path"]) for api in schema["apis"]
            for op in api["operations"]]  # fmt: skip


def served_operations(openapi: dict) -> dict[tuple[str, str], str | None]:
    """(method, path) -> None when served, else the reason it is refused."""
    found = {}
    for path, item in openapi["paths"].items():
        path = path.removeprefix("/1.0")
        for method, operation in item.items():
            found[_key(method, path)] = operation.get("x-refused")
    return found


def coverage(openapi: dict) -> dict[str, list]:
    ours = served_operations(openapi)
    result = {"served": [], "refused": [], "missing": []}
    for method, path in ovh_operations():
        key = _key(method, path)
        if key not in ours:
            result["missing"].append((method, path))
        elif ours[key]:
            result["refused"].append((method, path, ours[key]))
        else:
            result["served"].append((method, path))
    return result


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--list", action="store_true", help="list refused and missing ones")
    parser.add_argument("--markdown", action="store_true", help="the README's table")
    parser.add_argument("--smoke", action="store_true", help="(same output: it is fast)")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    from bench.timing import django_in_process

    django_in_process()
    from api.routes import api

    result = coverage(api.get_openapi_schema())
    total = sum(len(v) for v in result.values())
    print(f"served {len(result['served'])} of {total} "
          f"(refused {len(result['refused'])}, missing {len(result['missing'])})")  # fmt: skip
    if args.list or args.markdown:
        for method, path, reason in result["refused"]:
            print(f"| `{method} {path}` | {reason} |" if args.markdown
                  else f"refused  {method} {path}: {reason}")  # fmt: skip
        for method, path in result["missing"]:
            print(f"| `{method} {path}` | not served yet |" if args.markdown
                  else f"missing  {method} {path}")  # fmt: skip


if __name__ == "__main__":
    main()
