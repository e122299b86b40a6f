"""Outreach (预警劝阻, 反诈宣传): the SMS outbox and its gateways, dissuasion tasks for warned
payments, campaigns to segments of a member's customers, and on-site events.

Other workflows queue a message inside their own use case with
`fundwall.outreach.queries.queue_sms` (no commit: the caller's use case writes its audit
record and commits); `dispatch_outbox` sends what is queued, `collect_receipts` asks what
became of what a provider took; `delivered_to` reads what a
phone received through the local gateway. docs/outreach.md.
"""

from fundwall.outreach.gateway import (
    GatewayRefused,
    GatewayUnavailable,
    HttpGateway,
    LocalGateway,
    OutgoingSms,
    Receipt,
    ReceiptStatus,
    SendResult,
    SendStatus,
    SmsGateway,
    configured_gateway,
)
from fundwall.outreach.model import (
    DispatchCounts,
    OptOutChannel,
    ReceiptCounts,
    ReceivedSms,
    SmsPurpose,
    SmsStatus,
)
from fundwall.outreach.outbox import collect_receipts, delivered_to, dispatch_outbox
from fundwall.outreach.preferences import OptOut, add_template, record_opt_out, sms_templates
from fundwall.outreach.templates import BUILT_IN, SmsTemplate

__all__ = [
    "BUILT_IN",
    "DispatchCounts",
    "GatewayRefused",
    "GatewayUnavailable",
    "HttpGateway",
    "LocalGateway",
    "OptOut",
    "OptOutChannel",
    "OutgoingSms",
    "Receipt",
    "ReceiptCounts",
    "ReceiptStatus",
    "ReceivedSms",
    "SendResult",
    "SendStatus",
    "SmsGateway",
    "SmsPurpose",
    "SmsStatus",
    "SmsTemplate",
    "add_template",
    "collect_receipts",
    "configured_gateway",
    "delivered_to",
    "dispatch_outbox",
    "record_opt_out",
    "sms_templates",
]
