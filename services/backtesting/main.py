"""The backtesting service's app: backtest jobs, parameter optimisation, walk-forward analysis, result storage."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import partial
from typing import Any

from fastapi import FastAPI

from services.backtesting.api import routers
from services.backtesting.core.executors import ExecutorConfig
from services.backtesting.core.jobs import RunRuntime, optimization_job
from services.backtesting.core.market_data import RunMarket
from services.backtesting.core.portfolio_launcher import PortfolioLauncher
from services.backtesting.core.report_html import ReportLimits
from services.backtesting.core.runs import RunCatalog
from services.backtesting.core.specs import OptimizeJobSpec, RunSpec
from services.backtesting.core.summaries import SummaryStore
from services.backtesting.core.trials import strategy_registry
from services.backtesting.settings import BacktestingSettings
from shared.contracts.data import DataClient
from shared.contracts.mt5 import Mt5Client
from shared.jobs import JobManager
from shared.market.bar_spool import BarSpool
from shared.service_app import create_service_app

NAME = "backtesting"
log = logging.getLogger(__name__)


def create_app(settings: BacktestingSettings) -> FastAPI:
    section = settings.backtesting
    folder = settings.strategies_path
    jobs_db = settings.jobs_db_path
    summaries_db = jobs_db.parent / "summaries.sqlite"

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # Load user strategies first: a broken strategy module should stop the start, not fail jobs later.
        registry = strategy_registry(str(folder) if folder else None)
        runtime = RunRuntime(
            strategies_folder=str(folder) if folder else None,
            summaries_db=str(summaries_db),
            stored_equity_points=section.stored_equity_points,
            search=ExecutorConfig(
                kind=section.executor,
                workers=section.optimize_workers,
                strategies_folder=str(folder) if folder else None,
                ray_address=section.ray_address,
                ray_max_retries=section.ray_max_retries,
                cache_bytes=section.indicator_cache_mb * 2**20,
            ),
            overfitting=section.overfitting,
            # Studies live beside the jobs (the same SQLite file), or in DATABASE_URL's database when set.
            study_storage=settings.database_url or f"sqlite:///{jobs_db}",
        )
        jobs = JobManager(
            jobs_db,
            app.state.bus,
            workers=section.workers,
            progress_interval_s=section.progress_interval_s,
            resume={"optimization": (OptimizeJobSpec, partial(optimization_job, runtime))},
        )
        spool = BarSpool(jobs_db.parent / "bars")
        resumed = [spec.bars_file for spec in jobs.resuming() if isinstance(spec, RunSpec)]
        if removed := spool.clear(keep=resumed):
            log.info("removed %d bar files left by jobs of an earlier run", removed)
        summaries = SummaryStore(summaries_db)
        timeout = section.data_timeout_s
        market = RunMarket(
            DataClient.from_settings(settings, timeout_s=timeout),
            Mt5Client.from_settings(settings, timeout_s=timeout),
            settings.trading.symbols,
        )
        app.state.registry = registry
        app.state.report_limits = ReportLimits(section.report_chart_points, section.report_max_trades)
        app.state.catalog = RunCatalog(jobs, summaries, default_points=section.default_equity_points)
        app.state.launcher = PortfolioLauncher(
            jobs=jobs, registry=registry, market=market, spool=spool, section=section, runtime=runtime
        )
        jobs.start()
        try:
            yield
        finally:
            await jobs.aclose()
            await market.aclose()
            summaries.close()

    async def health(app: FastAPI) -> dict[str, Any]:
        return {"strategies": {"ok": True, "count": len(app.state.registry.names())}}

    return create_service_app(
        NAME,
        settings,
        routers=routers,
        lifespan=lifespan,
        health_checks=health,
        description="Backtest jobs, parameter optimisation, walk-forward analysis, result storage.",
    )
