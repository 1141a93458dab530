"""Index-like synonyms for CMS's abbreviated CPT/HCPCS short descriptors (no database)."""

import pytest

from codes import synonyms


@pytest.mark.parametrize(
    ("short", "words"),
    [
        # The therapy's codes as the 2022 RVU file and Addendum B abbreviate them.
        ("Implant spinal canal cath", {"catheter", "intrathecal", "epidural"}),
        ("Implant spine infusion pump", {"intrathecal", "epidural"}),
        ("Inj morphine pf epid ithc", {"injection", "preservative", "free", "epidural", "intrathecal"}),
        ("Replacement impl pump cathet", {"implantable", "catheter", "intraspinal", "intrathecal"}),
        ("Anal sp inf pmp w/reprg&fill", {"analysis", "pump", "reprogramming", "intrathecal"}),
        ("Spin/brain pump refil & main", {"refill", "intrathecal"}),
        ("Njx interlaminar lmbr/sac", {"injection", "lumbar"}),
    ],
)
def test_abbreviations_and_phrases_are_spelled_out(short, words):
    assert words <= set(synonyms.expand(short).split())


@pytest.mark.parametrize(
    "short",
    [
        "Pt dx lum sp reg inf",  # "inf" is infection here, "sp" spine: not a spinal pump
        "Us exam spinal canal",  # an ultrasound, not intrathecal
        "Anal fistula repair",  # the anus, not an analysis
        "Acute care urinary tract inf",
        "Hydrogel drg",  # dressing (elsewhere drainage, during): not "drug"
        "Pmp22 gene dup/delet",  # a gene, not a pump
        "Mgmt gene prmtr mthyltn",  # the MGMT gene, not management
        "Njx stm cl prdct anl sft tis",  # perianal, not an analysis
    ],
)
def test_ambiguous_abbreviations_are_left_alone(short):
    expanded = set(synonyms.expand(short).split())
    assert not expanded & {"intrathecal", "analysis", "infusion", "drug", "pump", "management"}


def test_words_already_spelled_out_are_not_repeated():
    assert synonyms.expand("Remove spinal canal catheter") == "intrathecal epidural"
    assert synonyms.expand("Infusion pump refill kit") == ""


def test_search_text_adds_synonyms_for_cpt_and_hcpcs_only():
    cpt = synonyms.search_text("cpt", "Implant spinal canal cath", "Implant spinal canal cath")
    assert cpt == "Implant spinal canal cath | catheter catheterization intrathecal epidural"
    icd = synonyms.search_text("icd10cm", "Oth chronic pain", "Other chronic pain", ["Chronic pain NOS"])
    assert icd == "Other chronic pain | Oth chronic pain | Chronic pain NOS"


def test_search_text_splits_words_joined_by_a_slash():
    """PostgreSQL's parser reads "Revise/replace" as one file-path token, so "knee replace" would not find 27486."""
    assert synonyms.search_text("cpt", "Revise/replace knee joint", "Revise/replace knee joint") == "Revise replace knee joint"
    assert synonyms.search_text("icd10cm", "", "Pain in arm and/or leg") == "Pain in arm and or leg"


def test_index_terms_are_inclusion_terms_and_includes_notes_that_name_the_code():
    notes = {
        "inclusion_terms": [{"text": "Reflex sympathetic dystrophy", "cited": []}],
        "includes": [
            {"text": "shingles", "cited": []},
            {"text": "conditions classifiable to both I05.0 and I05.2-I05.9", "cited": [["I050", "I050"]]},
        ],
        "excludes1": [{"text": "causalgia of lower limb (G57.7-)", "cited": [["G577", "G577"]]}],
    }
    assert synonyms.index_terms(notes) == ["Reflex sympathetic dystrophy", "shingles"]
    assert synonyms.index_terms(None) == [] == synonyms.index_terms({})


def test_icd10cm_search_text_adds_index_terms_of_the_therapy():
    assert synonyms.search_text("icd10cm", "", "Postlaminectomy syndrome, NEC", code="M961").endswith(
        "| failed back surgery syndrome FBSS"
    )
    catheter = "Displacement of cranial or spinal infusion catheter, initial encounter"
    assert synonyms.search_text("icd10cm", "", catheter, code="T85620A") == f"{catheter} | malposition migration"
    disc = "Other intervertebral disc displacement, lumbar region"
    assert synonyms.search_text("icd10cm", "", "Displacement of lens", code="H2703") == "Displacement of lens"
    assert synonyms.search_text("icd10cm", "", disc, code="M5126") == disc  # not a device: no "migration"
