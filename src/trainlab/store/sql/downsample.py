"""Down-sampled metric history for charts: per bucket of steps keep the minimum, the maximum and
the last point, so spikes survive (striding or averaging would hide them), plus the first point.
Computed in SQL with window functions, so a million-point history never reaches Python whole."""

from __future__ import annotations

import math

from sqlalchemy import Integer, cast, func, literal, or_, select
from sqlalchemy.orm import Session

from trainlab.entities import Metric
from trainlab.store.sql.models import MetricModel


def downsampled_history(
    s: Session,
    run_id: str,
    key: str,
    max_results: int,
    start_step: int | None,
    end_step: int | None,
) -> list[Metric]:
    m = MetricModel
    where = [m.run_id == run_id, m.key == key]
    if start_step is not None:
        where.append(m.step >= start_step)
    if end_step is not None:
        where.append(m.step <= end_step)
    lo, hi, n = s.execute(
        select(func.min(m.step), func.max(m.step), func.count()).where(*where)
    ).one()
    if not n:
        return []
    cols = (m.step, m.timestamp, m.value, m.is_nan)
    if n <= max_results:
        rows = s.execute(select(*cols).where(*where).order_by(m.step, m.timestamp)).all()
    else:
        buckets = max(1, (max_results - 1) // 3)
        span = hi - lo + 1
        bucket = cast((m.step - lo) * literal(buckets) / literal(span), Integer).label("b")
        # NaN sorts as neither min nor max: rank real values first.
        value_rank = m.value + 0.0
        pts = (
            select(
                *cols,
                func.row_number()
                .over(partition_by=bucket, order_by=(m.is_nan, value_rank))
                .label("rmin"),
                func.row_number()
                .over(partition_by=bucket, order_by=(m.is_nan, value_rank.desc()))
                .label("rmax"),
                func.row_number()
                .over(partition_by=bucket, order_by=(m.step.desc(), m.timestamp.desc()))
                .label("rlast"),
                func.row_number().over(order_by=(m.step, m.timestamp)).label("rfirst"),
            )
            .where(*where)
            .subquery()
        )
        rows = s.execute(
            select(pts.c.step, pts.c.timestamp, pts.c.value, pts.c.is_nan)
            .where(or_(pts.c.rmin == 1, pts.c.rmax == 1, pts.c.rlast == 1, pts.c.rfirst == 1))
            .order_by(pts.c.step, pts.c.timestamp)
        ).all()
    return [Metric(key, math.nan if nan else v, ts, step, run_id) for step, ts, v, nan in rows]
