from __future__ import annotations

import re

import pytest
from stdnum import numdb

from fundwall.domain.errors import InvalidInput
from fundwall.domain.regions import (
    PREFECTURES,
    PROVINCES,
    city_name,
    parse_region_code,
    province_name,
)

CAPITALS = {
    "1301": "石家庄市", "1401": "太原市", "1501": "呼和浩特市", "2101": "沈阳市",
    "2201": "长春市", "2301": "哈尔滨市", "3201": "南京市", "3301": "杭州市",
    "3401": "合肥市", "3501": "福州市", "3601": "南昌市", "3701": "济南市",
    "4101": "郑州市", "4201": "武汉市", "4301": "长沙市", "4401": "广州市",
    "4501": "南宁市", "4601": "海口市", "5101": "成都市", "5201": "贵阳市",
    "5301": "昆明市", "5401": "拉萨市", "6101": "西安市", "6201": "兰州市",
    "6301": "西宁市", "6401": "银川市", "6501": "乌鲁木齐市",
    "1101": "北京市辖区", "1201": "天津市辖区", "3101": "上海市辖区", "5001": "重庆市辖区",
}  # fmt: skip


def test_all_34_province_level_divisions() -> None:
    assert len(PROVINCES) == 34
    assert {"11", "71", "81", "82", "65"} <= set(PROVINCES)
    assert PROVINCES["35"] == "福建省"


def test_capitals_and_well_known_cities() -> None:
    for code, name in CAPITALS.items():
        assert PREFECTURES[code] == name
    assert PREFECTURES["3502"] == "厦门市"
    assert PREFECTURES["4403"] == "深圳市"


def test_every_prefecture_belongs_to_a_province() -> None:
    for code in PREFECTURES:
        assert re.fullmatch(r"[0-9]{4}", code)
        assert code[:2] in PROVINCES


def test_prefecture_names_agree_with_the_stdnum_division_list() -> None:
    divisions = numdb.get("cn/loc")
    for code, name in PREFECTURES.items():
        found = divisions.info(code + "00")
        assert len(found) == 2, code
        # Entries read like "[1983-1999]淮阴市,[2000-]淮安市"; municipalities say 市辖区/县.
        names = [re.sub(r"\[[^\]]*\]", "", part) for part in found[1][1]["county"].split(",")]
        municipal = [PROVINCES[code[:2]][:2] + "市辖" + part[-1] for part in names]
        assert name in names or name in municipal, (code, name, names)


def test_lookups() -> None:
    assert province_name("350203") == "福建省"
    assert city_name("350203") == "厦门市"
    assert city_name("359900") is None
    assert province_name("990000") is None


@pytest.mark.parametrize("code", ["350203", " 110000 ", "100000", "710000"])
def test_parse_region_code_accepts(code: str) -> None:
    assert parse_region_code(code) == code.strip()


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("3502", "a region code is six digits: '3502'"),
        ("35020A", "a region code is six digits: '35020A'"),
        ("990000", "no province-level division has code '99': '990000'"),
        ("000000", "no province-level division has code '00': '000000'"),
        (350203, "expected a six-digit region code, got int"),
    ],
)
def test_parse_region_code_refuses(value: object, reason: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_region_code(value, field="home_region")
    assert (caught.value.reason, caught.value.field) == (reason, "home_region")
