"""nianbao compare: this year's report beside last year's (issue 16)."""

from __future__ import annotations

import pytest

from toolkit.demo.synthetic import synthetic_report
from toolkit.narrative import carried_over, normalise_sentence, split_sentences

UNIT = "某某县财政局"
PROBLEMS = "一是政策解读形式还比较单一，图解、视频解读数量偏少。二是依申请公开答复的规范化水平有待提高。"


@pytest.fixture
def years():
    last = synthetic_report("2021", UNIT, 2024, seed=3)
    this = synthetic_report("2021", UNIT, 2025, seed=3, prior=last)
    return last, this


def test_split_and_normalise():
    assert split_sentences("第一句。第二句！\n第三句；") == ["第一句。", "第二句！", "第三句；"]
    assert normalise_sentence("收到申请 １２ 件，已办结。") == normalise_sentence("收到申请12件,已办结")


def test_consistent_years_carry_no_sentence(years):
    assert carried_over(*years) == []


def test_copied_problems_found_with_part_and_label(years):
    last, this = years
    last.narrative["problems.text"] = PROBLEMS
    this.narrative["problems.text"] = "一是政策解读形式还比较单一， 图解、视频解读数量偏少。二是新问题，今年刚刚发现并且正在整改。"
    found = carried_over(last, this)
    assert [(c.part_id, c.label, c.last_part_id) for c in found] == [
        ("problems.text", "存在的主要问题及改进情况", "problems.text")]
    assert found[0].sentence.startswith("一是政策解读形式")


def test_short_sentences_are_not_flagged(years):
    last, this = years
    last.narrative["other.text"] = this.narrative["other.text"] = "无。"
    assert carried_over(last, this) == []
    last.narrative["other.fees"] = this.narrative["other.fees"] = "本年度未收取信息处理费用。"
    assert carried_over(last, this, min_chars=30) == []
    assert [c.part_id for c in carried_over(last, this, min_chars=5)] == ["other.fees"]


def test_sentence_moved_to_another_part_is_found(years):
    last, this = years
    last.narrative["overview.management"] = PROBLEMS
    this.narrative["problems.text"] = PROBLEMS
    found = carried_over(last, this)
    assert {(c.part_id, c.last_part_id) for c in found} == {("problems.text", "overview.management")}
    assert len(found) == 2
