"""`omniroute retention run|suspend|lift`: the data-retention job against the stack's Redis (or REDIS_URL)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import TypeVar

from redis.asyncio import Redis
from redis.exceptions import RedisError

from contracts.errors import OmnirouteError
from routing.policy import TenantPolicy
from workers.policy_files import load_policies
from workers.runtime.queue_reader import redis_for_cli
from workers.runtime.retention_job import RetentionJob, RetentionReport
from workers.settings import Settings

T = TypeVar("T")
PROGRESS_EVERY_S = 5.0


class RetentionError(OmnirouteError):
    """The retention command cannot run; one line saying why."""


def _policies(settings: Settings, tenant: str | None) -> dict[str, TenantPolicy]:
    policies = load_policies(settings.policy_dirs)
    if tenant is not None and tenant not in policies:
        raise RetentionError(f"unknown tenant {tenant!r}; the policies loaded name: {', '.join(sorted(policies))}")
    return policies


def _with_job(settings: Settings, policies: dict[str, TenantPolicy], batch: int,
              work: Callable[[RetentionJob], Awaitable[T]]) -> T:
    found = redis_for_cli(settings)
    if found is None:
        raise RetentionError("no running dev stack found and REDIS_URL is not set; set REDIS_URL to the Redis "
                             "omniroute stores its work items in")
    url, prefix = found

    async def run() -> T:
        redis = Redis.from_url(url)
        try:
            rules = {tenant: policy.retention for tenant, policy in policies.items()}
            return await work(RetentionJob(redis, prefix=prefix, rules=rules, batch=batch))
        finally:
            await redis.aclose()
    try:
        return asyncio.run(run())
    except (OSError, RedisError) as exc:
        raise RetentionError(f"cannot reach Redis ({exc})") from None


def run(settings: Settings, now: datetime, *, tenant: str | None, dry_run: bool, batch: int,
        echo: Callable[[str], None]) -> RetentionReport:
    """One pass of the job; a progress line at most every PROGRESS_EVERY_S, then the summary."""
    policies = _policies(settings, tenant)
    for name in sorted(policies if tenant is None else [tenant]):
        rule = policies[name].retention
        suspension = rule.after_non_payment_suspension
        echo(f"retention: {name}: delete {rule.after_closure} after closure"
             + (f", {suspension} after a non-payment suspension" if suspension else "")
             + (" (dry run: nothing is deleted)" if dry_run else ""))
    last = [time.monotonic()]

    def progress(report: RetentionReport) -> None:
        if time.monotonic() - last[0] >= PROGRESS_EVERY_S:
            last[0] = time.monotonic()
            echo(f"retention: … {report.scanned} scanned, {report.due} due so far")

    async def work(job: RetentionJob) -> RetentionReport:
        return await job.run(now, tenant=tenant, dry_run=dry_run, progress=progress)

    report = _with_job(settings, policies, batch, work)
    echo(report.summary())
    return report


def suspend(settings: Settings, tenant: str, customer: str, at: datetime) -> None:
    """Record a non-payment suspension; refused for a tenant whose policy gives no period for it."""
    policies = _policies(settings, tenant)
    if policies[tenant].retention.after_non_payment_suspension is None:
        raise RetentionError(f"{tenant}'s policy sets no retention.after_non_payment_suspension, so a suspension "
                             "would shorten nothing; add the period to its policy file first")

    async def work(job: RetentionJob) -> None:
        await job.suspend(tenant, customer, at)
    _with_job(settings, policies, 1, work)


def lift(settings: Settings, tenant: str, customer: str) -> bool:
    """Forget a non-payment suspension (the customer paid); False if none was recorded."""
    policies = _policies(settings, tenant)

    async def work(job: RetentionJob) -> bool:
        return await job.lift(tenant, customer)
    return _with_job(settings, policies, 1, work)
