"""Spelling correction helpers of codes/search.py that need no database."""

import pytest

from codes import search


@pytest.mark.parametrize(
    ("a", "b", "distance"),
    [
        ("cathter", "catheter", 1),
        ("hart", "heart", 1),
        ("pian", "pain", 1),  # an adjacent swap is one edit
        ("breakdwn", "breakdown", 1),
        ("cath", "catheter", 4),
        ("", "pump", 4),
        ("pump", "pump", 0),
    ],
)
def test_edit_distance(a, b, distance):
    assert search.edit_distance(a, b) == distance == search.edit_distance(b, a)


def test_vocabulary_is_lower_case_words_of_three_letters_or_more():
    texts = ["Anal sp inf pmp w/reprg&fill", "Pmp22 gene dup/delet", "Sézary disease | crohn's"]
    expected = {"anal", "inf", "pmp", "reprg", "fill", "gene", "dup", "delet", "sézary", "disease", "crohn"}
    assert search.vocabulary(texts) == expected


def test_repeated_words_are_searched_once():
    assert search._words("Cathtr cathtr CATHTR of pain") == ["cathtr", "pain"]
