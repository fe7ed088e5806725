"""Series selection rules (``ichlabel_edge.selection``) in MONAI Deploy's JSON format: text by
case-blind equality or a regular expression, numbers by value, range or relation, several values
by inclusion and ``!`` exclusion, the image plane; attributes the series lacks come from its first
instance; ICHLabel's default rules take the phantoms' non-contrast head series and leave
localizers, contrast, angiography and other planes."""

import json

import pytest
from ichlabel_edge.selection import (
    DEFAULT_RULES,
    RuleError,
    SeriesAttributes,
    conditions_met,
    contrast_given,
    default_rules,
    load_rules,
    parse_rules,
    select_series,
)
from pydicom import dcmread

from annotations.phantoms import VENDORS, write_phantoms

AXIAL = [1, 0, 0, 0, 1, 0]
CORONAL = [1, 0, 0, 0, 0, -1]
SAGITTAL = [0, 1, 0, 0, 0, -1]


def head_ct(**changes) -> dict:
    """A non-contrast axial head series' attributes, as plain values."""
    values = {
        "Modality": "CT",
        "StudyDescription": "CT HEAD WITHOUT CONTRAST",
        "SeriesDescription": "HEAD W/O 5mm",
        "BodyPartExamined": "HEAD",
        "PatientPosition": "HFS",
        "ImageType": ["ORIGINAL", "PRIMARY", "AXIAL"],
        "ImageOrientationPatient": AXIAL,
        "SliceThickness": 5.0,
        "SeriesNumber": 3,
    }
    return {k: v for k, v in {**values, **changes}.items() if v is not None}


def met(conditions: dict, **changes) -> bool:
    return conditions_met(conditions, SeriesAttributes(head_ct(**changes)))


# Text


def test_text_matches_case_blind_or_as_a_regular_expression_found_anywhere():
    assert met({"Modality": "ct"})
    assert met({"SeriesDescription": "(?i)w/o"})
    assert met({"SeriesDescription": "5mm"})  # re.search: anywhere in the value
    assert met({"SeriesDescription": "head"})  # searched ignoring case, as the SDK does
    assert not met({"SeriesDescription": "^5mm"})
    assert not met({"Modality": "(?i)^MR$"})
    assert not met({"StudyDescription": "(?i)^spleen"})  # study attributes count as well


def test_a_missing_attribute_fails_its_condition_and_an_empty_condition_is_ignored():
    assert not met({"BodyPartExamined": "HEAD"}, BodyPartExamined=None)
    assert not met({"BodyPartExamined": "(.*?)"}, BodyPartExamined="")
    assert met({"BodyPartExamined": "", "Laterality": None, "ImageType": []})


# Several values


def test_several_values_need_every_term_and_none_of_the_excluded_ones():
    assert met({"ImageType": ["PRIMARY", "ORIGINAL"]})
    assert met({"ImageType": ["primary", "!LOCALIZER"]})
    assert met({"ImageType": "AXIAL"})
    assert not met({"ImageType": ["PRIMARY", "!AXIAL"]})
    assert not met({"ImageType": "!ORIGINAL"})
    assert not met({"ImageType": ["ORIGINAL", "!LOCALIZER"]}, ImageType=["ORIGINAL", "LOCALIZER"])
    assert not met({"ImageType": ["DERIVED"]})


def test_terms_are_found_as_substrings_as_in_the_sdk():
    assert met({"ImageType": ["PRIM"]})
    assert met({"ImageType": ["PRIMARY"]}, ImageType=["ORIGINAL", "PRIMARY_X"])


def test_a_list_condition_on_a_single_value_takes_it_as_one_value():
    assert met({"ImageType": ["ORIGINAL"]}, ImageType="ORIGINAL")
    assert not met({"ImageType": ["ORIGINAL", "PRIMARY"]}, ImageType="ORIGINAL")


# Numbers


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        (5, True),
        (5.0, True),
        (3, False),
        ([3, 5], True),
        ([5.5, 10], False),
        ([2, ">"], True),
        ([5, ">"], False),
        ([5, ">="], True),
        ([5, "<"], False),
        ([10, "<="], True),
        ([5, "!="], False),
        ("5(\\.0)?", True),
        ("5", False),  # the whole number as text, "5.0"
    ],
)
def test_numbers_match_by_value_range_relation_or_regular_expression(condition, expected):
    assert met({"SliceThickness": condition}) is expected


def test_a_condition_a_number_cannot_meet_is_a_rule_error():
    with pytest.raises(RuleError):
        met({"SliceThickness": [1, 2, 3]})
    with pytest.raises(RuleError):
        met({"SliceThickness": [5, "~"]})


# The image plane


