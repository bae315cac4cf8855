"""The read side's warehouse: the port over ClickHouse (server or embedded chDB), its
migrations, the sink that fills it from the log, and the reports that read it.

Only this package imports `clickhouse_connect`; everything else talks to `Warehouse`.
"""

from __future__ import annotations

from analytics.lock import WarehouseBusy
from analytics.warehouse import Warehouse, WarehouseError, open_warehouse

__all__ = ["Warehouse", "WarehouseBusy", "WarehouseError", "open_warehouse"]
