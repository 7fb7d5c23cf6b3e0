"""Record keys from the Redis customer index: identities and order references link, within one tenant."""

from __future__ import annotations

import asyncio
from uuid import uuid4

import pytest
import redis
import redis.asyncio as aioredis

from contracts.inbound import MessageKind
from routing.decide import merge_references
from routing_helpers import Stream, msg, policy
from workers.runtime.customer_keys import CustomerKeys

POLICIES = {t: policy(t) for t in ("alkonect", "izonie", "conek")}


@pytest.fixture
def keys_of(redis_url: str):
    """`keys_of(messages, policies=...)`: their record keys, one message per call in order, under a fresh prefix."""
    prefix = f"omniroute-test-{uuid4().hex}"

    def run(messages, *, policies=POLICIES) -> list[str]:
        async def main():
            client = aioredis.Redis.from_url(redis_url)
            try:
                customers = CustomerKeys(client, prefix=prefix, policies=policies)
                return [k.decode() for m in messages for k in await customers.keys_for([m])]
            finally:
                await client.aclose()

        return asyncio.run(main())

    yield run
    with redis.Redis.from_url(redis_url) as client:
        keys = list(client.scan_iter(match=f"{prefix}:*", count=1000))
        if keys:
            client.delete(*keys)


def test_merge_references_are_those_decide_merges_on() -> None:
    alk = POLICIES["alkonect"]
    text = "Where is my order ALK-900004? Also invoice 55501"
    question = msg("alkonect", "email", text, sender="ada@example.com")
    assert merge_references(question, alk) == set(Stream("alkonect")(question).references) == {"ALK900004", "55501"}
    assert merge_references(msg("alkonect", "email", text, kind=MessageKind.auto_reply), alk) == set()
    assert merge_references(msg("alkonect", "email", text, kind=MessageKind.bounce), alk) == set()
    assert merge_references(msg("alkonect", "email", text, to="someone@else.com"), alk) == set()
    assert merge_references(msg("alkonect", "email", "ALK-900004 never came"), alk) == {"ALK900004"}
    assert merge_references(msg("conek", "email", "ALK-900004 never came"), POLICIES["conek"]) == set()  # not Conek's


def test_an_order_reference_keys_a_message_with_the_first_customer_who_named_it(keys_of) -> None:
    first = msg("alkonect", "email", "Where is my order ALK-900004?", sender="ada@example.com")
    other = msg("alkonect", "api", "Any news on order ALK-900004?", sender="crm-9", phone="+234 801 000 0009", to="crm")
    later = msg("alkonect", "api", "and my refund for order 77123?", sender="crm-9", phone="+234 801 000 0009", to="crm")
    assert keys_of([first, other, later]) == ["alkonect:email:ada@example.com"] * 3


def test_a_reference_wins_over_the_senders_own_customer(keys_of) -> None:
    own = msg("alkonect", "api", "my card was declined", sender="crm-1", phone="+234 801 000 0001", to="crm")
    first = msg("alkonect", "email", "Where is my order ALK-900004?", sender="ada@example.com")
    again = msg("alkonect", "api", "order ALK-900004 is late", sender="crm-1", phone="+234 801 000 0001", to="crm")
    nudge = msg("alkonect", "api", "any update?", sender="crm-1", phone="+234 801 000 0001", to="crm")
    assert keys_of([own, first, again, nudge]) == [
        "alkonect:api:crm-1", "alkonect:email:ada@example.com", "alkonect:email:ada@example.com", "alkonect:api:crm-1"]


def test_references_link_within_a_tenant_only_and_only_from_messages_decide_reads(keys_of) -> None:
    ada = msg("alkonect", "email", "Where is my order 4455667?", sender="ada@example.com")
    izonie = msg("izonie", "email", "Where is my order 4455667?", sender="bola@example.com")
    bounce = msg("alkonect", "email", "Undelivered: order ALK-900004", sender="mailer-daemon@mx.example.com",
                 kind=MessageKind.bounce)
    chi = msg("alkonect", "email", "order ALK-900004 please", sender="chi@example.com")
    assert keys_of([ada, izonie, bounce, chi]) == [
        "alkonect:email:ada@example.com", "izonie:email:bola@example.com",
        "alkonect:email:mailer-daemon@mx.example.com", "alkonect:email:chi@example.com"]


def test_without_policies_only_identities_link(keys_of) -> None:
    first = msg("alkonect", "email", "Where is my order ALK-900004?", sender="ada@example.com")
    other = msg("alkonect", "email", "Where is my order ALK-900004?", sender="bola@example.com")
    assert keys_of([first, other], policies=None) == ["alkonect:email:ada@example.com", "alkonect:email:bola@example.com"]
