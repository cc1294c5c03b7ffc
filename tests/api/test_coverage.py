"""The served share of OVHcloud's /sms API (bench/ovh_coverage.py) does not go down, and every
operation refused is listed with its reason in the README."""

from pathlib import Path

from api.routes import api
from bench.ovh_coverage import coverage

README = Path(__file__).resolve().parents[2] / "README.md"
SERVED_AT_LEAST = 119


def test_the_served_operations():
    result = coverage(api.get_openapi_schema())
    assert len(result["served"]) >= SERVED_AT_LEAST
    assert result["missing"] == []


def test_refused_operations_are_in_the_readme():
    readme = README.read_text()
    refused = coverage(api.get_openapi_schema())["refused"]
    assert refused
    for method, path, _reason in refused:
        assert f"`{method} {path}`" in readme, (method, path)
