"""The catalogue: the agreed names, a stable order, words for every feature."""

from __future__ import annotations

import pyarrow as pa

from fundwall.engine.features import Kind, bulk_schema, catalogue, column_names, feature_names
from fundwall.engine.features.catalog import (
    FACTS_OF,
    FLOAT_FORMULAS,
    LOGIN_FEATURES,
    RATIOS,
    SINGLES,
    WINDOWS,
    LoginMeasure,
    Role,
)

AGREED_WINDOWED = [
    "payer_out_count",
    "payer_out_sum",
    "payer_out_max",
    "payer_out_distinct",
    "payer_in_count",
    "payer_in_sum",
    "payee_in_count",
    "payee_in_sum",
    "payee_in_distinct",
    "payee_out_count",
    "payee_out_sum",
    "device_count",
    "device_distinct",
    "ip_count",
    "ip_distinct",
    "person_out_count",
    "person_out_sum",
]
AGREED_SINGLE = [
    "amount",
    "is_night",
    "hour",
    "payer_age_days",
    "payee_age_days",
    "payer_idle_days",
    "payee_idle_days",
    "new_payee",
    "payer_balance",
    "balance_share",
    "cross_bank",
    "is_atm",
    "is_non_counter",
    "is_withdrawal",
    "payer_class",
    "payee_class",
    "payer_holder_age",
    "person_accounts",
    "person_banks",
    "phone_parties",
    "device_accounts",
    "payer_new_device",
    "payer_new_city",
]
AGREED_LOGINS = [
    "payer_takeover_hours",
    "payer_new_device_login_hours",
    "payer_face_fail_7d",
    "payee_takeover_hours",
    "payee_new_device_login_hours",
    "payee_face_fail_7d",
]
AGREED_RATIOS = [
    "amount_to_payer_max_30d",
    "amount_to_payer_in_24h",
    "payer_out_count_1h_to_24h",
    "payer_out_sum_24h_to_30d",
    "payee_in_count_1h_to_24h",
    "payee_out_to_in_24h",
]


def test_every_agreed_name_is_in_the_catalogue_once() -> None:
    names = feature_names()
    agreed = AGREED_SINGLE + [f"{s}_{w.name}" for s in AGREED_WINDOWED for w in WINDOWS]
    assert sorted(names) == sorted(agreed + AGREED_LOGINS + AGREED_RATIOS)
    assert len(set(names)) == len(names)


def test_the_order_is_stable_and_shared_by_the_bulk_table() -> None:
    assert feature_names()[:3] == ("amount", "is_night", "hour")
    assert feature_names()[23:26] == (
        "payer_out_count_10m",
        "payer_out_count_1h",
        "payer_out_count_24h",
    )
    assert feature_names()[-12:] == tuple(AGREED_LOGINS + AGREED_RATIOS)
    assert tuple(column_names()) == feature_names() == tuple(bulk_schema().names)


def test_each_feature_has_a_kind_and_words_in_english_and_chinese() -> None:
    for feature in catalogue():
        assert feature.en and feature.zh, feature.name
        assert isinstance(feature.kind, Kind)
    by_name = {f.name: f for f in catalogue()}
    assert by_name["payer_out_sum_24h"].kind is Kind.MONEY
    assert by_name["payer_out_sum_24h"].zh == "近24小时付款账户转出金额"
    assert by_name["payee_in_distinct_1h"].en == (
        "Distinct payers of money into the receiving account in the last 1h"
    )
    assert by_name["balance_share"].kind is Kind.RATIO
    assert by_name["payee_takeover_hours"].kind is Kind.HOURS
    assert by_name["payee_face_fail_7d"].zh == "近7天收款账户人脸核验失败登录次数"


def test_ratios_are_float_columns_and_everything_else_int() -> None:
    floats = [f.name for f in bulk_schema() if f.type == pa.float64()]
    assert floats == ["balance_share", *AGREED_RATIOS]
    assert all(f.type in (pa.int64(), pa.float64()) for f in bulk_schema())


def test_each_single_value_reads_a_fact_its_entity_has() -> None:
    for single in SINGLES:
        assert single.fact in FACTS_OF[single.feature.role], single.feature.name


def test_float_formulas_make_exactly_the_float_features() -> None:
    for single in SINGLES:
        made_float = single.formula in FLOAT_FORMULAS
        assert made_float is single.feature.is_float, single.feature.name


def test_each_ratio_divides_two_integer_features_about_its_own_side() -> None:
    by_name = {f.name: f for f in catalogue()}
    for ratio in RATIOS:
        numerator, denominator = by_name[ratio.numerator], by_name[ratio.denominator]
        assert not numerator.is_float and not denominator.is_float, ratio.feature.name
        assert ratio.feature.kind is Kind.RATIO
        assert denominator.role is ratio.feature.role, ratio.feature.name
        assert numerator.role in (None, ratio.feature.role), ratio.feature.name


def test_login_features_list_the_payers_rows_then_the_payees() -> None:
    """Each execution reads an account's logins once per transaction, row by row."""
    roles = [row.feature.role for row in LOGIN_FEATURES]
    assert roles == sorted(roles) and set(roles) == {Role.PAYER, Role.PAYEE}
    for row in LOGIN_FEATURES:
        assert (row.window is not None) is (row.measure is LoginMeasure.COUNT)
        assert row.feature.name.startswith("payer_" if row.feature.role is Role.PAYER else "payee_")
