"""The engine's side of warm pools: take one at placement, keep or end it when the job ends,
expire pools whose period ran out, reclaim one when a job cannot fit beside them.

Decisions are pure (orchestrator/pools.py); every move is a store transaction
(store/pools.py). The only other effect is the pool's cache folder, created here with the pool
and deleted when the pool ends.
"""

from __future__ import annotations

import logging
import shutil
import uuid
from pathlib import Path

from orchestrator.engine.context import EngineContext
from orchestrator.lifecycle import is_terminal
from orchestrator.pools import keeps_pool
from orchestrator.spec import JobSpec
from orchestrator.store.pools import SHARE_PREFIX, WarmPool, WarmPoolStore

log = logging.getLogger(__name__)


def take_pool(ctx: EngineContext, spec: JobSpec) -> tuple[WarmPool, bool]:
    """Reuse a matching Available pool (True), or start a new one (a cold start, False)."""
    now = ctx.clock.now()
    reused = ctx.pools.claim(spec.name, spec.pool_key, spec.keep_alive_seconds, now)
    if reused is not None:
        return reused, True
    pool_id = uuid.uuid4().hex[:12]
    cache = ctx.settings.warm_pools_root / pool_id
    ctx.pools.create(pool_id, spec.name, spec.pool_key, spec.keep_alive_seconds, str(cache))
    pool = ctx.pools.of_job(spec.name)
    assert pool is not None
    return pool, False


def cache_dir(pool: WarmPool, host: str) -> Path:
    """The host's persistent cache in the pool (one folder per host, as each instance has)."""
    path = Path(pool.cache) / host
    path.mkdir(parents=True, exist_ok=True)
    return path


def settle_pool(ctx: EngineContext, name: str, owner: str, launched: bool) -> None:
    """The job has ended: keep its pool Available, or end it (and its cache). A job that has
    not ended, or that another engine owns now, is left alone."""
    record = ctx.store.require(name)
    if not is_terminal(record.secondary) or record.owner not in (None, owner):
        return
    now = ctx.clock.now()
    keep = keeps_pool(record.secondary, record.failure_reason, launched)
    if keep and ctx.pools.make_available(name, now, ctx.settings.max_warm_pools):
        return
    if keep:
        log.warning("job %s keeps no warm pool: ORCHESTRATOR_MAX_WARM_POOLS reached", name)
    ended = ctx.pools.terminate_held(name, now)
    if ended is not None:
        remove_cache(ended)


def end_abandoned_pools(pools: WarmPoolStore, now: float) -> int:
    """Pools still InUse by jobs that ended while no process settled them (the engine died
    between the job's last status and its clean-up): ended, as their engine kept nothing."""
    ended = 0
    for pool in pools.abandoned(now):
        gone = pools.terminate_held(pool.holder, now)
        if gone is not None:
            remove_cache(gone)
            ended += 1
    return ended


def expire_pools(pools: WarmPoolStore, now: float) -> int:
    """End every Available pool whose KeepAlivePeriodInSeconds ran out (at that moment), and
    pools abandoned by an engine that died."""
    ended = end_abandoned_pools(pools, now)
    for pool in pools.expired(now):
        if pools.terminate(pool.id, until=pool.expires_at or now) is not None:
            remove_cache(pool)
            ended += 1
    return ended


def reclaim_one(ctx: EngineContext, wants_gpus: bool = False) -> bool:
    """End the oldest Available pool so that a job that does not fit can run; for a job that
    needs GPUs, pools holding GPUs go first (ending the others may not help it)."""
    pools = ctx.pools.available()
    if wants_gpus:
        holding = {a.job.removeprefix(SHARE_PREFIX) for a in ctx.ledger.allocations() if a.gpu_ids}
        pools.sort(key=lambda pool: pool.id not in holding)  # stable: oldest first within
    for pool in pools:
        if ctx.pools.terminate(pool.id, until=ctx.clock.now()) is not None:
            log.info("reclaimed the warm pool of %s for a job that did not fit", pool.holder)
            remove_cache(pool)
            return True
    return False


def remove_cache(pool: WarmPool) -> None:
    shutil.rmtree(pool.cache, ignore_errors=True)
