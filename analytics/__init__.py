"""pandas frames and metric definitions over Atende's database.

import analytics
from analytics import load, metrics

src = analytics.connect()        # DATABASE_URL, or the SQLite file under DATA_DIR
tickets = load.tickets(src, "2026-03-01", "2026-03-31", touching=True)
metrics.summary(tickets, load.messages(src, "2026-03-01", "2026-03-31"), "2026-03-01", "2026-03-31")
"""

from analytics import load, metrics
from analytics.source import Source, connect

__all__ = ["Source", "connect", "load", "metrics"]
