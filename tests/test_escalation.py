"""Escalation requests and chargeback / bank-dispute detection."""

from __future__ import annotations

import pytest

from routing.escalation import detect_chargeback, detect_escalation_request


@pytest.mark.parametrize(
    "text",
    [
        "Please escalate to a supervisor, my return was rejected without a reason.",
        "escalate this",
        "I want this escalated today",
        "I want a supervisor",
        "I demand to speak to your manager",
        "Can I speak to your manager?",
        "let me talk to someone senior",
        "transfer me to your supervisor please",
        "I have not been helped at all, please escalate",
        "Kindly take this to management",
    ],
)
def test_escalation_requests(text: str) -> None:
    assert detect_escalation_request(text)


@pytest.mark.parametrize(
    "text",
    [
        "no need to escalate, it's sorted now",
        "I don't want to escalate this, just fix it",
        "my manager asked me to buy ten laptops",
        "I am the store manager at our Sandton branch",
        "where is my order?",
    ],
)
def test_not_escalation_requests(text: str) -> None:
    assert not detect_escalation_request(text)


@pytest.mark.parametrize(
    "text",
    [
        "I have filed a chargeback",
        "I disputed the charge with my bank this morning",
        "I will reverse the payment through my bank",
        "We've asked our bank to reverse the transaction",
        "Charge-back submitted.",
        "We opened a dispute with our card issuer",
        "If you don't refund me today I will file a chargeback",
    ],
)
def test_chargebacks(text: str) -> None:
    assert detect_chargeback(text)


@pytest.mark.parametrize(
    "text",
    [
        "I don't want to do a chargeback, please just refund me",
        "What happens if I file a chargeback?",
        "what is your chargeback policy?",
        "waiting for reversal of the failed transfer",
        "the bank reversed the failed transaction already",
        "I was charged twice, please refund one",
    ],
)
def test_not_chargebacks(text: str) -> None:
    assert not detect_chargeback(text)
