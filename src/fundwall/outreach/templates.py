"""SMS templates (短信模板): the built-in ones, a template's variables, rendering and length.

A template is Chinese text with `{variable}` places (`{{` and `}}` for a brace itself);
rendering fills every place from the caller's variables, refusing a variable the template
does not have, one it lacks, and a message longer than the settings allow, each naming the
variable. The carrier's signature (`【金融反诈】`) goes in front and counts.

Length: an SMS with any character outside the GSM 7-bit alphabet (every Chinese text) is
sent as UCS-2, 70 characters in one segment or 67 a segment when split (the rest of each
segment carries the concatenation header); a text of the basic GSM alphabet alone gets 160,
or 153 a segment. These are the standard's figures (3GPP TS 23.040), not policy; the number
of segments allowed is (`outreach.max_segments`).
"""

from __future__ import annotations

import re
import string
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

from fundwall.domain.errors import InvalidInput
from fundwall.outreach.model import SmsPurpose

UCS2_SINGLE: Final = 70
UCS2_PART: Final = 67
GSM_SINGLE: Final = 160
GSM_PART: Final = 153
MAX_VARIABLE: Final = 200
"""Characters of one variable's value: a reason or an address, never a document."""
_GSM_BASIC: Final = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
NAME: Final = re.compile(r"[a-z][a-z0-9_]{1,63}")
_VARIABLE: Final = re.compile(r"[a-z][a-z0-9_]{0,31}")


@dataclass(frozen=True, slots=True)
class SmsTemplate:
    """A named template: why its messages are sent, and its text."""

    name: str
    purpose: SmsPurpose
    text: str
    member: str | None = None
    """The member whose own campaign template this is; None for a built-in one."""

    @property
    def variables(self) -> tuple[str, ...]:
        return variables_of(self.text)

    def to_dict(self) -> dict[str, object]:
        return {
            "name": self.name,
            "purpose": self.purpose.value,
            "text": self.text,
            "variables": list(self.variables),
            "built_in": self.member is None,
        }


def _built_in(name: str, purpose: SmsPurpose, text: str) -> tuple[str, SmsTemplate]:
    return name, SmsTemplate(name, purpose, text)


BUILT_IN: Final[Mapping[str, SmsTemplate]] = dict(
    [
        _built_in(
            "portal_code",
            SmsPurpose.CODE,
            "您的验证码为{code}，{minutes}分钟内有效。验证码仅用于本人申诉查询，"
            "请勿告诉任何人，工作人员不会向您索要。",
        ),
        _built_in(
            "restriction_notice",
            SmsPurpose.NOTICE,
            "{bank}通知：您尾号{account_tail}的账户已被{measure}，原因：{reason}。"
            "如有异议，请携带本人有效身份证件及交易、资金来源等证明材料，"
            "通过{portal_url}或到开户网点申诉。",
        ),
        _built_in(
            "appeal_received",
            SmsPurpose.APPEAL,
            "您对尾号{account_tail}账户的申诉已受理，编号{appeal_no}，"
            "我们将于{answer_by}前答复，请留意短信。",
        ),
        _built_in(
            "appeal_answer",
            SmsPurpose.APPEAL,
            "您对尾号{account_tail}账户的申诉（编号{appeal_no}）已办结：{outcome}。"
            "理由：{reason}。详情请见{portal_url}。",
        ),
        _built_in(
            "dissuasion_warning",
            SmsPurpose.WARNING,
            "{bank}紧急提醒：您正向尾号{payee_tail}的账户转账{amount}元，该交易疑似诈骗，"
            "已暂缓处理。刷单返利、冒充客服、“安全账户”都是诈骗！我行工作人员将致电核实，"
            "请勿继续转账。",
        ),
        _built_in(
            "dissuasion_warning_cash",
            SmsPurpose.WARNING,
            "{bank}紧急提醒：您正在支取现金{amount}元，该交易疑似与诈骗有关。冒充公检法、"
            "“安全账户”、上门取现都是诈骗！切勿把现金交给陌生人，我行工作人员将致电核实。",
        ),
        _built_in(
            "campaign_elderly",
            SmsPurpose.CAMPAIGN,
            "{bank}提醒您：冒充公检法、“养老投资”、保健品高额返利都是诈骗套路。"
            "不轻信、不透露、不转账，有疑问请拨打96110。回复TD退订",
        ),
        _built_in(
            "campaign_new_payee",
            SmsPurpose.CAMPAIGN,
            "{bank}提醒您：您近期向新的收款人转账，请确认对方身份。刷单返利、网络贷款、"
            "冒充客服退款都是诈骗，有疑问请拨打96110。回复TD退订",
        ),
        _built_in(
            "campaign_new_account",
            SmsPurpose.CAMPAIGN,
            "{bank}提醒您：出租、出借、出售银行卡和账户是违法行为，将被依法惩戒。"
            "请保管好您的账户，谨防诈骗，举报请拨打96110。回复TD退订",
        ),
    ]
)
"""The templates every member may use. The appeals and portal workflows send `portal_code`,
`restriction_notice`, `appeal_received` and `appeal_answer`; dissuasion `dissuasion_warning`
(a payment to an account) or `dissuasion_warning_cash` (a cash withdrawal);
campaigns the `campaign_*` ones or the member's own."""