def test_the_plane_follows_the_orientation_cosines():
    assert met({"ImageOrientationPatient": "Axial"})
    assert met({"ImageOrientationPatient": "axial"})
    assert not met({"ImageOrientationPatient": "Axial"}, ImageOrientationPatient=CORONAL)
    assert met({"ImageOrientationPatient": "Coronal"}, ImageOrientationPatient=CORONAL)
    assert met({"ImageOrientationPatient": "Sagittal"}, ImageOrientationPatient=SAGITTAL)
    tilted = [1, 0, 0, 0, 0.96, -0.28]  # a gantry tilt of about 16 degrees is still axial
    assert met({"ImageOrientationPatient": "Axial"}, ImageOrientationPatient=tilted)


def test_without_a_known_patient_position_the_plane_does_not_match():
    assert not met({"ImageOrientationPatient": "Axial"}, PatientPosition=None)
    assert not met({"ImageOrientationPatient": "Axial"}, PatientPosition="XYZ")


# Where values come from


def test_an_attribute_the_series_lacks_is_read_from_its_first_instance_once():
    calls = []

    def first_instance() -> dict:
        calls.append(1)
        return {"ImageType": ["ORIGINAL", "PRIMARY", "LOCALIZER"], "Modality": "MR"}

    series = SeriesAttributes(head_ct(ImageType=None), first_instance)
    assert conditions_met({"Modality": "CT"}, series)  # the series' own value wins
    assert calls == []  # not fetched while nothing is missing
    assert not conditions_met({"ImageType": ["!LOCALIZER"]}, series)
    assert conditions_met({"ImageType": ["LOCALIZER"]}, series)
    assert calls == [1]


def test_a_pydicom_dataset_is_read_with_its_value_types(tmp_path):
    write_phantoms(tmp_path, scans=1, seed=5, size=32)
    ds = dcmread(next(p for p in tmp_path.rglob("*") if p.is_file() and p.suffix != ".json"))
    series = SeriesAttributes(ds)

    assert series.get("SliceThickness") == 5.0 and isinstance(series.get("SliceThickness"), float)
    assert series.get("ImageType") == ["ORIGINAL", "PRIMARY", "AXIAL"]
    assert isinstance(series.get("PatientName"), str)
    assert series.get("ContrastBolusAgent") is None
    assert default_rules().match(series) == "Non-contrast head CT"


# Selecting one study's series, as the SDK does


def test_select_series_takes_the_first_match_per_selection_unless_all_are_wanted():
    thin = SeriesAttributes(head_ct(SliceThickness=0.625), instances=240)
    thick = SeriesAttributes(head_ct(), instances=32)
    scout = SeriesAttributes(head_ct(ImageType=["ORIGINAL", "PRIMARY", "LOCALIZER"]), instances=2)
    rules = parse_rules(
        {
            "selections": [
                {"name": "any head", "conditions": {"ImageType": ["PRIMARY", "!LOCALIZER"]}},
                {"name": "thick", "conditions": {"SliceThickness": [2.5, ">="]}},
                {"name": "MR", "conditions": {"Modality": "MR"}},
            ]
        }
    )
    study = [thick, scout, thin]

    first = select_series(rules, study)
    every = select_series(rules, study, all_matched=True)
    largest_first = select_series(rules, study, all_matched=True, sort_by_sop_instance_count=True)

    assert [(s.name, s.series) for s in first] == [("any head", thick), ("thick", thick)]
    assert [(s.name, s.series) for s in every] == [
        ("any head", thick),
        ("any head", thin),
        ("thick", thick),
        ("thick", scout),
    ]
    assert [s.series for s in largest_first] == [thin, thick, thick, scout]
    assert [s.series for s in select_series(None, study)] == study  # no rules: every series


# Loading rules


def test_the_sdks_sample_rules_load(tmp_path):
    sample = {
        "selections": [
            {
                "name": "CT Series 3",
                "conditions": {
                    "StudyDescription": "(.*?)",
                    "Modality": "(?i)CT",
                    "ImageType": ["PRIMARY", "ORIGINAL", "AXIAL"],
                    "SliceThickness": [3, 5],
                },
            },
            {
                "name": "CT Series 4",
                "conditions": {
                    "Modality": "(?i)MR",
                    "ImageOrientationPatient": "Axial",
                    "SliceThickness": [2, ">"],
                },
            },
            {"name": "CT Series 5", "conditions": {"ImageType": ["PRIMARY", "!SECONDARY"]}},
            {"name": "no conditions: skipped"},
        ]
    }
    (tmp_path / "rules.json").write_text(json.dumps(sample))

    rules = load_rules(tmp_path / "rules.json")

    assert [s.name for s in rules.selections] == ["CT Series 3", "CT Series 4", "CT Series 5"]
    assert rules.match(SeriesAttributes(head_ct())) == "CT Series 3"
    assert rules.match(SeriesAttributes(head_ct(SliceThickness=1.0))) == "CT Series 5"
    assert rules.keywords() >= {"ImageType", "ImageOrientationPatient", "PatientPosition"}


