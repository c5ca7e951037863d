"""Reading a provider's Retry-After headers (the adapters' contract against the real SDKs and a
local protocol server is tests/integration/test_llm_provider_contract.py)."""

from __future__ import annotations

from agents.llm.provider_errors import retry_after_seconds


def test_retry_after_parsing():
    assert retry_after_seconds({"retry-after": "3"}) == 3.0
    assert retry_after_seconds({"retry-after-ms": "1500"}) == 1.5
    assert retry_after_seconds({"retry-after": "Wed, 21 Oct 2015 07:28:00 GMT"}) == 0.0
    assert retry_after_seconds({}) is None
