"""Police orders (公安指令): account query, emergency stop-payment, freeze, renewal and
release, routed to the holding bank, in force at once, answered by the bank, and ended by
their legal timers. Every public function of the package's modules (outside `queries`) is a
use case."""

from fundwall.police.documents import order_document
from fundwall.police.model import (
    DocumentKind,
    OrderAnswer,
    OrderEvent,
    OrderFilter,
    OrderItem,
    OrderRequest,
    OrderView,
)
from fundwall.police.orders import answer_order, get_order, issue_order, issue_orders, list_orders
from fundwall.police.timers import expire_orders, expiring_orders

__all__ = [
    "DocumentKind",
    "OrderAnswer",
    "OrderEvent",
    "OrderFilter",
    "OrderItem",
    "OrderRequest",
    "OrderView",
    "answer_order",
    "expire_orders",
    "expiring_orders",
    "get_order",
    "issue_order",
    "issue_orders",
    "list_orders",
    "order_document",
]