@pytest.mark.parametrize(
    ("rules", "message"),
    [
        ([], "selections"),
        ({"selection": []}, "selections"),
        ({"selections": []}, "selections"),
        ({"selections": [{"name": "a"}]}, "no selection has conditions"),
        ({"selections": [{"name": "a", "conditions": {"Modality": "(CT"}}]}, "regular"),
        ({"selections": [{"name": "a", "conditions": {"ImageOrientationPatient": "Up"}}]}, "Axial"),
        ({"selections": [{"name": "a", "conditions": {"SliceThickness": [2, "~"]}}]}, "relation"),
        ({"selections": [{"name": "a", "conditions": {"Modality": {"is": "CT"}}}]}, "string"),
        ({"selections": [{"name": "a", "conditions": ["Modality"]}]}, "object"),
    ],
)
def test_bad_rules_are_refused_with_their_place(rules, message):
    with pytest.raises(RuleError, match=message):
        parse_rules(rules, source="site.json")


def test_a_rules_file_that_is_missing_or_not_json_is_refused(tmp_path):
    with pytest.raises(RuleError, match="cannot be read"):
        load_rules(tmp_path / "missing.json")
    (tmp_path / "rules.json").write_text("{selections: []")
    with pytest.raises(RuleError, match="not valid JSON"):
        load_rules(tmp_path / "rules.json")


# ICHLabel's default rules


@pytest.mark.parametrize("description", [vendor.series_description for vendor in VENDORS])
def test_the_defaults_take_every_phantom_vendors_series(description):
    assert default_rules().match(SeriesAttributes(head_ct(SeriesDescription=description)))


@pytest.mark.parametrize(
    "description",
    [
        "CT HEAD WITHOUT CONTRAST",
        "HEAD WO CONTRAST",
        "HEAD W/O CON",
        "CT HEAD WO IV CONTRAST",
        "HEAD WITHOUT IV CONTRAST",
        "Non-contrast head",
        "non contrast brain 5mm",
        "CT Schädel ohne KM",
        "Kopf ohne Kontrast",
        "unenhanced head",
        "HEAD C-",
        "ROUTINE HEAD",
        "LOW DOSE HEAD",
    ],
)
def test_the_defaults_take_non_contrast_head_series_by_description(description):
    series = head_ct(SeriesDescription=description, BodyPartExamined=None)
    assert default_rules().match(SeriesAttributes(series)) == (
        "Non-contrast head CT (by description)"
    )


@pytest.mark.parametrize(
    "description",
    [
        "HEAD W/ CONTRAST",
        "HEAD W CONTRAST",
        "Head C+",
        "HEAD POST CONTRAST",
        "HEAD CONTRAST",
        "HEAD W IV CONTRAST",
        "head w/con",
        "Brain enhanced",
        "Kopf mit KM",
        "CTA HEAD NECK",
        "CT ANGIO COW",
        "Perfusion 4D",
        "CT venography",
        "Topogram 0.6 T20s",
        "Scout",
        "LOCALIZER",
        "Surview",
        "Dose Report",
    ],
)
def test_the_defaults_leave_contrast_angiography_and_localizer_series(description):
    for body_part in ("HEAD", None):
        series = head_ct(SeriesDescription=description, BodyPartExamined=body_part)
        assert default_rules().match(SeriesAttributes(series)) is None


def test_the_defaults_leave_localizer_images_other_planes_and_other_parts():
    rules = default_rules()
    assert rules.match(SeriesAttributes(head_ct())) == "Non-contrast head CT"
    localizer = ["ORIGINAL", "PRIMARY", "LOCALIZER"]
    assert rules.match(SeriesAttributes(head_ct(ImageType=localizer))) is None
    derived = ["DERIVED", "SECONDARY", "REFORMATTED"]
    assert rules.match(SeriesAttributes(head_ct(ImageType=derived))) is None
    assert rules.match(SeriesAttributes(head_ct(ImageOrientationPatient=CORONAL))) is None
    assert rules.match(SeriesAttributes(head_ct(Modality="MR"))) is None
    chest = head_ct(BodyPartExamined="CHEST", SeriesDescription="THORAX 5mm")
    assert rules.match(SeriesAttributes(chest)) is None
    assert rules.match(SeriesAttributes(head_ct(BodyPartExamined=None))) is not None
    assert parse_rules(json.loads(json.dumps(DEFAULT_RULES))) == rules  # plain JSON, as shipped


def test_a_named_contrast_agent_is_contrast_and_none_is_not():
    assert contrast_given(SeriesAttributes(head_ct(ContrastBolusAgent="OMNIPAQUE 350")))
    assert contrast_given(SeriesAttributes(head_ct(ContrastBolusAgent="Iomeron 400")))
    for none in (None, "", "NONE", "No", " none "):
        assert not contrast_given(SeriesAttributes(head_ct(ContrastBolusAgent=none)))
