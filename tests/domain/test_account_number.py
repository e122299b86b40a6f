from __future__ import annotations

import pytest

from fundwall.domain.errors import InvalidInput
from fundwall.domain.identity import (
    AccountNumber,
    AccountRule,
    luhn_check_digit,
    luhn_valid,
    mask_account,
)


def card(payload: str) -> str:
    return payload + luhn_check_digit(payload)


CARD16 = card("622202123456123")
CARD19 = card("622848001234567890")


def test_luhn_reference_example() -> None:
    assert luhn_check_digit("7992739871") == "3"
    assert luhn_valid("79927398713")
    assert not luhn_valid("79927398710")


@pytest.mark.parametrize("bad", ["", "1", "12a", "１２", 12])
def test_luhn_valid_is_false_for_non_numbers(bad: object) -> None:
    assert not luhn_valid(bad)  # type: ignore[arg-type]


@pytest.mark.parametrize("bad", ["12a", "", 12])
def test_luhn_check_digit_refuses_non_digits(bad: object) -> None:
    with pytest.raises(InvalidInput) as caught:
        luhn_check_digit(bad)  # type: ignore[arg-type]
    assert caught.value.field == "payload"


@pytest.mark.parametrize("number", [CARD16, CARD19])
@pytest.mark.parametrize("card_flag", [True, None])
def test_valid_cards(number: str, card_flag: bool | None) -> None:
    spaced = " ".join(number[i : i + 4] for i in range(0, len(number), 4))
    parsed = AccountNumber.parse(spaced, card=card_flag)
    assert (parsed.number, parsed.rule, parsed.is_card) == (number, AccountRule.CARD, True)


def test_card_with_a_wrong_check_digit() -> None:
    wrong = CARD16[:-1] + str((int(CARD16[-1]) + 1) % 10)
    with pytest.raises(InvalidInput) as caught:
        AccountNumber.parse(wrong, card=True)
    assert caught.value.reason == "the card number's check digit is wrong (a typing error?)"
    assert caught.value.field == "account_no"
    assert AccountNumber.parse(wrong).rule is AccountRule.ACCOUNT


@pytest.mark.parametrize("length", [15, 20])
def test_card_lengths(length: int) -> None:
    with pytest.raises(InvalidInput, match=f"16 to 19 digits, got {length}"):
        AccountNumber.parse(card("6" * (length - 1)), card=True)


@pytest.mark.parametrize("text", ["1234-5678", "1" * 32, "3501 0000 1234 5678 9"])
def test_accounts_without_check_digit(text: str) -> None:
    parsed = AccountNumber.parse(text, card=False)
    assert parsed.rule is AccountRule.ACCOUNT
    assert parsed.number == text.replace(" ", "").replace("-", "")


def test_a_luhn_valid_number_is_an_account_when_told_so() -> None:
    assert AccountNumber.parse(CARD16, card=False).rule is AccountRule.ACCOUNT


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("1234567", "an account number has 8 to 32 digits, got 7"),
        ("1" * 33, "an account number has 8 to 32 digits, got 33"),
        ("1234567A", "an account number holds only digits (spaces and hyphens are ignored)"),
        ("1234.5678", "an account number holds only digits (spaces and hyphens are ignored)"),
        ("  ", "empty account number"),
    ],
)
@pytest.mark.parametrize("card_flag", [False, None])
def test_refused_accounts(text: str, reason: str, card_flag: bool | None) -> None:
    with pytest.raises(InvalidInput) as caught:
        AccountNumber.parse(text, card=card_flag, field="payee_account")
    assert (caught.value.reason, caught.value.field) == (reason, "payee_account")


@pytest.mark.parametrize(
    ("number", "rule", "masked"),
    [
        (CARD16, AccountRule.CARD, CARD16[:6] + "******" + CARD16[-4:]),
        (CARD19, AccountRule.CARD, CARD19[:6] + "*********" + CARD19[-4:]),
        ("350100001234567890", AccountRule.ACCOUNT, "3501**********7890"),
        ("1234567890", AccountRule.ACCOUNT, "12****7890"),
        ("12345678", AccountRule.ACCOUNT, "****5678"),
    ],
)
def test_masking(number: str, rule: AccountRule, masked: str) -> None:
    account = AccountNumber(number, rule)
    assert account.masked() == masked == mask_account(number)
    assert str(account) == masked
    assert repr(account) == f"AccountNumber({masked!r})"


def test_the_mask_depends_on_the_digits_alone() -> None:
    # A card number parsed as an account shows as the card it is, wherever it appears.
    assert AccountNumber.parse(CARD16, card=False).masked() == mask_account(CARD16)
    assert mask_account(CARD16) == CARD16[:6] + "******" + CARD16[-4:]


@pytest.mark.parametrize(
    ("identifier", "masked"),
    [
        ("6222020200112233446", "622202*********3446"),  # a card: the issuer's six digits
        ("6222020200112233445", "6222***********3445"),  # no card (check digit): four and four
        ("6222021234567890123", "6222***********0123"),
        ("ACC-000123-XYZ", "ACC-******-XYZ"),  # an imported identifier, separators kept
        ("ACCT12345", "A****2345"),  # at least four stars
        ("ACCT1234", "****1234"),
        ("ACCT12", "***T12"),  # shorter than eight: at most the last half shows
        ("X9", "*9"),
        ("A1", "*1"),
        ("7", "*"),
        ("", ""),
    ],
)
def test_masking_any_account_identifier(identifier: str, masked: str) -> None:
    assert mask_account(identifier) == masked
    assert len(masked) == len(identifier)


def test_direct_construction_validates() -> None:
    with pytest.raises(InvalidInput) as caught:
        AccountNumber("1234", AccountRule.ACCOUNT)
    assert caught.value.field == "number"
    with pytest.raises(InvalidInput, match="unknown account rule"):
        AccountNumber("12345678", "savings")  # type: ignore[arg-type]
