"""The text that asks a customer for named details: the policy's own wording where it has one, plain words else."""

from __future__ import annotations

from collections.abc import Sequence

from routing.policy import TenantPolicy

_WORDS = {
    "order_number": "your order number",
    "account_email": "the email address of your account",
    "business_name": "your business name",
    "transaction_date": "the date of the transaction",
    "amount": "the amount you were charged",
    "explanation": "a short description of what happened",
    "photo": "photos showing the problem",
}


def information_request(policy: TenantPolicy, fields: Sequence[str], text: str | None = None) -> str:
    """The agent's own words (if any), then one sentence per policy rule asking for exactly one of `fields`,
    then the other fields in plain words ("Please send us X and Y.")."""
    worded = {rule.fields[0]: rule.request for rule in reversed(policy.required_info) if len(rule.fields) == 1}
    asked = list(dict.fromkeys(fields))
    ruled = [worded[f].strip() for f in asked if f in worded]
    rest = [_WORDS.get(f, f.replace("_", " ")) for f in asked if f not in worded]
    if rest:
        listed = rest[0] if len(rest) == 1 else ", ".join(rest[:-1]) + " and " + rest[-1]
        ruled.append(f"Please {'also ' if ruled else ''}send us {listed}.")
    own = [text.strip()] if text and text.strip() else []
    return " ".join(own + ruled)
