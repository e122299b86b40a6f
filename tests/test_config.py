"""Settings: defaults from REGULATIONS.md, environment and TOML sources, one-line errors."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from fundwall.config import (
    DormancyOverride,
    PolicySettings,
    Settings,
    get_settings,
    load_settings,
)
from fundwall.domain.errors import InvalidInput


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No FUNDWALL_* variables of the machine, and a working directory of our own."""
    for name in list(os.environ):
        if name.startswith("FUNDWALL_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    get_settings.cache_clear()
    return tmp_path


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults_put_the_sqlite_database_in_the_data_directory(tmp_path: Path) -> None:
    settings = load_settings()
    assert settings.data_dir == tmp_path / "var"
    assert settings.database_url == f"sqlite:///{tmp_path / 'var' / 'fundwall.db'}"
    assert settings.keys_dir == tmp_path / "var" / "keys"


def test_policy_defaults_are_the_figures_of_the_regulations() -> None:
    policy = load_settings().policy
    yuan = 100
    assert policy.class_ii_inflow_daily_limit_fen == 10_000 * yuan
    assert policy.class_ii_inflow_yearly_limit_fen == 200_000 * yuan
    assert policy.class_ii_outflow_daily_limit_fen == 10_000 * yuan
    assert policy.class_ii_outflow_yearly_limit_fen == 200_000 * yuan
    assert policy.class_iii_outflow_daily_limit_fen == 2_000 * yuan
    assert policy.class_iii_outflow_yearly_limit_fen == 50_000 * yuan
    assert policy.class_iii_balance_cap_fen == 2_000 * yuan
    assert policy.max_class_i_accounts_per_bank == 1
    assert policy.max_class_ii_accounts_per_bank == 5
    assert policy.max_class_iii_accounts_per_bank == 5
    assert policy.max_class_iii_payment_accounts_per_institution == 1
    assert policy.atm_transfer_delay_hours == 24
    assert policy.strong_credential_daily_threshold_fen == 50_000 * yuan
    assert policy.large_amount_confirmation_personal_daily_fen == 300_000 * yuan
    assert policy.large_amount_confirmation_company_daily_fen == 1_000_000 * yuan
    assert policy.new_account_idle_suspension_months == 6
    assert policy.police_listed_reverification_days == 3
    assert policy.max_ids_per_phone == 1
    assert policy.dormant_personal_months == 12
    assert policy.dormant_personal_max_balance_fen == 10 * yuan
    assert policy.dormant_company_months == 12
    assert policy.stop_payment_hours == 48
    assert policy.stop_payment_max_renewals == 2
    assert policy.stop_payment_police_entry_minutes == 30
    assert policy.freeze_months == 6
    assert policy.freeze_major_case_months == 12
    assert policy.fund_return_objection_days == 30
    assert policy.fund_return_execution_working_days == 3
    assert policy.appeal_accept_working_days == 2
    assert policy.appeal_decide_working_days == 10
    assert policy.punishment_convicted_months == 36
    assert policy.punishment_card_dealer_months == 24
    assert policy.punishment_total_cap_months == 60
    assert (policy.card_dealer_min_cards, policy.card_dealer_min_times) == (3, 3)
    assert policy.card_dealer_min_counterparties == 3
    assert policy.dormant_by_bank == {}
    assert policy.max_class_i_accounts_in_region == 5
    assert policy.batch_opening_window_hours == 24
    assert policy.batch_opening_min_holders == 3


def test_every_policy_figure_is_an_integer() -> None:
    # Money is integer fen and durations whole units; a float here would be a bug.
    for name, value in PolicySettings().model_dump().items():
        if name == "dormant_by_bank":  # each bank's own figures, the same kind
            continue
        if name.endswith("_action"):  # a choice of action, not a figure
            assert value in (None, "alert", "delay", "block"), name
            continue
        assert type(value) is int, name


def test_a_bank_has_its_own_dormancy_figures(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(
        tmp_path / "fundwall.toml",
        "[policy.dormant_by_bank.302]\npersonal_months = 36\npersonal_max_balance_fen = 10000\n",
    )
    monkeypatch.setenv("FUNDWALL_POLICY__DORMANT_BY_BANK__303__COMPANY_MONTHS", "24")
    own = load_settings().policy.dormant_by_bank
    assert own["302"] == DormancyOverride(personal_months=36, personal_max_balance_fen=10_000)
    assert own["303"] == DormancyOverride(company_months=24)
    for figures in own.values():
        assert all(type(v) is int or v is None for v in figures.model_dump().values())
    with pytest.raises(InvalidInput) as caught:
        load_settings(policy={"dormant_by_bank": {"3 02": {"personal_months": 36}}})
    assert caught.value.field == "policy.dormant_by_bank" and "'3 02'" in caught.value.reason
    with pytest.raises(InvalidInput) as caught:
        load_settings(policy={"dormant_by_bank": {"302": {"personal_months": 0}}})
    assert caught.value.field == "policy.dormant_by_bank.302.personal_months"


def test_environment_sets_top_level_and_nested_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FUNDWALL_DATA_DIR", "/srv/fundwall")
    monkeypatch.setenv("FUNDWALL_POLICY__STOP_PAYMENT_HOURS", "24")
    settings = load_settings()
    assert settings.data_dir == Path("/srv/fundwall")
    assert settings.database_url == "sqlite:////srv/fundwall/fundwall.db"
    assert settings.policy.stop_payment_hours == 24


def test_explicit_database_url_wins_over_the_data_directory(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("FUNDWALL_DATABASE_URL", "postgresql+psycopg://fw@db/fundwall")
    assert load_settings().database_url == "postgresql+psycopg://fw@db/fundwall"


def test_fundwall_toml_in_the_working_directory_is_read(tmp_path: Path) -> None:
    write(tmp_path / "fundwall.toml", 'data_dir = "/data"\n[policy]\nfreeze_months = 3\n')
    settings = load_settings()
    assert settings.data_dir == Path("/data")
    assert settings.database_url == "sqlite:////data/fundwall.db"
    assert settings.policy.freeze_months == 3


def test_fundwall_config_names_the_toml_file(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    write(tmp_path / "fundwall.toml", "[policy]\nfreeze_months = 3\n")
    other = write(tmp_path / "bank.toml", "[policy]\nfreeze_months = 4\n")
    monkeypatch.setenv("FUNDWALL_CONFIG", str(other))
    assert load_settings().policy.freeze_months == 4


def test_environment_beats_toml_and_both_merge_inside_policy(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    config = write(tmp_path / "c.toml", "[policy]\nfreeze_months = 3\nstop_payment_hours = 24\n")
    monkeypatch.setenv("FUNDWALL_POLICY__STOP_PAYMENT_HOURS", "12")
    policy = load_settings(config).policy
    assert (policy.freeze_months, policy.stop_payment_hours) == (3, 12)
    assert policy.appeal_decide_working_days == 10


def test_overrides_beat_every_source(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("FUNDWALL_DATA_DIR", "/from/env")
    settings = load_settings(data_dir=tmp_path / "d", policy={"stop_payment_hours": 6})
    assert settings.data_dir == tmp_path / "d"
    assert settings.policy.stop_payment_hours == 6


def test_bad_environment_value_is_one_line_naming_the_setting(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("FUNDWALL_POLICY__STOP_PAYMENT_HOURS", "two days")
    with pytest.raises(InvalidInput) as caught:
        load_settings()
    assert caught.value.field == "policy.stop_payment_hours"
    message = str(caught.value)
    assert "\n" not in message
    assert "FUNDWALL_POLICY__STOP_PAYMENT_HOURS" in message
    assert "'two days'" in message


def test_bad_toml_value_names_the_key_and_the_file(tmp_path: Path) -> None:
    config = write(tmp_path / "c.toml", "[policy]\nfreeze_months = -1\n")
    with pytest.raises(InvalidInput) as caught:
        load_settings(config)
    assert caught.value.field == "policy.freeze_months"
    assert f"[policy] freeze_months in {config}" in str(caught.value)
    assert "greater than 0" in str(caught.value)


def test_unknown_toml_key_is_refused_rather_than_ignored(tmp_path: Path) -> None:
    config = write(tmp_path / "c.toml", "[policy]\nfreeze_month = 3\n")
    with pytest.raises(InvalidInput) as caught:
        load_settings(config)
    assert caught.value.field == "policy.freeze_month"


def test_broken_toml_syntax_names_the_file_and_line(tmp_path: Path) -> None:
    config = write(tmp_path / "c.toml", "[policy]\nfreeze_months = = 3\n")
    with pytest.raises(InvalidInput) as caught:
        load_settings(config)
    assert caught.value.record == str(config)
    assert "line 2" in str(caught.value)


def test_missing_config_file_is_an_error_not_silence(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("FUNDWALL_CONFIG", str(tmp_path / "absent.toml"))
    with pytest.raises(InvalidInput, match=r"config file not found: .*absent\.toml"):
        load_settings()
    with pytest.raises(InvalidInput, match="config file not found"):
        load_settings(tmp_path / "also-absent.toml")


def test_limits_out_of_order_are_refused_with_both_names(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FUNDWALL_POLICY__FREEZE_MONTHS", "18")
    with pytest.raises(InvalidInput) as caught:
        load_settings()
    assert "freeze_months (18) must not exceed freeze_major_case_months (12)" in str(caught.value)


def test_several_problems_report_the_first_and_count_the_rest(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("FUNDWALL_POLICY__FREEZE_MONTHS", "x")
    monkeypatch.setenv("FUNDWALL_POLICY__STOP_PAYMENT_HOURS", "y")
    with pytest.raises(InvalidInput, match=r"\(and 1 more problem\)"):
        load_settings()


def test_configured_keys_must_come_in_pairs_and_are_never_echoed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    secret = "ab" * 16
    monkeypatch.setenv("FUNDWALL_KEYS__SM4_KEY", secret)
    with pytest.raises(InvalidInput, match="give both sm4_key and hmac_key"):
        load_settings()
    monkeypatch.setenv("FUNDWALL_KEYS__HMAC_KEY", "not hex at all")
    with pytest.raises(InvalidInput) as caught:
        load_settings()
    assert "hmac_key must be" in str(caught.value)
    assert "not hex at all" not in str(caught.value)
    assert secret not in str(caught.value)


def test_configured_keys_are_secret_in_repr(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FUNDWALL_KEYS__SM4_KEY", "ab" * 16)
    monkeypatch.setenv("FUNDWALL_KEYS__HMAC_KEY", "cd" * 32)
    settings = load_settings()
    assert "abab" not in repr(settings)
    assert settings.keys.sm4_key is not None
    assert settings.keys.sm4_key.get_secret_value() == "ab" * 16


def test_get_settings_is_cached_until_cleared(monkeypatch: pytest.MonkeyPatch) -> None:
    first = get_settings()
    assert get_settings() is first
    monkeypatch.setenv("FUNDWALL_POLICY__FREEZE_MONTHS", "2")
    assert get_settings().policy.freeze_months == 6
    get_settings.cache_clear()
    assert get_settings().policy.freeze_months == 2


def test_settings_are_frozen() -> None:
    settings = load_settings()
    with pytest.raises(ValueError, match="frozen"):
        settings.data_dir = Path("/elsewhere")  # type: ignore[misc]
    assert isinstance(settings, Settings)