_CLOSING: Final = "。．.！!？?；;，,、 "


def clause(text: str) -> str:
    """`text` to put before a template's own full stop (原因：{reason}。): its white space
    collapsed and its own closing punctuation dropped, so the message never reads 。。"""
    return " ".join(text.split()).rstrip(_CLOSING)


def variables_of(text: str, field: str = "text") -> tuple[str, ...]:
    """The variables of a template's text, in order of first use; InvalidInput naming
    `field` for a place that is not a plain `{name}` (no index, attribute, format or
    conversion) or a stray brace."""
    found: list[str] = []
    try:
        parsed = list(string.Formatter().parse(text))
    except ValueError as error:
        raise InvalidInput(f"a brace that opens no variable ({error})", field) from None
    for _literal, name, spec, conversion in parsed:
        if name is None:
            continue
        if not _VARIABLE.fullmatch(name) or spec or conversion:
            shown = (
                "{"
                + name
                + ("!" + conversion if conversion else "")
                + (":" + spec if spec else "")
                + "}"
            )
            raise InvalidInput(
                f"{shown} is not a variable: write {{name}} with lower-case letters, digits "
                "and '_'",
                field,
            )
        if name not in found:
            found.append(name)
    return tuple(found)


def segments_of(text: str) -> int:
    """How many SMS segments `text` takes (3GPP TS 23.040: UCS-2 or the GSM alphabet)."""
    single, part = (GSM_SINGLE, GSM_PART) if set(text) <= _GSM_BASIC else (UCS2_SINGLE, UCS2_PART)
    if len(text) <= single:
        return 1
    return -(-len(text) // part)


def longest_text(segments: int, text: str) -> int:
    """The most characters `segments` segments hold for a text like `text`."""
    single, part = (GSM_SINGLE, GSM_PART) if set(text) <= _GSM_BASIC else (UCS2_SINGLE, UCS2_PART)
    return single if segments == 1 else part * segments


@dataclass(frozen=True, slots=True)
class Rendered:
    text: str
    segments: int


def render(
    template: SmsTemplate, variables: Mapping[str, str], *, signature: str, max_segments: int
) -> Rendered:
    """The message `template` makes of `variables`, signed; InvalidInput naming the
    variable (`variables.<name>`) that is unknown, missing, empty, not text, too long or
    makes the message longer than `max_segments`."""
    wanted = template.variables
    for name in variables:
        if name not in wanted:
            listed = ", ".join(wanted) or "none"
            raise InvalidInput(
                f"template {template.name} has no variable {name} (it has: {listed})",
                f"variables.{name}",
            )
    for name in wanted:
        value = variables.get(name)
        if value is None:
            raise InvalidInput(f"template {template.name} needs it", f"variables.{name}")
        if not isinstance(value, str):
            raise InvalidInput("must be text", f"variables.{name}")
        if not value.strip():
            raise InvalidInput("must not be empty", f"variables.{name}")
        if any(ord(character) < 0x20 or character == "\x7f" for character in value):
            raise InvalidInput(
                "must not hold control characters or line breaks", f"variables.{name}"
            )
        if len(value) > MAX_VARIABLE:
            raise InvalidInput(f"at most {MAX_VARIABLE} characters", f"variables.{name}")
    text = f"【{signature}】" + template.text.format_map(dict(variables))
    segments = segments_of(text)
    if segments > max_segments:
        longest = max(wanted, key=lambda name: len(variables[name]), default=None)
        field = f"variables.{longest}" if longest is not None else "template"
        raise InvalidInput(
            f"the message would be {len(text)} characters, {segments} SMS segments; at most "
            f"{max_segments} segments ({longest_text(max_segments, text)} characters) are sent",
            field,
        )
    return Rendered(text, segments)


def check_template(name: str, text: str, *, signature: str, max_segments: int) -> tuple[str, ...]:
    """A member's new campaign template checked: its name (field `name`: lower-case letters,
    digits and '_', not a built-in's), its places (`text`), and that its fixed text with
    the signature leaves room for variables within `max_segments`. Its variables."""
    if not NAME.fullmatch(name):
        raise InvalidInput(
            "2 to 64 lower-case letters, digits or '_', starting with a letter", "name"
        )
    if name in BUILT_IN:
        raise InvalidInput(f"{name} is a built-in template's name", "name")
    if not text.strip():
        raise InvalidInput("must not be empty", "text")
    variables = variables_of(text)
    fixed = f"【{signature}】" + text.format_map(dict.fromkeys(variables, ""))
    if segments_of(fixed) > max_segments:
        raise InvalidInput(
            f"{len(fixed)} characters with the signature, more than {max_segments} SMS "
            f"segments ({longest_text(max_segments, fixed)} characters) hold",
            "text",
        )
    return variables
