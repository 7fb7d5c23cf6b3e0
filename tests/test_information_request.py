"""Asking a customer for information: the words sent and whether the clocks pause, from the shipped policies."""

from __future__ import annotations

import pytest

from routing.information_request import information_request
from routing_helpers import policy


@pytest.mark.parametrize(("tenant", "pauses"), [("alkonect", True), ("izonie", True), ("conek", False)])
def test_request_info_pauses_the_clocks_where_the_text_puts_the_wait_on_the_customer(tenant, pauses) -> None:
    """Alkonect §6: "Additional information may be requested from the user ... Users are expected to cooperate by
    providing accurate and timely information." Izonie §6: "Provide order numbers and photos where applicable."
    Conek §8.2: "We will review your request within 10 business days; We may request additional information or
    documentation" (the request is part of the promised review: the clocks run on)."""
    assert policy(tenant).sla.pause_on_request_info is pauses


def test_a_field_the_policy_words_is_asked_in_its_words_the_rest_plainly() -> None:
    izonie = policy("izonie")
    text = information_request(izonie, ["order_number", "amount", "order_number", "refund_reason"], "Thanks!")
    rule = next(r for r in izonie.required_info if r.fields == ["order_number"])
    assert text == (f"Thanks! {rule.request} Please also send us the amount you were charged and refund reason.")


def test_without_policy_wording_every_field_is_listed_in_one_sentence() -> None:
    conek = policy("conek")  # its refund rule asks for several fields at once: no one-field wording
    assert information_request(conek, ["account_email"]) == "Please send us the email address of your account."
    assert information_request(conek, ["account_email", "business_name", "amount"]) == (
        "Please send us the email address of your account, your business name and the amount you were charged.")
